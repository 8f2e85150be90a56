import { runWorkflow, TABLE } from '@tradai/local-aws';
import { describe, expect, it } from 'vitest';

const SWEEP = 'sweep-20260105-strategytestv3-grid';
const BUCKET = 'tradai-local-backtest-runs';

/** The leaderboard the sweep wrote last, read back from the world's S3. */
const leaderboardOf = (run: Awaited<ReturnType<typeof runWorkflow>>) => {
  const object = run.world.getObject(BUCKET, `sweeps/${SWEEP}/leaderboard.json`);
  return JSON.parse(new TextDecoder().decode(object?.body)) as {
    attempt: number;
    ranked: { run_id: string; index: number }[];
    failures: { run_id: string; reason: string }[];
    not_run: number[];
    winner: { run_id: string } | null;
  };
};
/** The backtest executions a run started, by name. */
const backtestsOf = (run: Awaited<ReturnType<typeof runWorkflow>>) =>
  run.world.changes.flatMap((change) =>
    change.kind === 'states:start' && change.stateMachineArn.endsWith(':tradai-local-backtest')
      ? [change.name]
      : [],
  );

describe('a re-run of a sweep whose variants failed', () => {
  it('runs exactly the failed variants, as <sweep>-<index>r1, and merges them into the same leaderboard', async () => {
    // Arrange: 4 of 24 variants fail (the container exits 1 for them): past the 10 % tolerated.
    const first = await runWorkflow({ machine: 'backtest-sweep', caseName: 'FailuresBeyondTolerance' });
    expect(first.status).toBe('FAILED');
    const failed = leaderboardOf(first).failures.map((f) => f.run_id);
    expect(failed).toEqual([0, 1, 2, 3].map((i) => `${SWEEP}-${i}`));
    const before = new Set(backtestsOf(first));

    // Act: the re-run, in the same world, where those variants now succeed.
    const rerun = await runWorkflow({
      machine: 'backtest-sweep',
      input: { rerun_failed: { sweep_id: SWEEP, attempt: 1 } },
      world: first.world,
    });

    // Assess
    expect(rerun.status).toBe('SUCCEEDED');
    expect(rerun.states.slice(0, 3)).toEqual(['ValidateSweep', 'ClaimSweep', 'RecordRerunRunning']);
    const started = backtestsOf(rerun).filter((name) => !before.has(name));
    expect(started).toEqual([0, 1, 2, 3].map((i) => `${SWEEP}-${i}r1`));
    const board = leaderboardOf(rerun);
    expect(board).toMatchObject({ attempt: 1, failures: [], not_run: [] });
    expect(board.ranked.map((r) => r.index).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 24 }, (_, i) => i),
    );
    expect(rerun.world.record(TABLE, SWEEP)).toMatchObject({ status: 'COMPLETED', attempt: 1 });
  });

  it('refuses a second re-run with the same attempt by field, and runs nothing', async () => {
    // Arrange
    const first = await runWorkflow({ machine: 'backtest-sweep', caseName: 'FailuresBeyondTolerance' });
    const rerun = await runWorkflow({
      machine: 'backtest-sweep',
      input: { rerun_failed: { sweep_id: SWEEP, attempt: 1 } },
      world: first.world,
    });
    const count = backtestsOf(rerun).length;

    // Act
    const again = await runWorkflow({
      machine: 'backtest-sweep',
      input: { rerun_failed: { sweep_id: SWEEP, attempt: 1 } },
      world: rerun.world,
    });

    // Assess
    expect(again.status).toBe('FAILED');
    expect(again.error).toMatchObject({ Error: 'ValidationError' });
    expect(again.error?.Cause).toContain(
      "rerun_failed.attempt: the sweep's last attempt is 1: this one must be 2",
    );
    expect(backtestsOf(again)).toHaveLength(count);
  });
});

describe("a variant's timeout", () => {
  it('lets a variant that lost Spot and finished on on-demand end inside it: 92 simulated minutes, past the old 90', async () => {
    // Act: every variant's Spot task is reclaimed after 7 min; on-demand then runs 85 min.
    const run = await runWorkflow({ machine: 'backtest-sweep', caseName: 'VariantFallsBackToOnDemand' });

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.simulatedMs).toBeGreaterThan(90 * 60_000);
    expect(leaderboardOf(run).failures).toEqual([]);
  });
});
