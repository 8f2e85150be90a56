import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import { fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler, leaderboardCsv, rank } from '../../src';

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

const input = {
  sweep_id: 'grid-4',
  rank_by: 'sharpe_ratio',
  top_n: 2,
  variant_count: 4,
  results: { bucket: BUCKET, prefix: PREFIX },
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
          { run_id: 'a', config_overrides: {}, result: {} },
          { run_id: 'b', config_overrides: {}, result: { sharpe_ratio: -1 } },
        ],
        'sharpe_ratio',
      ).map((r) => r.run_id),
    ).toEqual(['b', 'a']);
  });

  it('writes a CSV a spreadsheet reads: quoted JSON, CRLF rows', () => {
    // Act
    const csv = leaderboardCsv(
      rank(
        [{ run_id: 'x-0', config_overrides: { minimal_roi: { '0': 0.1 } }, result: { sharpe_ratio: 1 } }],
        'sharpe_ratio',
      ),
      'sharpe_ratio',
    );

    // Assess
    expect(csv).toBe(
      'rank,run_id,ranked_by_sharpe_ratio,sharpe_ratio,total_return,max_drawdown,win_rate,total_trades,config_overrides\r\n1,x-0,1,1,,,,,"{""minimal_roi"":{""0"":0.1}}"\r\n',
    );
  });

  it('names the field of a bad input and reads nothing', async () => {
    // Act
    const act = invoke({ ...input, results: { bucket: BUCKET, prefix: 'runs/../secrets' } });

    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('results.prefix'),
    });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });
});
