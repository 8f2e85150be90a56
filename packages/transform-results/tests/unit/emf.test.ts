import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import { fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';

const s3Mock = mockClient(S3Client);
const FIXTURE = readFileSync(new URL('../../../../fixtures/freqtrade/backtest-result.json', import.meta.url));

describe('transform-results metrics output', () => {
  it('prints BacktestDuration as EMF in TradAI/Backtest with Strategy as its only dimension', async () => {
    // Prepare: a fresh module, with metrics on and written to console
    vi.resetModules();
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('RUNS_BUCKET', 'tradai-dev-backtest-runs');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    s3Mock
      .on(ListObjectsV2Command)
      .resolves({ Contents: [{ Key: 'runs/run-42/results/backtest-result.json' }] });
    s3Mock.on(GetObjectCommand).callsFake(async () => ({
      Body: sdkStreamMixin(Readable.from([FIXTURE])),
      ContentLength: FIXTURE.length,
    }));
    const { handler } = await import('../../src');

    // Act
    await handler(
      {
        run_id: 'run-42',
        strategy_name: 'StrategyTestV3',
        task: { started_at: 1_000, stopped_at: 2_521_000 },
      },
      fakeContext('tradai-dev-transform-results'),
    );

    // Assess
    const records = lines.flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return [];
      }
    });
    const backtest = records.filter((r) => r._aws?.CloudWatchMetrics?.[0]?.Namespace === 'TradAI/Backtest');
    expect(backtest).toHaveLength(1);
    expect(backtest[0]._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'TradAI/Backtest',
      Dimensions: [['Strategy']],
      Metrics: [{ Name: 'BacktestDuration', Unit: 'Seconds' }],
    });
    expect(backtest[0]).toMatchObject({ Strategy: 'StrategyTestV3', BacktestDuration: 2520 });
  });
});
