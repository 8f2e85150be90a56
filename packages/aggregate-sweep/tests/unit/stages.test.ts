import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import { DEFAULT_GATES, RANKINGS, sweepStage } from '@tradai/lambda-kit';
import { fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler, type Ranked, rank } from '../../src';

const s3Mock = mockClient(S3Client);
const BUCKET = 'tradai-dev-backtest-runs';
const SWEEP = 'oos-3';

/** A variant's figures: enough trades to be ranked, the given Sharpe and return. */
const figures = (sharpe: number, totalReturn: number, trades = 60) => ({
  sharpe_ratio: sharpe,
  total_return: totalReturn,
  total_trades: trades,
  max_drawdown: 4,
  backtest_days: 60,
  starting_balance: 1000,
  final_balance: 1000 * (1 + totalReturn / 100),
});
const request = (runId: string) => ({
  run_id: runId,
  start_date: '2024-01-01',
  end_date: '2024-03-01',
  config_overrides: { stoploss: -(1 + Number(runId.split('-').at(-1)?.replace(/\D.*$/, ''))) / 100 },
});

/** A batched child: `{Items: [{request}...]}` in, one outcome per item out. */
const batch = (outcomes: { runId: string; result?: Record<string, unknown>; error?: string }[]) => ({
  Name: `batch-${outcomes[0]?.runId}`,
  Status: 'SUCCEEDED',
  Input: JSON.stringify({ Items: outcomes.map((o) => ({ request: request(o.runId) })) }),
  Output: JSON.stringify(
    outcomes.map((o) =>
      o.result
        ? { run_id: o.runId, status: 'SUCCEEDED', result: o.result }
        : {
            run_id: o.runId,
            status: 'FAILED',
            error: { Error: 'States.TaskFailed', Cause: JSON.stringify({ Error: o.error }) },
          },
    ),
  ),
});

let objects: Record<string, unknown> = {};
const stageResults = (prefix: string, children: unknown[]) => {
  objects[`${prefix}/run-1/manifest.json`] = {
    ResultFiles: { SUCCEEDED: [{ Key: `${prefix}/run-1/SUCCEEDED_0.json` }], FAILED: [] },
  };
  objects[`${prefix}/run-1/SUCCEEDED_0.json`] = children;
};

const input = {
  sweep_id: SWEEP,
  rank_by: 'sharpe_ratio',
  top_n: 3,
  variant_count: 3,
  gates: DEFAULT_GATES,
  out_of_sample: { start_date: '2024-03-01', end_date: '2024-03-21', top_n: 2, share: 1 / 3 },
  tolerated_failure_percentage: 50,
  stage: sweepStage(BUCKET, SWEEP, 'in_sample', 0, 0),
};
const invoke = (event: unknown) => handler(event as never, fakeContext('tradai-dev-aggregate-sweep'));
const written = (key: string) =>
  JSON.parse(
    String(
      s3Mock
        .commandCalls(PutObjectCommand)
        .map((c) => c.args[0].input)
        .findLast((i) => i.Key === key)?.Body,
    ),
  );

beforeEach(() => {
  s3Mock.reset();
  objects = {};
  s3Mock.on(ListObjectsV2Command).callsFake(async ({ Prefix }: { Prefix: string }) => ({
    Contents: Object.keys(objects)
      .filter((key) => key.startsWith(Prefix))
      .map((Key) => ({ Key })),
  }));
  s3Mock.on(GetObjectCommand).callsFake(async ({ Key }: { Key: string }) => ({
    Body: sdkStreamMixin(Readable.from([Buffer.from(JSON.stringify(objects[Key]))])),
  }));
  s3Mock.on(PutObjectCommand).resolves({});
});

