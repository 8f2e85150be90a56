import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import { DEFAULT_GATES } from '@tradai/lambda-kit';
import { fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler, leaderboardCsv, rank } from '../../src';

const MIN_TRADES_TO_RANK = DEFAULT_GATES.min_trades;

const s3Mock = mockClient(S3Client);
const BUCKET = 'tradai-dev-backtest-runs';
const PREFIX = 'sweeps/grid-4/results';

/** A child as the Distributed Map's ResultWriter records it. */
const succeeded = (index: number, sharpe: number | null, drawdown: number) => ({
  ExecutionArn: `arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-backtest-sweep/RunVariants:${index}`,
  Name: `child-${index}`,
  Status: 'SUCCEEDED',
  Input: JSON.stringify({ run_id: `grid-4-${index}`, config_overrides: { stoploss: -(index + 1) / 20 } }),
  Output: JSON.stringify({
    run_id: `grid-4-${index}`,
    result: { sharpe_ratio: sharpe, max_drawdown: drawdown, total_return: 5, win_rate: 50, total_trades: 30 },
  }),
});
const failed = {
  Name: 'child-3',
  Status: 'FAILED',
  Input: JSON.stringify({ run_id: 'grid-4-3', config_overrides: { stoploss: -0.2 } }),
  Error: 'States.TaskFailed',
  Cause: JSON.stringify({ Error: 'BacktestResultError', Cause: 'no result file' }),
};

const serve = (objects: Record<string, unknown>) => {
  s3Mock.on(ListObjectsV2Command).resolves({ Contents: Object.keys(objects).map((Key) => ({ Key })) });
  s3Mock.on(GetObjectCommand).callsFake(async ({ Key }: { Key: string }) => ({
    Body: sdkStreamMixin(Readable.from([Buffer.from(JSON.stringify(objects[Key]))])),
  }));
  s3Mock.on(PutObjectCommand).resolves({});
};

const stage = (name: 'in_sample' | 'rerun' | 'holdout', attempt: number) => {
  const base = `sweeps/grid-4${name === 'in_sample' ? '' : `/${name}-${attempt}`}`;
  return {
    name,
    attempt,
    items: { bucket: BUCKET, key: `${base}/items.json` },
    results: { bucket: BUCKET, prefix: `${base}/results` },
    tolerated_failure_percentage: 0,
  };
};
const input = {
  sweep_id: 'grid-4',
  rank_by: 'sharpe_ratio',
  top_n: 2,
  variant_count: 4,
  gates: DEFAULT_GATES,
  out_of_sample: null,
  tolerated_failure_percentage: 50,
  stage: stage('in_sample', 0),
};
const invoke = (event: unknown) => handler(event as never, fakeContext('tradai-dev-aggregate-sweep'));

describe('aggregate-sweep', () => {
  beforeEach(() => {
    s3Mock.reset();
    serve({
      [`${PREFIX}/map-run-1/manifest.json`]: {
        DestinationBucket: BUCKET,
        ResultFiles: {
          SUCCEEDED: [{ Key: `${PREFIX}/map-run-1/SUCCEEDED_0.json` }],
          FAILED: [{ Key: `${PREFIX}/map-run-1/FAILED_0.json` }],
          PENDING: [],
        },
      },
      [`${PREFIX}/map-run-1/SUCCEEDED_0.json`]: [
        succeeded(0, 0.8, 12),
        succeeded(1, 1.9, 20),
        succeeded(2, null, 5),
      ],
      [`${PREFIX}/map-run-1/FAILED_0.json`]: [failed],
    });
  });

  it('ranks the finished variants by the chosen metric, lists each failure with its reason, and writes both leaderboards', async () => {
    // Act
    const board = await invoke(input);

    // Assess
    expect(board).toMatchObject({ succeeded: 3, failed: 1, not_run: 0, variants: 4 });
    expect(board.top.map((r: { run_id: string; metric: number | null }) => [r.run_id, r.metric])).toEqual([
      ['grid-4-1', 1.9],
      ['grid-4-0', 0.8],
    ]);
    expect(board.failures).toEqual([
      { run_id: 'grid-4-3', error: 'States.TaskFailed', reason: 'States.TaskFailed: BacktestResultError' },
    ]);
    const keys = s3Mock
      .commandCalls(PutObjectCommand)
      .map((c) => c.args[0].input.Key)
      .sort();
    expect(keys).toEqual(['sweeps/grid-4/leaderboard.csv', 'sweeps/grid-4/leaderboard.json']);
  });

  it('ranks drawdown lowest first, and a variant without the metric last', async () => {
    // Act
    const board = await invoke({ ...input, rank_by: 'max_drawdown', top_n: 3 });

    // Assess
    expect(board.top.map((r: { run_id: string }) => r.run_id)).toEqual(['grid-4-2', 'grid-4-0', 'grid-4-1']);
    expect(
      rank(
        [
          { run_id: 'a', config_overrides: {}, result: { total_trades: 40 } },
          { run_id: 'b', config_overrides: {}, result: { sharpe_ratio: -1, total_trades: 40 } },
        ],
        'sharpe_ratio',
      ).ranked.map((r) => r.run_id),
    ).toEqual(['b', 'a']);
  });

  it('writes a CSV a spreadsheet reads: quoted JSON, CRLF rows', () => {
    // Act
    const csv = leaderboardCsv(
      rank(
        [
          {
            run_id: 'x-0',
            config_overrides: { minimal_roi: { '0': 0.1 } },
            result: { sharpe_ratio: 1, total_trades: 30 },
          },
        ],
        'sharpe_ratio',
      ).ranked,
      'sharpe_ratio',
    );

    // Assess
    expect(csv).toBe(
      'rank,run_id,ranked_by_sharpe_ratio,sharpe_ratio,total_return,max_drawdown,win_rate,total_trades,out_of_sample_sharpe_ratio,out_of_sample_total_return,out_of_sample_holds,config_overrides\r\n1,x-0,1,1,,,,30,,,,"{""minimal_roi"":{""0"":0.1}}"\r\n',
    );
  });

  it('names the field of a bad input and reads nothing', async () => {
    // Act
    const act = invoke({ ...input, gates: { ...DEFAULT_GATES, min_trades: 0 } });

    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('gates.min_trades'),
    });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });
});

