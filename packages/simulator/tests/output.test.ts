import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, sandbox, shell } from '../../../tests/shipped/sandbox';

/**
 * What tradai-sim prints for people, through the shipped bin as a user runs it (`npm run simulate`
 * from the root of a clone): a sweep's leaderboard instead of its S3 objects, a deploy's record and
 * lease, and one line, with a suggestion, for a mistyped name or an unreadable file.
 */
let box: ReturnType<typeof sandbox>;
beforeAll(() => {
  box = sandbox();
});
afterAll(() => box.remove());

const simulate = (args: string) => {
  const run = shell(`npm run simulate -- ${args}`, box.dir);
  // No run may fall back to the sources: that would test them, not the bundle.
  expect(run.stderr).not.toContain('running the TypeScript sources');
  return { ...run, lines: run.stdout.split('\n') };
};

/** The rows of the leaderboard table: the lines after its header, up to the first that is not a row. */
const tableRows = (lines: string[]) => {
  const header = lines.findIndex((line) => /^ {2}rank +variant /.test(line));
  expect(header).toBeGreaterThan(-1);
  const rows: string[][] = [];
  for (const line of lines.slice(header + 1)) {
    if (!/^ +\d+ {2,}\S/.test(line)) break;
    rows.push(line.trim().split(/ {2,}/));
  }
  return { header: lines[header] ?? '', rows };
};

interface Ranked {
  rank: number;
  run_id: string;
  metric: number | null;
  total_return: number | null;
  max_drawdown: number | null;
  total_trades: number | null;
}

