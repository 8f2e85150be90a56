#!/usr/bin/env node
// Bundles a Lambda package the way `sls package` does (options from esbuild.config.cjs).
// Usage, from a package folder: node ../../scripts/bundle.mjs  -> dist/index.cjs
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const { shippedBuildOptions } = require('../esbuild.config.cjs');

/** esbuild with nothing but bundling on: no minify, esbuild's default main fields. */
export const plainBuildOptions = { bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent' };

/** Bundles `entry` to `outfile` with the shipped options (or `options`). */
export const bundle = (entry, outfile, options = shippedBuildOptions) =>
  build({ ...options, entryPoints: [entry], outfile, logLevel: 'silent' });

if (import.meta.url === `file://${process.argv[1]}`) {
  const packageDir = process.cwd();
  await bundle(path.join(packageDir, 'src/index.ts'), path.join(packageDir, 'dist/index.cjs'));
  console.log(`bundled ${path.basename(packageDir)} -> dist/index.cjs`);
}
