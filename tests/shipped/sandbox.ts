import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** What a sandbox leaves out: the files a run writes there must be its own, not the checkout's. */
const PRIVATE = new Set(['.git', '.serverless', '.esbuild', '.turbo', '.bench']);

/**
 * A fresh directory that looks like the checkout's root (every top-level entry linked, so npm finds
 * package.json and its scripts, and sls finds serverless.yml) but is not it: what a command writes
 * (my-request.json, run.html, .serverless/) lands here and goes with it. The commands run exactly
 * as the README writes them, from the root of a clone, without touching the checkout.
 */
export const sandbox = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tradai-shipped-'));
  for (const entry of readdirSync(REPO)) {
    if (PRIVATE.has(entry)) continue;
    // osls takes a linked serverless.yml for no service at all: the file itself is copied.
    if (entry === 'serverless.yml') copyFileSync(path.join(REPO, entry), path.join(dir, entry));
    else symlinkSync(path.join(REPO, entry), path.join(dir, entry));
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
};

/** The environment of a newcomer's shell: no AWS keys, no test runner's settings, no colour. */
export const userEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(AWS_|POWERTOOLS_|VITEST|TEST$|NODE_ENV$|npm_|TRADAI_SIM_|TURBO_)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, NO_COLOR: '1', NO_UPDATE_NOTIFIER: '1', ...extra };
};

/** A shell command line run in `cwd` as a user types it: bash, their environment, no TTY. */
export const shell = (command: string, cwd: string, timeout = 120_000) => {
  const run = spawnSync('bash', ['-o', 'pipefail', '-c', command], {
    cwd,
    env: userEnv(),
    encoding: 'utf8',
    timeout,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, error: run.error };
};