describe('backtest-sweep: the leaderboard, not the S3 objects', () => {
  it('prints the top 10 of 24 as a table of what aggregate-sweep ranked, the S3 objects as one line; exit 0', () => {
    // Act
    const run = simulate('backtest-sweep');
    const json = simulate('backtest-sweep --json');

    // Assess: a screen, not 370 lines
    expect(run.status).toBe(0);
    expect(run.lines.length).toBeLessThan(80);
    expect(run.stdout).toContain(
      'Leaderboard: 24 variants of sweep-20260105-strategytestv3-grid, ranked by sharpe_ratio (higher is better)',
    );
    const { header, rows } = tableRows(run.lines);
    // Every parameter of the grid varies: each has its column.
    expect(header).toMatch(
      /^ {2}rank +variant +minimal_roi\.0 +stoploss +trailing_stop +trades +profit % +max drawdown % +sharpe_ratio$/,
    );
    expect(rows).toHaveLength(10);
    expect(run.stdout).toMatch(
      /^ {2}10 of 24 shown; --top N or --json for all\. Variant \d+ ran as sweep-20260105-strategytestv3-grid-\d+\.$/m,
    );
    // The rows are leaderboard.json's, in its order (no ranking of the CLI's own)...
    expect(json.status).toBe(0);
    const board = JSON.parse(json.stdout.slice(json.stdout.indexOf('{'))).leaderboard;
    expect(board).toMatchObject({ sweep_id: 'sweep-20260105-strategytestv3-grid', rank_by: 'sharpe_ratio' });
    expect(board.ranked).toHaveLength(24);
    const expected = (board.ranked as Ranked[])
      .slice(0, 10)
      .map((r) => [
        String(r.rank),
        r.run_id.replace('sweep-20260105-strategytestv3-grid-', ''),
        String(r.total_trades),
        r.total_return?.toFixed(2),
        r.max_drawdown?.toFixed(2),
        r.metric?.toFixed(2),
      ]);
    expect(rows.map((row) => [row[0], row[1], ...row.slice(5)])).toEqual(expected);
    // ...and the objects it wrote are counted, not listed
    expect(run.stdout).toMatch(
      /^ {2}s3 +\d{3} objects written, \d{2} deleted, under s3:\/\/tradai-local-backtest-runs\/ \(--verbose lists them\)$/m,
    );
    expect(run.stdout).not.toContain('s3 written');
    expect(run.stdout).toMatch(/^ {2}nested run +24 executions, sweep-20260105-strategytestv3-grid-0 to /m);
    expect(run.stdout).toContain('As the case expects (SUCCEEDED).');
  });

  it('--dry-run prices a sweep before it starts and runs nothing; over the budget it is refused by field (exit 1)', () => {
    // Act
    const priced = simulate('backtest-sweep --case Sweep1000 --dry-run');
    const over = shell(
      'TRADAI_MAX_SWEEP_USD=10 npm run --silent simulate -- backtest-sweep --case Sweep1000 --dry-run',
      box.dir,
    );
    const misused = shell('npm run --silent simulate -- backtest --dry-run', box.dir);

    // Assess
    expect(priced.status).toBe(0);
    expect(priced.stdout).toContain(
      '1,000 backtest executions, as 100 child executions of 10 variants each, 5 at once (50 variants)',
    );
    expect(priced.stdout).toMatch(
      /Bill at most: \$\d+\.\d\d \(Step Functions \$\d+\.\d\d, Fargate Spot \$\d+\.\d\d\)/,
    );
    expect(priced.stdout).not.toContain('What changed in the world');
    expect(over.status).toBe(1);
    expect(over.stdout).toMatch(
      /^Refused before it starts: Invalid sweep request: grid: 1000 variants would cost up to \$\d+\.\d\d .* over this stage's \$10 a sweep/m,
    );
    expect(misused.status).toBe(2);
    expect(misused.stderr).toContain(
      '--dry-run prices a sweep before it starts: it is for backtest-sweep, not backtest',
    );
  });

  it('FailuresBeyondTolerance: the partial leaderboard and the failures; --verbose lists the S3 objects; --top 3', () => {
    // Act
    const run = simulate('backtest-sweep --case FailuresBeyondTolerance --top 3 --verbose');

    // Assess
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('FAILED  SweepToleranceExceededError');
    expect(run.stdout).toContain(
      'Leaderboard: 20 of 24 variants of sweep-20260105-strategytestv3-grid, ranked by sharpe_ratio (higher is better); 4 failed',
    );
    const { rows } = tableRows(run.lines);
    expect(rows.map((row) => row[0])).toEqual(['1', '2', '3']);
    expect(run.stdout).toMatch(/^ {2}3 of 20 shown; --top N or --json for all\./m);
    expect(run.stdout).toContain(
      'Re-run the failed variants: {"rerun_failed": {"sweep_id": "sweep-20260105-strategytestv3-grid", "attempt": 1}}',
    );
    const failed = run.lines.filter((line) => /^ {4}variant \d+ +\S/.test(line));
    expect(failed).toHaveLength(3);
    expect(run.stdout).toMatch(/^ {2}4 failed \(3 shown\):$/m);
    expect(run.stdout).toMatch(
      /^ {2}s3 written +s3:\/\/tradai-local-backtest-runs\/sweeps\/.*\/leaderboard\.json$/m,
    );
    expect(run.stdout).toContain('As the case expects (FAILED SweepToleranceExceededError).');
  });

  it('a grid with a fixed parameter: only the parameters that differ get a column', () => {
    // Prepare: the sample sweep, its trailing stop fixed, four variants ranked by drawdown
    const sample = JSON.parse(readFileSync(path.join(REPO, 'events/backtest-sweep.json'), 'utf8'));
    writeFileSync(
      path.join(box.dir, 'fixed-trailing.json'),
      JSON.stringify({
        ...sample,
        sweep_id: 'sweep-20260105-fixed-trailing',
        grid: { stoploss: [-0.05, -0.1], minimal_roi: [{ 0: 0.04 }, { 0: 0.02 }], trailing_stop: [true] },
        rank_by: 'max_drawdown',
      }),
    );

    // Act
    const run = simulate('backtest-sweep --input fixed-trailing.json');

    // Assess: no trailing_stop column, and drawdown (lower is better) is not a column twice
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('ranked by max_drawdown (lower is better)');
    const { header, rows } = tableRows(run.lines);
    expect(header).toMatch(/^ {2}rank +variant +minimal_roi\.0 +stoploss +trades +profit % +max drawdown %$/);
    expect(rows).toHaveLength(4);
    const drawdowns = rows.map((row) => Number(row[6]));
    expect(drawdowns).toEqual([...drawdowns].sort((a, b) => a - b));
    expect(run.stdout).not.toContain('--top N');
  });
});

