// Writes the files generated from the stack declaration: `npm run generate`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { GENERATED_FILES, REPO_ROOT } from '@tradai/stack';

for (const [file, source] of Object.entries(GENERATED_FILES)) {
  writeFileSync(path.join(REPO_ROOT, file), source());
  console.log(`wrote ${file}`);
}
