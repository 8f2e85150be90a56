import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MACHINES, readCases } from '@tradai/local-aws';
import { describe, expect, it } from 'vitest';
import { main } from '../src';

const BIN = fileURLToPath(new URL('../bin/tradai-sim.mjs', import.meta.url));

/** The CLI as a newcomer runs it: a child process, no TTY. */
const sim = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

/** The CLI in-process, its output captured. */
const capture = async (args: string[]) => {
  let out = '';
  let err = '';
  const stream = (append: (text: string) => void) =>
    ({ write: (text: string) => append(text), isTTY: false }) as unknown as NodeJS.WriteStream;
  const code = await main(
    args,
    stream((t) => {
      out += t;
    }),
    stream((t) => {
      err += t;
    }),
  );
  return { code, out, err };
};

describe('tradai-sim, as a subprocess', () => {
  it('runs the backtest happy path: a line per state, the output, the world, the cost; exit 0; no colour off a TTY', () => {
    // Act
    const run = sim(['backtest']);

    // Assess
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^ {2}ValidateRequest +Task +ok/m);
    expect(run.stdout).toMatch(/^ {2}RunBacktest +Task +ok +sim 42 min/m);
    expect(run.stdout).toContain('SUCCEEDED  output:');
    expect(run.stdout).toContain('"total_trades": 179');
    expect(run.stdout).toMatch(
      /workflow-state record bt-20260105-strategytestv3-001: \{"status":"COMPLETED"/,
    );
    // What it wrote, in one line (--verbose lists the objects: tests/output.test.ts).
    expect(run.stdout).toMatch(
      /^ {2}s3 +5 objects written, 2 deleted, under s3:\/\/tradai-local-backtest-runs\/runs\/bt-20260105-strategytestv3-001\/ \(--verbose lists them\)$/m,
    );
    // The whole bill: 15 transitions, ten Lambda invocations, 42 min of 1 vCPU / 2 GB on Fargate Spot.
    expect(run.stdout).toMatch(
      /Step Functions +tradai-local-backtest \(bt-20260105-strategytestv3-001\) +\$0\.000375/,
    );
    expect(run.stdout).toMatch(
      /Fargate +tradai-local-strategy-StrategyTestV3:1 on FARGATE_SPOT: 1 vCPU, 2 GB for 42 min +\$0\.0104/,
    );
    // Lambda is billed its measured time (plus 50 ms a call), so its cents move with the machine's
    // load: the total is read from the line and checked as the sum of its parts, each printed to
    // three significant digits.
    const total =
      /\$(0\.\d+) per execution \(Step Functions \$0\.000375, Lambda \$(0\.0000\d+), Fargate \$0\.0104\); \$(0\.\d+) a month at 50 executions/.exec(
        run.stdout,
      );
    expect(total).not.toBeNull();
    const [perRun, lambda, perMonth] = [total?.[1], total?.[2], total?.[3]].map(Number) as [
      number,
      number,
      number,
    ];
    expect(lambda).toBeLessThan(0.0001);
    expect(Math.abs(perRun - (0.000375 + lambda + 0.0104))).toBeLessThanOrEqual(0.0001);
    expect(Math.abs(perMonth - perRun * 50)).toBeLessThanOrEqual(0.01);
    expect(run.stdout).toContain('As the case expects (SUCCEEDED).');
    expect(run.stdout).not.toContain('\u001b[');
  });

  it.each([
    ['backtest-simplified', 'EcsTimeout', 'States.Timeout'],
    ['data-sync', 'GapsAboveThreshold', 'DataQualityError'],
    ['deploy', 'RolloutNeverStabilises', 'RolloutTimedOutError'],
  ])('runs %s / %s with --json: FAILED with %s, as the case expects, exit 0', (workflow, caseName, error) => {
    // Act
    const run = sim([workflow, '--case', caseName, '--json']);

    // Assess
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      workflow,
      case: caseName,
      status: 'FAILED',
      as_expected: true,
      error: { Error: error },
    });
    expect(report.world.notifications).toEqual([
      expect.objectContaining({ attributes: expect.objectContaining({ status: 'FAILED' }) }),
    ]);
  });

  it('names the nearest workflow when the workflow is unknown, in one line, and exits 2', () => {
    const run = sim(['backtests']);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'tradai-sim: unknown workflow "backtests": did you mean "backtest"? (--help lists them)\n',
    );
  });

  it('points to --list when the case is unknown and none is near, in one line, and exits 2', () => {
    const run = sim(['deploy', '--case', 'Nope']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('tradai-sim: unknown case "Nope" of deploy (deploy --list lists them)\n');
  });

  it('names the field of a malformed input, and exits 1 because the run FAILED', () => {
    // Prepare
    const dir = mkdtempSync(path.join(tmpdir(), 'tradai-sim-'));
    const file = path.join(dir, 'input.json');
    writeFileSync(
      file,
      JSON.stringify({ run_id: 'r-1', strategy_name: 'MomentumStrategy', timeframe: '7m' }),
    );

    // Act
    const run = sim(['backtest', '--input', file]);

    // Assess
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('FAILED  ValidationError');
    expect(run.stdout).toMatch(/timeframe: must be one of/);
    expect(run.stdout).toMatch(/^FAILED\.$/m);
  });

  it('names an input file that is not JSON, and exits 2', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tradai-sim-'));
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, '{"run_id": ');
    const run = sim(['backtest', '--input', file]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      `tradai-sim: the input file ${file} is not JSON at line 1 (column 12): Unexpected end of JSON input\n`,
    );
  });

  it('names a missing fixture, and exits 2', () => {
    // Prepare: a fixtures folder with the world's seed but without freqtrade's result
    const dir = mkdtempSync(path.join(tmpdir(), 'fixtures-'));
    mkdirSync(path.join(dir, 'world'));
    copyFileSync(
      fileURLToPath(new URL('../../../fixtures/world/seed.json', import.meta.url)),
      path.join(dir, 'world/seed.json'),
    );

    // Act
    const run = sim(['backtest'], { TRADAI_FIXTURES_DIR: dir });

    // Assess
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/Fixture .*freqtrade\/backtest-result\.json is missing/);
  });

  it('colours only on request of a terminal, never with NO_COLOR', async () => {
    const { palette, colourWanted } = await import('../src/format');
    expect(colourWanted({ isTTY: true } as NodeJS.WriteStream, {})).toBe(true);
    expect(colourWanted({ isTTY: true } as NodeJS.WriteStream, { NO_COLOR: '1' })).toBe(false);
    expect(colourWanted({ isTTY: false } as NodeJS.WriteStream, {})).toBe(false);
    expect(palette(true).green('ok')).toBe('\u001b[32mok\u001b[0m');
    expect(palette(false).green('ok')).toBe('ok');
  });
});

describe('tradai-sim, every case of every workflow with --json', () => {
  const all = MACHINES.flatMap((machine) =>
    // A heavy case (Sweep1000) is the scenarios test's and the benchmark's, not replayed here.
    Object.entries(readCases(machine).cases)
      .filter(([, definition]) => !definition.heavy)
      .map(([name]) => [machine, name] as const),
  );

  it.each(all)('%s / %s ends as the case expects', async (machine, caseName) => {
    // Act
    const { code, out, err } = await capture([machine, '--case', caseName, '--json']);

    // Assess
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(JSON.parse(out)).toMatchObject({ workflow: machine, case: caseName, as_expected: true });
  });
});