describe('the held-out stage', () => {
  beforeEach(() => {
    stageResults(`sweeps/${SWEEP}/results`, [
      batch([
        { runId: `${SWEEP}-0`, result: figures(3.1, 12) },
        { runId: `${SWEEP}-1`, result: figures(2.2, 8) },
        { runId: `${SWEEP}-2`, result: figures(0.4, 1) },
      ]),
    ]);
  });

  it('names the held-out stage next and writes its items: the in-sample leaders on the tail, run ids <sweep>-<index>h', async () => {
    // Act
    const board = await invoke(input);

    // Assess
    expect(board.winner).toBeNull();
    expect(board.next_stage).toEqual(sweepStage(BUCKET, SWEEP, 'holdout', 0, 100));
    const items = written(`sweeps/${SWEEP}/holdout-0/items.json`);
    expect(items.map((i: { run_id: string }) => i.run_id)).toEqual([`${SWEEP}-0h`, `${SWEEP}-1h`]);
    expect(items[0]).toMatchObject({
      start_date: '2024-03-01',
      end_date: '2024-03-21',
      config_overrides: { stoploss: -0.01 },
    });
    expect(written(`sweeps/${SWEEP}/leaderboard.json`).complete).toBe(false);
  });

  it('shows in-sample and out-of-sample side by side, and picks the leader that holds: the in-sample winner that fails is shown as such', async () => {
    // Arrange: the in-sample leader loses money on the tail; the second makes money with enough trades.
    stageResults(`sweeps/${SWEEP}/holdout-0/results`, [
      batch([
        { runId: `${SWEEP}-0h`, result: figures(-1.3, -4, 25) },
        { runId: `${SWEEP}-1h`, result: figures(1.6, 3, 22) },
      ]),
    ]);

    // Act
    const board = await invoke({ ...input, stage: sweepStage(BUCKET, SWEEP, 'holdout', 0, 100) });

    // Assess
    expect(board.next_stage).toBeNull();
    expect(board.out_of_sample).toMatchObject({
      in_sample_leader: `${SWEEP}-0`,
      in_sample_leader_holds: false,
    });
    expect(board.winner).toEqual({ run_id: `${SWEEP}-1`, index: 1, rank: 2, basis: 'held out of sample' });
    expect(
      board.top.map((r: Ranked) => [r.run_id, r.metric, r.out_of_sample?.metric, r.out_of_sample?.holds]),
    ).toEqual([
      [`${SWEEP}-0`, 3.1, -1.3, false],
      [`${SWEEP}-1`, 2.2, 1.6, true],
      [`${SWEEP}-2`, 0.4, undefined, undefined],
    ]);
    expect(board.top[0]?.out_of_sample?.reason).toBe('returned -4 % on the held-out tail, not above 0');
  });

  it('scales the trade gate to the tail: 30 trades in sample is 10 on a tail a third as long', async () => {
    // Arrange: 9 trades on the tail, a profit: too few to say it held.
    stageResults(`sweeps/${SWEEP}/holdout-0/results`, [
      batch([
        { runId: `${SWEEP}-0h`, result: figures(2, 5, 9) },
        { runId: `${SWEEP}-1h`, result: figures(2, 5, 10) },
      ]),
    ]);

    // Act
    const board = await invoke({ ...input, stage: sweepStage(BUCKET, SWEEP, 'holdout', 0, 100) });

    // Assess
    expect(board.top[0]?.out_of_sample).toMatchObject({
      holds: false,
      reason: '9 trades, fewer than the 10 a variant needs to be ranked',
    });
    expect(board.winner?.run_id).toBe(`${SWEEP}-1`);
  });

  it('reports the deflated Sharpe ratio of the leader among the variants tried', async () => {
    // Act
    const board = await invoke(input);

    // Assess
    const testing = board.multiple_testing;
    expect(testing.variants_tried).toBe(3);
    expect(testing.leader?.run_id).toBe(`${SWEEP}-0`);
    // freqtrade's 3.1 over 60 days and 60 trades: 3.1 x 60 / (sqrt(365) x 60) per trade.
    expect(testing.leader?.sharpe_per_trade).toBeCloseTo(3.1 / Math.sqrt(365), 12);
    expect(testing.leader?.deflated_sharpe_ratio).toBeGreaterThan(0);
    expect(testing.leader?.deflated_sharpe_ratio).toBeLessThan(1);
  });
});