describe('deploy: what changed', () => {
  const changed = (stdout: string) =>
    stdout.slice(stdout.indexOf('What changed in the world'), stdout.indexOf('The bill'));

  it('shows the deployments record, and the service lease taken and released by the deploy', () => {
    // Act
    const run = simulate('deploy');

    // Assess
    expect(run.status).toBe(0);
    const section = changed(run.stdout);
    expect(section).toMatch(
      /^ {2}deployments record deploy-20260105-strategytestv3-dry-run: \{.*"status":"DEPLOYED".*"service_name":"tradai-local-dry-run-strategytestv3"/m,
    );
    expect(section).toMatch(
      /^ {2}lease +tradai-local-dry-run-strategytestv3 taken: \{"execution_arn":"arn:aws:states:[^"]+:deploy-20260105-strategytestv3-dry-run","deployment_id":"deploy-20260105-strategytestv3-dry-run",.*"expires_at":"2026-/m,
    );
    expect(section).toMatch(/^ {2}lease +tradai-local-dry-run-strategytestv3 released by the deploy$/m);
  });

  it('an aborted deploy: the lease released after the execution ended, by reconcile-run; both in --json', () => {
    // Act
    const run = simulate('deploy --case AbortedWhileHoldingLease');
    const json = simulate('deploy --case AbortedWhileHoldingLease --json');

    // Assess
    expect(run.status).toBe(0);
    expect(changed(run.stdout)).toMatch(
      /^ {2}lease +tradai-local-dry-run-strategytestv3 released after the execution ended \(reconcile-run\)$/m,
    );
    const world = JSON.parse(json.stdout.slice(json.stdout.indexOf('{'))).world;
    expect(world.leases).toEqual([
      expect.objectContaining({
        service_name: 'tradai-local-dry-run-strategytestv3',
        taken: expect.objectContaining({ deployment_id: 'deploy-20260105-strategytestv3-dry-run' }),
        released: 'after the execution ended (reconcile-run)',
      }),
    ]);
  });
});

describe('a mistyped name: one line, a suggestion, exit 2', () => {
  it.each([
    ['backtset', 'unknown workflow "backtset": did you mean "backtest"? (--help lists them)'],
    [
      'backtest --case HapyPath',
      'unknown case "HapyPath" of backtest: did you mean "HappyPath"? (backtest --list lists them)',
    ],
    ['backtest --reprot x.html', 'unknown option --reprot: did you mean --report? (--help lists them)'],
  ])('npm run simulate -- %s', (args, message) => {
    // Act
    const run = simulate(args);

    // Assess
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`tradai-sim: ${message}\n`);
    expect(run.stdout).not.toContain('Usage');
  });

  it('--help prints the usage, with --top and --verbose; exit 0', () => {
    const run = simulate('--help');
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('Usage: tradai-sim <workflow>');
    expect(run.stdout).toMatch(/^ {2}--top <n> /m);
    expect(run.stdout).toMatch(/^ {2}--verbose /m);
  });
});

describe('an input or world file that cannot be read: its path and why, exit 2', () => {
  const files = () => {
    const at = (name: string) => path.join(box.dir, name);
    mkdirSync(at('a-directory'), { recursive: true });
    writeFileSync(at('trailing-comma.json'), '{\n  "run_id": "r-1",\n  "timeframe": "1h",\n}\n');
    writeFileSync(at('unquoted.json'), '{\n  "run_id": "r-1",\n  "auto_sync": tru\n}\n');
    writeFileSync(at('locked.json'), '{}');
    chmodSync(at('locked.json'), 0o000);
  };
  // Root reads any file whatever its mode; a write-only sysctl it cannot.
  const locked = process.getuid?.() === 0 ? '/proc/sys/vm/drop_caches' : 'locked.json';

  it.each([
    ['--input nowhere.json', 'cannot read the input file nowhere.json: no such file'],
    ['--input a-directory', 'cannot read the input file a-directory: is a directory'],
    [`--input ${locked}`, `cannot read the input file ${locked}: permission denied`],
    [
      '--input trailing-comma.json',
      'the input file trailing-comma.json is not JSON at line 4 (column 1): Expected double-quoted property name',
    ],
    [
      '--world unquoted.json',
      "the world file unquoted.json is not JSON at line 3 (column 19): Unexpected token '\\n'",
    ],
  ])('npm run simulate -- backtest %s', (args, message) => {
    // Prepare
    files();

    // Act
    const run = simulate(`backtest ${args}`);

    // Assess
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`tradai-sim: ${message}\n`);
  });
});
