// The Framework reads the stack declaration through `${file(./packages/stack/serverless.cjs):…}`.
// It is TypeScript: esbuild compiles it here, in memory, each time `sls` loads the file.
const path = require('node:path');
const Module = require('node:module');
const { buildSync } = require('esbuild');

const entry = path.join(__dirname, 'src', 'serverless.ts');
const { outputFiles } = buildSync({
  entryPoints: [entry],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  write: false,
  outfile: path.join(__dirname, 'serverless.out.cjs'),
  logLevel: 'silent',
});
const compiled = new Module(entry, module);
compiled.filename = entry;
compiled.paths = Module._nodeModulePaths(__dirname);
compiled._compile(outputFiles[0].text, entry);

module.exports = compiled.exports;
