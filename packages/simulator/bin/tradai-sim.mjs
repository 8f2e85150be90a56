#!/usr/bin/env node
// tradai-sim: the workflow simulator. It runs the build in dist/ (bin/build.mjs: one esbuild
// bundle of the engine and the handlers, made by `npm ci` and again whenever a source is newer),
// so a run starts without compiling TypeScript. Where esbuild cannot build, it says so and runs the
// sources through tsx instead.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { Script } from 'node:vm';
import { build, CODE_CACHE, DIST, stale } from './build.mjs';

// The handlers create their loggers, metrics and SDK clients when imported: quiet and local first.
Object.assign(process.env, {
  POWERTOOLS_LOG_LEVEL: process.env.TRADAI_SIM_LOG_LEVEL ?? 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_EC2_METADATA_DISABLED: 'true',
});
// The SDK's notice that it will need Node 22 in 2027 says nothing about the run.
const emit = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) =>
  String(warning?.message ?? warning).includes('NodeVersionSupportWarning') ||
  String(rest[0]?.type ?? rest[0]).includes('NodeVersionSupportWarning')
    ? undefined
    : emit(warning, ...rest);

// Piped into `head` or a pager that quits early: stop quietly, as Unix tools do.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

/**
 * The build, compiled with V8's code cache when an earlier run left one: parsing and compiling
 * 1.4 MB of JavaScript is a third of a start (docs/decisions/0038). `save()` writes the cache after
 * a run, so it holds every function that run compiled, not only the top level; a cache V8 rejects
 * (another Node, another build) is simply written again.
 */
const compiled = () => {
  let cachedData;
  try {
    cachedData = readFileSync(CODE_CACHE);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(Module.wrap(readFileSync(DIST, 'utf8')), { filename: DIST, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(DIST), module, DIST, path.dirname(DIST));
  const save = () => {
    if (cachedData && !script.cachedDataRejected) return;
    try {
      // Written whole, then renamed: a run starting meanwhile never reads half a cache.
      const partial = `${CODE_CACHE}.${process.pid}`;
      writeFileSync(partial, script.createCachedData());
      renameSync(partial, CODE_CACHE);
    } catch {
      // A read-only checkout compiles at every start; nothing else changes.
    }
  };
  return { ...module.exports, save };
};

const load = async () => {
  try {
    if (stale()) await build();
    return compiled();
  } catch (error) {
    // Said every time: a bundle that fails to build is a defect, and running the sources instead
    // must not hide it (the shipped-CLI tests fail on this line).
    console.error(
      `tradai-sim: the build failed, running the TypeScript sources instead (slower): ${error.message}`,
    );
    if (process.env.TRADAI_SIM_DEBUG) console.error(error);
    const { register } = await import('tsx/esm/api');
    register();
    return import('../src/cli.ts');
  }
};
const { main, save } = await load();
process.exitCode = await main(process.argv.slice(2));
save?.();
