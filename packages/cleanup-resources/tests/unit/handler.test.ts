import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { awsError, censusOfRejections, fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const s3Mock = mockClient(S3Client);
const invoke = (input: unknown) => handler(input, fakeContext('tradai-dev-cleanup-resources'));

/** The runs bucket: this run's config, results and scratch, and other runs' everything. */
const seedBucket = () =>
  new Set([
    'runs/run-42/config.json',
    'runs/run-42/results/backtest-result.json',
    'runs/run-42/tmp/freqtrade.log',
    'runs/run-42/tmp/user_data/data/cache.feather',
    'runs/run-420/tmp/freqtrade.log',
    'runs/run-4/tmp/freqtrade.log',
    'runs/other/tmp/x',
    'runs/other/results/backtest-result.json',
    'runs/x/tmp/secret',
    'x/tmp/outside-runs',
  ]);

/** An S3 that lists by prefix in key order, 1,000 keys a page, resuming after the last key; and deletes. */
const serve = (bucket: Set<string>, pageSize = 1_000) => {
  s3Mock.on(ListObjectsV2Command).callsFake(async ({ Prefix = '', ContinuationToken }) => {
    const keys = [...bucket]
      .filter((key) => key.startsWith(Prefix) && (ContinuationToken === undefined || key > ContinuationToken))
      .sort();
    const page = keys.slice(0, pageSize);
    const more = keys.length > pageSize;
    return {
      Contents: page.map((Key) => ({ Key })),
      IsTruncated: more,
      NextContinuationToken: more ? page.at(-1) : undefined,
    };
  });
  s3Mock.on(DeleteObjectsCommand).callsFake(async ({ Delete }) => {
    for (const { Key } of Delete?.Objects ?? []) if (Key) bucket.delete(Key);
    return { Errors: [] };
  });
};

describe('cleanup-resources', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    s3Mock.reset();
    vi.stubEnv('RUNS_BUCKET', 'tradai-dev-backtest-runs');
  });

  it("deletes the run's scratch objects and keeps its config, its results and every other run's keys", async () => {
    // Prepare
    const bucket = seedBucket();
    serve(bucket);

    // Act
    const result = await invoke({ run_id: 'run-42' });

    // Assess
    expect(result).toEqual({ prefix: 's3://tradai-dev-backtest-runs/runs/run-42/tmp/', deleted: 2 });
    expect([...bucket].sort()).toEqual(
      [...seedBucket()].filter((key) => !key.startsWith('runs/run-42/tmp/')).sort(),
    );
    expect(s3Mock).toReceiveCommandWith(ListObjectsV2Command, { Prefix: 'runs/run-42/tmp/' });
  });

  it('is idempotent: a second call finds nothing and deletes nothing', async () => {
    // Prepare
    const bucket = seedBucket();
    serve(bucket);
    await invoke({ run_id: 'run-42' });
    const after = [...bucket];

    // Act
    const second = await invoke({ run_id: 'run-42' });

    // Assess
    expect(second.deleted).toBe(0);
    expect([...bucket]).toEqual(after);
    expect(s3Mock).toReceiveCommandTimes(DeleteObjectsCommand, 1);
  });

  it('tolerates a run that wrote no scratch files', async () => {
    // Prepare
    serve(seedBucket());

    // Act
    const result = await invoke({ run_id: 'never-ran' });

    // Assess
    expect(result.deleted).toBe(0);
    expect(s3Mock).not.toReceiveCommand(DeleteObjectsCommand);
  });

  it('deletes page by page when a run left more than 1,000 scratch objects', async () => {
    // Prepare
    const bucket = new Set(Array.from({ length: 2_500 }, (_, i) => `runs/run-42/tmp/part-${i}`));
    bucket.add('runs/run-42/results/backtest-result.json');
    serve(bucket);

    // Act
    const result = await invoke({ run_id: 'run-42' });

    // Assess
    expect(result.deleted).toBe(2_500);
    expect([...bucket]).toEqual(['runs/run-42/results/backtest-result.json']);
    expect(s3Mock).toReceiveCommandTimes(DeleteObjectsCommand, 3);
  });

  it('never deletes a key outside the prefix, even if a listing returns one', async () => {
    // Prepare
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: 'runs/run-42/tmp/a' },
        { Key: 'runs/run-42/results/r.json' },
        { Key: 'runs/run-42/tmp/../config.json' },
      ],
    });
    s3Mock.on(DeleteObjectsCommand).resolves({ Errors: [] });

    // Act
    await invoke({ run_id: 'run-42' });

    // Assess
    expect(s3Mock).toReceiveCommandWith(DeleteObjectsCommand, {
      Delete: { Objects: [{ Key: 'runs/run-42/tmp/a' }], Quiet: true },
    });
  });

  it.each(['../x', 'x/../..', 'a/b', '', '.', 'run 42', `r${'x'.repeat(64)}`])(
    'refuses run id %j with a ValidationError naming run_id, before any S3 call',
    async (runId) => {
      // Prepare
      const bucket = seedBucket();
      serve(bucket);

      // Act & Assess
      await expect(invoke({ run_id: runId })).rejects.toMatchObject({
        name: 'ValidationError',
        message: expect.stringContaining('run_id:'),
      });
      expect(s3Mock.calls()).toHaveLength(0);
      expect(bucket).toEqual(seedBucket());
    },
  );

  it('reports objects S3 refused to delete: denied is a ConfigurationError, anything else retryable', async () => {
    // Prepare
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'runs/run-42/tmp/a' }] });
    s3Mock
      .on(DeleteObjectsCommand)
      .resolvesOnce({ Errors: [{ Key: 'runs/run-42/tmp/a', Code: 'AccessDenied' }] })
      .resolves({ Errors: [{ Key: 'runs/run-42/tmp/a', Code: 'InternalError' }] });

    // Act & Assess
    await expect(invoke({ run_id: 'run-42' })).rejects.toMatchObject({ name: 'ConfigurationError' });
    await expect(invoke({ run_id: 'run-42' })).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('maps S3 throttling to TransientAwsError', async () => {
    // Prepare
    s3Mock.on(ListObjectsV2Command).rejects(awsError('SlowDown', 503));

    // Act & Assess
    await expect(invoke({ run_id: 'run-42' })).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('whatever the input, either refuses it by name or deletes only under runs/<run_id>/tmp/', async () => {
    // Prepare
    const bucket = seedBucket();
    serve(bucket);
    const events = fc.oneof(
      fc.record({ run_id: fc.string({ maxLength: 70 }) }),
      fc.record({ run_id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,20}$/) }),
      fc.anything(),
    );

    // Act
    const census = await censusOfRejections(handler, events, { numRuns: 400 });

    // Assess: only scratch keys ever went
    const deleted = [...seedBucket()].filter((key) => !bucket.has(key));
    expect(deleted.every((key) => /^runs\/[A-Za-z0-9][A-Za-z0-9_-]*\/tmp\//.test(key))).toBe(true);
    expect(census.answered).toBeGreaterThan(0);
    expect(census.rejected).toBeGreaterThan(0);
  });
});