describe('rank: a leaderboard that does not reward luck', () => {
  /** Finished variants of a sweep: each a run id `<sweep>-<index>`, a trade count and a Sharpe. */
  const variants = fc
    .uniqueArray(
      fc.record({
        index: fc.nat({ max: 5_000 }),
        trades: fc.oneof(fc.nat({ max: 500 }), fc.constantFrom(0, 1, 2, 29, 30)),
        sharpe: fc.oneof(fc.constantFrom(-1, 0, 1, 2.5), fc.double({ min: -10, max: 10, noNaN: true })),
      }),
      { selector: (v) => v.index, maxLength: 60 },
    )
    .map((list) =>
      list.map((v) => ({
        run_id: `sweep-${v.index}`,
        config_overrides: {},
        result: { total_trades: v.trades, sharpe_ratio: v.sharpe },
      })),
    );

  it(`never ranks a variant with fewer than ${MIN_TRADES_TO_RANK} trades (0 or 2 included); lists it with the reason`, () => {
    fc.assert(
      fc.property(variants, (finished) => {
        // Act
        const { ranked, ineligible } = rank(finished, 'sharpe_ratio');

        // Assess
        expect(ranked.every((r) => (r.total_trades ?? 0) >= MIN_TRADES_TO_RANK)).toBe(true);
        expect(ranked.length + ineligible.length).toBe(finished.length);
        for (const out of ineligible) expect(out.reason).toContain(`fewer than the ${MIN_TRADES_TO_RANK}`);
      }),
    );
  });

  it("gives the same ranking whatever the variants' order", () => {
    fc.assert(
      fc.property(variants, fc.func(fc.integer()), (finished, key) => {
        // Arrange
        const shuffled = [...finished].sort((a, b) => key(a.run_id) - key(b.run_id));

        // Act + Assess
        expect(rank(shuffled, 'sharpe_ratio')).toEqual(rank(finished, 'sharpe_ratio'));
      }),
    );
  });

  it('breaks ties on the variant index as a number: 9 before 10, not after', () => {
    // Arrange: equal Sharpe, indexes whose strings sort the other way
    const tied = [10, 9, 100].map((index) => ({
      run_id: `sweep-${index}`,
      config_overrides: {},
      result: { total_trades: 50, sharpe_ratio: 1 },
    }));

    // Act
    const { ranked } = rank(tied, 'sharpe_ratio');

    // Assess
    expect(ranked.map((r) => r.run_id)).toEqual(['sweep-9', 'sweep-10', 'sweep-100']);
  });

  it('does not let a 0-trade variant win on drawdown', () => {
    // Arrange: no trades, no drawdown; 400 trades, some drawdown
    const finished = [
      { run_id: 's-0', config_overrides: {}, result: { total_trades: 0, max_drawdown: 0 } },
      { run_id: 's-1', config_overrides: {}, result: { total_trades: 400, max_drawdown: 3.2 } },
    ];

    // Act
    const { ranked, ineligible } = rank(finished, 'max_drawdown');

    // Assess
    expect(ranked.map((r) => r.run_id)).toEqual(['s-1']);
    expect(ineligible).toEqual([
      {
        run_id: 's-0',
        index: 0,
        total_trades: 0,
        reason: '0 trades, fewer than the 30 a variant needs to be ranked',
      },
    ]);
  });
});