describe('a re-run of failures', () => {
  it("keeps each variant's latest attempt: a variant that failed, then finished on re-run 1, is ranked", async () => {
    // Arrange
    stageResults(`sweeps/${SWEEP}/results`, [
      batch([
        { runId: `${SWEEP}-0`, result: figures(1, 2) },
        { runId: `${SWEEP}-1`, error: 'BacktestTimeoutError' },
        { runId: `${SWEEP}-2`, error: 'BacktestTimeoutError' },
      ]),
    ]);
    stageResults(`sweeps/${SWEEP}/rerun-1/results`, [
      batch([
        { runId: `${SWEEP}-1r1`, result: figures(2, 3) },
        { runId: `${SWEEP}-2r1`, error: 'ContainerExitError' },
      ]),
    ]);

    // Act
    const board = await invoke({
      ...input,
      out_of_sample: null,
      stage: sweepStage(BUCKET, SWEEP, 'rerun', 1, 0),
    });

    // Assess
    expect(board).toMatchObject({ attempt: 1, succeeded: 2, failed: 1, not_run: 0 });
    expect(board.top.map((r: { run_id: string }) => r.run_id)).toEqual([`${SWEEP}-1r1`, `${SWEEP}-0`]);
    expect(board.failures).toEqual([
      { run_id: `${SWEEP}-2r1`, error: 'States.TaskFailed', reason: 'States.TaskFailed: ContainerExitError' },
    ]);
    expect(board.winner).toMatchObject({ run_id: `${SWEEP}-1r1`, basis: 'in sample only' });
  });

  it('fails every variant of a batch whose child execution was stopped, with its status as the reason', async () => {
    // Arrange: the batch of variants 1 and 2 was ABORTED (the sweep was stopped); AWS records no error.
    stageResults(`sweeps/${SWEEP}/results`, [batch([{ runId: `${SWEEP}-0`, result: figures(1, 2) }])]);
    objects[`sweeps/${SWEEP}/results/run-1/manifest.json`] = {
      ResultFiles: {
        SUCCEEDED: [{ Key: `sweeps/${SWEEP}/results/run-1/SUCCEEDED_0.json` }],
        FAILED: [{ Key: `sweeps/${SWEEP}/results/run-1/FAILED_0.json` }],
      },
    };
    objects[`sweeps/${SWEEP}/results/run-1/FAILED_0.json`] = [
      {
        Name: 'batch-1',
        Status: 'ABORTED',
        Input: JSON.stringify({ Items: [1, 2].map((i) => ({ request: request(`${SWEEP}-${i}`) })) }),
        Output: null,
      },
    ];

    // Act
    const board = await invoke({ ...input, out_of_sample: null });

    // Assess
    expect(board.failures).toEqual(
      [1, 2].map((i) => ({
        run_id: `${SWEEP}-${i}`,
        error: 'child execution ABORTED',
        reason: 'child execution ABORTED',
      })),
    );
  });

  it('says the sweep failed past its tolerance from the variants, whatever the batches did', async () => {
    // Arrange: every batch child succeeded, two of three variants failed inside them.
    stageResults(`sweeps/${SWEEP}/results`, [
      batch([
        { runId: `${SWEEP}-0`, result: figures(1, 2) },
        { runId: `${SWEEP}-1`, error: 'ContainerExitError' },
        { runId: `${SWEEP}-2`, error: 'ContainerExitError' },
      ]),
    ]);

    // Act
    const board = await invoke(input);

    // Assess
    expect(board.tolerance_exceeded).toBe(true);
    expect(board.next_stage).toBeNull();
  });
});

describe("freqtrade's hyperopt losses as rankings", () => {
  // profit 100 on 1,000; max_drawdown_abs 40, max_relative_drawdown 5 %, max_drawdown_account 4 %.
  const result = {
    starting_balance: 1000,
    final_balance: 1100,
    max_drawdown_abs: 40,
    max_relative_drawdown: 5,
    max_drawdown_account: 4,
    sharpe_ratio: 1.5,
  };

  it.each([
    ['OnlyProfitHyperOptLoss', -100],
    ['SharpeHyperOptLoss', -1.5],
    ['MaxDrawDownHyperOptLoss', -100 / 40],
    ['MaxDrawDownRelativeHyperOptLoss', -100 / 40 / 0.05],
    ['ProfitDrawDownHyperOptLoss', -(100 - 0.04 * 100 * (1 - 0.075))],
  ] as const)('%s is %d, as freqtrade computes it from the same figures', (name, loss) => {
    expect(RANKINGS[name].of(result)).toBeCloseTo(loss, 12);
  });

  it('ranks by a loss lowest first, ties on more trades, then on the index', () => {
    // Arrange: a and b tie on the loss; b has more trades.
    const finished = [
      { run_id: 's-0', config_overrides: {}, result: { ...result, total_trades: 40 } },
      { run_id: 's-1', config_overrides: {}, result: { ...result, total_trades: 90 } },
      { run_id: 's-2', config_overrides: {}, result: { ...result, final_balance: 1200, total_trades: 40 } },
    ];

    // Act
    const { ranked } = rank(finished, 'OnlyProfitHyperOptLoss');

    // Assess
    expect(ranked.map((r) => [r.run_id, r.metric])).toEqual([
      ['s-2', -200],
      ['s-1', -100],
      ['s-0', -100],
    ]);
  });

  it('lists a variant past the sweep drawdown gate, or short of its trading days, with the reason', () => {
    // Act
    const { ranked, ineligible } = rank(
      [
        { run_id: 's-0', config_overrides: {}, result: { total_trades: 50, max_drawdown: 31 } },
        {
          run_id: 's-1',
          config_overrides: {},
          result: { total_trades: 50, max_drawdown: 5, winning_days: 3, losing_days: 2 },
        },
        {
          run_id: 's-2',
          config_overrides: {},
          result: { total_trades: 50, max_drawdown: 5, winning_days: 8, losing_days: 4 },
        },
      ],
      'sharpe_ratio',
      { min_trades: 30, max_drawdown: 30, min_trading_days: 10 },
    );

    // Assess
    expect(ranked.map((r) => r.run_id)).toEqual(['s-2']);
    expect(ineligible.map((r) => r.reason)).toEqual([
      "max_drawdown 31 %, above the sweep's 30 %",
      "5 trading days, fewer than the sweep's 10",
    ]);
  });
});
