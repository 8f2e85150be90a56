// One set of bundling options for `sls package` (serverless-esbuild reads this file through
// custom.esbuild.config) and for `npm run bench`, so the benchmark measures what ships.
// Why these options: docs/decisions/0002-bundling.md.
const path = require('node:path');

/** esbuild options of the shipped bundles. */
const shippedBuildOptions = {
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  // Prefer the SDK's and Powertools' ES module builds: esbuild can tree-shake them.
  mainFields: ['module', 'main'],
  sourcemap: false,
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
