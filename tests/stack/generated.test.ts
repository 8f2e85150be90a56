import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GENERATED_FILES, REPO_ROOT } from '@tradai/stack';
import { describe, expect, it } from 'vitest';

describe('the files generated from the stack declaration', () => {
  it.each(Object.entries(GENERATED_FILES))('%s is current (npm run generate writes it)', (file, source) => {
    // Act
    const committed = readFileSync(path.join(REPO_ROOT, file), 'utf8');

    // Assess
    expect(committed).toBe(source());
  });
});
