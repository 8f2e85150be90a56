// Builds tradai-sim into one file, dist/tradai-sim.mjs, with esbuild: the engine, the handlers and
// their SDK clients, no TypeScript to compile at start-up (docs/decisions/0036). `npm ci` runs it
// (the root `prepare`); bin/tradai-sim.mjs runs it again whenever a source is newer than the build.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUTDIR = path.join(HERE, '..', 'dist');
export const DIST = path.join(OUTDIR, 'tradai-sim.mjs');
const INPUTS = path.join(HERE, '..', 'dist', 'inputs.json');
const REPO = path.resolve(HERE, '../../..');

/** Whether the build is missing, or older than any file it was built from. */
export const stale = () => {
  if (!existsSync(DIST) || !existsSync(INPUTS)) return true;
  const built = statSync(DIST).mtimeMs;
  const inputs = JSON.parse(readFileSync(INPUTS, 'utf8'));
  return inputs.some((file) => {
    try {
      return statSync(path.join(REPO, file)).mtimeMs > built;
    } catch {
      return true;
    }
  });
};

export const build = async () => {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { 'tradai-sim': path.join(HERE, '..', 'src', 'cli.ts') },
    outdir: OUTDIR,
    outExtension: { '.js': '.mjs' },
    // Each handler, and the report's layout engine, in a chunk of its own: loaded when first used.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Smaller is faster to compile at start-up; names stay (errors and classes keep theirs).
    minify: true,
    keepNames: true,
    metafile: true,
    logLevel: 'warning',
    mainFields: ['module', 'main'],
    // The CommonJS the bundle holds (the SDK, sinon) calls require(): give it one.
    banner: {
      js: "import { createRequire as __tradaiRequire } from 'node:module'; const require = __tradaiRequire(import.meta.url);",
    },
  });
  const inputs = Object.keys(result.metafile.inputs)
    .map((file) => path.relative(REPO, path.resolve(process.cwd(), file)))
    // Dependencies change only through npm, which rebuilds (prepare): the lock file stands for them.
    .filter((file) => !file.startsWith('..') && !file.includes('node_modules/'))
    .concat('package-lock.json');
  writeFileSync(INPUTS, JSON.stringify(inputs));
  return inputs.length;
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = performance.now();
  const files = await build();
  console.log(
    `tradai-sim built: ${path.relative(process.cwd(), DIST)} from ${files} files in ${Math.round(performance.now() - started)} ms`,
  );
}
