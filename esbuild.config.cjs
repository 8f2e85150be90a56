// One set of bundling options for `sls package` (serverless-esbuild reads this file through
// custom.esbuild.config) and for `npm run bench`, so the benchmark measures what ships.
// Why these options: docs/decisions/0002-bundling.md.
const { readdirSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { decode, encode } = require('@jridgewell/sourcemap-codec');

/**
 * A source map of our own code only (docs/decisions/0028). esbuild maps every bundled module; the
 * AWS SDK's entries make a map 5x the bundle. Each run of node_modules segments becomes one segment
 * of a placeholder source, so a frame there prints as the bundle's position, never as a wrong line
 * of ours; our sources are
 * named from the repository root (`/packages/<package>/src/<file>.ts`).
 */
/** The one source every bundled dependency maps to (lambda-kit's stack-traces.ts leaves it be). */
const DEPENDENCIES_SOURCE = 'node_modules';

const ownSourcesOnly = {
  name: 'own-sources-only',
  setup(build) {
    const { outfile, outdir } = build.initialOptions;
    const maps = () =>
      outfile
        ? [`${outfile}.map`]
        : readdirSync(outdir, { recursive: true })
            .filter((name) => String(name).endsWith('.js.map'))
            .map((name) => path.join(outdir, String(name)));
    build.onEnd((result) => {
      if (result.errors.length > 0) return;
      for (const output of maps()) {
        const file = path.resolve(output);
        const map = JSON.parse(readFileSync(file, 'utf8'));
        if (map.sourceRoot === '/') continue; // rewritten by an earlier build into the same folder
        const kept = [];
        const index = map.sources.map((source) => {
          if (source.includes('node_modules/')) return -1;
          kept.push(
            path
              .relative(__dirname, path.resolve(path.dirname(file), source))
              .split(path.sep)
              .join('/'),
          );
          return kept.length - 1;
        });
        // Node reads a one-field segment as "same source as before": runs of dependency code
        // point at one placeholder source instead, which the kit leaves unmapped.
        const dependencies = kept.length;
        const lines = decode(map.mappings).map((segments) => {
          const out = [];
          for (const segment of segments) {
            const source = segment.length > 1 ? index[segment[1]] : -1;
            if (source >= 0) out.push([segment[0], source, segment[2], segment[3]]);
            else if (out.at(-1)?.[1] !== dependencies) out.push([segment[0], dependencies, 0, 0]);
          }
          return out;
        });
        const sources = [...kept, DEPENDENCIES_SOURCE];
        writeFileSync(
          file,
          JSON.stringify({ version: 3, sourceRoot: '/', sources, names: [], mappings: encode(lines) }),
        );
      }
    });
  },
};

/**
 * An AWS SDK client imports its whole package.json for one field, `version` (its user agent), and
 * esbuild keeps the whole file of a default JSON import: about 2.5 KB minified per client. The
 * client sees the same version; the rest of the file (scripts, dependencies...) no longer ships.
 */
const sdkClientVersionOnly = {
  name: 'sdk-client-version-only',
  setup(build) {
    build.onLoad(
      { filter: /[\\/]node_modules[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]package\.json$/ },
      (args) => ({
        contents: JSON.stringify({ version: JSON.parse(readFileSync(args.path, 'utf8')).version }),
        loader: 'json',
      }),
    );
  },
};

/** esbuild options of the shipped bundles. */
const shippedBuildOptions = {
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  // Prefer the SDK's and Powertools' ES module builds: esbuild can tree-shake them.
  mainFields: ['module', 'main'],
  // Stack traces point at the TypeScript sources (docs/decisions/0028): a linked map without the
  // sources' text (mappings and file names are all a stack trace needs), which the kit's handler
  // reads on the first failure (lambda-kit/src/stack-traces.ts).
  sourcemap: 'linked',
  sourcesContent: false,
  plugins: [sdkClientVersionOnly, ownSourcesOnly],
  legalComments: 'none',
  alias: {
    // Lambda (and `sls invoke local`) always supply credentials in the environment.
    '@aws-sdk/credential-provider-node': path.join(
      __dirname,
      'packages/lambda-kit/src/bundling/env-credential-provider.ts',
    ),
  },
};

/** serverless-esbuild calls this with the serverless instance. */
module.exports = () => ({
  ...shippedBuildOptions,
  // Bundle everything, the AWS SDK included: the runtime's SDK version is not ours to pin.
  exclude: [],
  packager: 'npm',
});
module.exports.shippedBuildOptions = shippedBuildOptions;
