import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const slsBin = require.resolve('osls/bin/serverless.js');

/** The environment of a machine with no AWS account: no keys, no profile, no instance metadata. */
export const noCredentialsEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_CONFIG_FILE: '/nonexistent/config',
  };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
    delete env[name];
  return env;
};

export const runSls = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [slsBin, ...args], {
    cwd: repoRoot,
    env: { ...noCredentialsEnv(), ...env },
    encoding: 'utf8',
  });

export interface PackagedStack {
  dir: string;
  template: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
  functions: Record<string, { name: string; handler: string }>;
}

/** Runs `sls package --stage dev` into a fresh folder (once per test run: global-setup.ts). */
export const packageInto = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tradai-stack-'));
  const result = runSls(['package', '--stage', 'dev', '--package', dir]);
  if (result.status !== 0) throw new Error(`sls package failed:\n${result.stdout}\n${result.stderr}`);
  return dir;
};

/** What `sls package` produced in `dir`. */
export const readPackaged = (dir: string): PackagedStack => {
  const read = (file: string) => JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  return {
    dir,
    template: read('cloudformation-template-update-stack.json'),
    functions: read('serverless-state.json').service.functions,
  };
};

/** What one shipped zip may weigh (issue #2): 150 KB, the code and its source map together. */
export const ZIP_BUDGET_BYTES = 150 * 1024;

/** Each function's zip in the packaged folder, as `sls deploy` would upload it, and its size. */
export const shippedZips = (stack: PackagedStack) =>
  Object.entries(stack.functions).map(([key, fn]) => ({
    key,
    name: fn.name,
    bytes: statSync(path.join(stack.dir, `${key}.zip`)).size,
  }));
