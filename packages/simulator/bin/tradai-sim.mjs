#!/usr/bin/env node
// tradai-sim: the workflow simulator. The engine and the handlers are TypeScript sources (the
// packages export them as such), so they load through tsx, with no build step.
import { register } from 'tsx/esm/api';

// The handlers create their loggers, metrics and SDK clients when imported: quiet and local first.
Object.assign(process.env, {
  POWERTOOLS_LOG_LEVEL: process.env.TRADAI_SIM_LOG_LEVEL ?? 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_REGION: 'eu-west-1',
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

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
