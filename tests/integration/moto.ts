/*
 * moto_server, the AWS-compatible server the integration tier runs against: started on a free
 * loopback port, and stopped by its own process id. Where it is not installed, the tier says so
 * and fails: it does not pretend to pass.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

export const MOTO_INSTALL = 'pip install "moto[server]"';

/** The moto_server on PATH, or why there is none. */
export const findMoto = (): { ok: true; command: string } | { ok: false; why: string } => {
  const found = spawnSync('moto_server', ['--help'], { encoding: 'utf8' });
  if (found.error || found.status !== 0)
    return {
      ok: false,
      why: `moto_server is not on PATH, so the integration tier cannot run. Install it with ${MOTO_INSTALL}.`,
    };
  return { ok: true, command: 'moto_server' };
};

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });

export interface Moto {
  endpoint: string;
  pid: number;
  /** Everything moto printed: its notes on what it does not support are read from it. */
  log: () => string;
  stop: () => Promise<void>;
}

/** Starts moto_server on a free loopback port and waits until it answers. */
export const startMoto = async (): Promise<Moto> => {
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'false' },
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}:\n${output}`);
    try {
      const answer = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (answer.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`moto_server did not answer on ${endpoint} within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Lambda without Docker: Invoke answers at once, without running code (reconcile-run's notice).
  await fetch(`${endpoint}/moto-api/config`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ lambda: { use_docker: false } }),
  });
  const pid = child.pid as number;
  return {
    endpoint,
    pid,
    log: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        process.kill(pid, 'SIGTERM');
      }),
  };
};
