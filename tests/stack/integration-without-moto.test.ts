import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './package-stack';

const vitestBin = path.join(repoRoot, 'node_modules/vitest/vitest.mjs');

describe('npm run test:integration where moto_server is not installed', () => {
  it('says so, names the install, and fails: it never passes without running', () => {
    // Prepare: a PATH with Node and the system's tools, and no moto_server
    const PATH = [path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter);

    // Act
    const run = spawnSync(process.execPath, [vitestBin, 'run', '--config', 'vitest.integration.config.mts'], {
      cwd: repoRoot,
      env: { ...process.env, PATH },
      encoding: 'utf8',
      timeout: 60_000,
    });

    // Assess
    expect(run.status).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`).toContain(
      'moto_server is not on PATH, so the integration tier cannot run. Install it with pip install "moto[server]".',
    );
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/Tests +\d+ passed/);
  });
});
