// Builds tradai-sim into one file, dist/tradai-sim.cjs, with esbuild: the engine, the handlers and
// their SDK clients, no TypeScript to compile at start-up (docs/decisions/0036). `npm ci` runs it
// (the root `prepare`); bin/tradai-sim.mjs runs it again whenever a source is newer than the build.
// One CommonJS file, not ES modules, because V8 can cache a script's compiled code and Node 20
// cannot cache an ES module's (bin/tradai-sim.mjs, docs/decisions/0038).
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUTDIR = path.join(HERE, '..', 'dist');
export const DIST = path.join(OUTDIR, 'tradai-sim.cjs');
/** V8's code cache for DIST, written by the first run after a build (bin/tradai-sim.mjs). */
export const CODE_CACHE = path.join(OUTDIR, 'tradai-sim.v8-cache');
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

/**
 * The local engine imports asl-validator (and with it ajv and the ASL's JSON schemas, a third of the
 * bundle) when it loads, though it validates a definition only the first time it sees it
 * (packages/local-aws/src/machines.ts). In the build, the import is a stub that loads the real
 * module from node_modules on its first call, so a start with every definition seen before neither
 * compiles nor runs that code.
 */
const lazyAslValidator = {
  name: 'lazy-asl-validator',
  setup(build) {
    build.onResolve({ filter: /^asl-validator$/ }, (args) =>
      // The stub's own require() of it stays a require at run time (external).
      args.namespace === 'lazy'
        ? { path: 'asl-validator', external: true }
        : { path: 'asl-validator', namespace: 'lazy' },
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents:
        "module.exports = (...args) => { const m = require('asl-validator'); return (m.default ?? m)(...args); };",
      loader: 'js',
    }));
  },
};

/**
 * The bundle's dynamic imports, from esbuild's metafile: any left would crash the bin the first
 * time it ran one (see build), so the build refuses them.
 */
export const dynamicImports = (metafile) =>
  Object.values(metafile.outputs).flatMap((output) =>
    output.imports.filter((entry) => entry.kind === 'dynamic-import').map((entry) => entry.path),
  );

export const build = async () => {
  const esbuild = await import('esbuild');
  // An earlier build's files (the ES module chunks of older builds, a code cache) go first.
  rmSync(OUTDIR, { recursive: true, force: true });
  const result = await esbuild.build({
    plugins: [lazyAslValidator],
    entryPoints: [path.join(HERE, '..', 'src', 'cli.ts')],
    outfile: DIST,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // The bin runs this file as a vm.Script (for V8's code cache), and a Script has no module loader:
    // a dynamic import() in it throws ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING (elkjs for --report,
    // node:http in the SDK). Node 20's Script loses an importModuleDynamically option when it is
    // compiled from cached data, so the cure is here: every import() becomes a require()
    // (docs/decisions/0040), and the build refuses any left (dynamicImports).
    supported: { 'dynamic-import': false },
    // Loaded from node_modules when first used: the report's layout engine (1.6 MB), and the YAML
    // parser, which a start needs only when serverless.yml changed (packages/stack/src/local-cache.ts).
    external: ['elkjs', 'yaml'],
    // The sources are ES modules; in the bundle, import.meta.url is the bundle's own URL.
    define: { 'import.meta.url': '__tradaiModuleUrl' },
    banner: { js: "const __tradaiModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
    // Smaller is faster to compile at start-up; names stay (errors and classes keep theirs).
    minify: true,
    keepNames: true,
    metafile: true,
    // For profiling: SIM_SOURCEMAP=1 node bin/build.mjs, then node --enable-source-maps --cpu-prof.
    sourcemap: !!process.env.SIM_SOURCEMAP,
    logLevel: 'warning',
    mainFields: ['module', 'main'],
  });
  const dynamic = dynamicImports(result.metafile);
  if (dynamic.length > 0)
    throw new Error(
      `tradai-sim: the bundle keeps dynamic import()s, which a vm.Script cannot run: ${dynamic.join(', ')}`,
    );
  const inputs = Object.keys(result.metafile.inputs)
    .filter((file) => !file.startsWith('lazy:'))
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
