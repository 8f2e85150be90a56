import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { censusOfRejections, fakeContext, SPEC_TEST_INPUT, serveObjects } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const s3Mock = mockClient(S3Client);
const { run_id: _, ...base } = SPEC_TEST_INPUT;
const invoke = (request: unknown) => handler({ request } as never, fakeContext('tradai-dev-validate-sweep'));

describe('validate-sweep', () => {
  beforeEach(() => {
    s3Mock.reset();
    s3Mock.on(PutObjectCommand).resolves({});
    vi.stubEnv('RUNS_BUCKET', 'tradai-dev-backtest-runs');
  });

  it('writes every variant to sweeps/<sweep_id>/items.json and returns where, with the settings', async () => {
    // Act
    const validated = await invoke({
      ...base,
      sweep_id: 'grid-24',
      grid: {
        stoploss: [-0.05, -0.1, -0.15, -0.2],
        fee: [0.0005, 0.001, 0.002],
        trailing_stop: [true, false],
      },
      max_concurrency: 8,
    });

    // Assess
    expect(validated).toMatchObject({
      sweep_id: 'grid-24',
      variant_count: 24,
      max_concurrency: 8,
      stage: {
        name: 'in_sample',
        attempt: 0,
        items: { bucket: 'tradai-dev-backtest-runs', key: 'sweeps/grid-24/items.json' },
        results: { bucket: 'tradai-dev-backtest-runs', prefix: 'sweeps/grid-24/results' },
      },
      gates: { min_trades: 30, max_drawdown: null, min_trading_days: 0 },
      out_of_sample: null,
    });
    const put = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put?.Key).toBe('sweeps/grid-24/items.json');
    const items = JSON.parse(String(put?.Body));
    expect(items).toHaveLength(24);
    expect(new Set(items.map((i: { run_id: string }) => i.run_id)).size).toBe(24);
  });

  it('refuses a sweep over the stage cap by its count, and writes nothing', async () => {
    // Prepare
    vi.stubEnv('MAX_SWEEP_VARIANTS', '20');

    // Act
    const act = invoke({
      ...base,
      sweep_id: 'too-big',
      grid: { stoploss: [-0.05, -0.1, -0.15], fee: [0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006] },
    });

    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('makes 21 variants; a sweep may run at most 20'),
    });
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('rejects any malformed input with a named error only, and writes only sweep items', async () => {
    // Prepare
    // Half well-formed sweeps with hostile ids and values, half anything at all.
    const overrides = fc.oneof(
      fc.record({ stoploss: fc.double({ min: -0.9, max: -0.01, noNaN: true }) }),
      fc.dictionary(fc.constantFrom('stoploss', 'fee', 'max_open_trades', 'nope'), fc.anything()),
    );
    const events = fc.oneof(
      fc.record({
        request: fc.record({
          ...Object.fromEntries(Object.entries(base).map(([k, v]) => [k, fc.constant(v)])),
          sweep_id: fc.oneof(fc.constant('sw-1'), fc.string({ maxLength: 70 })),
          variants: fc.array(overrides, { minLength: 1, maxLength: 4 }),
        }),
      }),
      fc.anything(),
    );

    // Act
    const census = await censusOfRejections(handler, events, { numRuns: 300 });

    // Assess
    expect(census.answered).toBeGreaterThan(0);
    expect(census.rejected).toBeGreaterThan(0);
    for (const call of s3Mock.commandCalls(PutObjectCommand)) {
      expect(call.args[0].input.Key).toMatch(/^sweeps\/[A-Za-z0-9][A-Za-z0-9_-]{0,55}\/(items|sweep)\.json$/);
    }
  });
});

describe('validate-sweep: a re-run of failures', () => {
  const BUCKET = 'tradai-dev-backtest-runs';
  /** The sweep's first execution, as the S3 world holds it after it ended with two failures. */
  const ran = async () => {
    const objects: Record<string, string> = {};
    s3Mock.on(PutObjectCommand).callsFake(async (input: { Key: string; Body: string }) => {
      objects[input.Key] = input.Body;
      return {};
    });
    const first = await invoke({ ...base, sweep_id: 'rr', grid: { stoploss: [-0.05, -0.1, -0.15, -0.2] } });
    objects['sweeps/rr/leaderboard.json'] = JSON.stringify({
      attempt: 0,
      failures: [{ run_id: 'rr-1' }, { run_id: 'rr-3' }],
      not_run: [],
    });
    serveObjects(s3Mock, objects);
    return { first, objects };
  };

  beforeEach(() => {
    s3Mock.reset();
    vi.stubEnv('RUNS_BUCKET', BUCKET);
  });

  it("writes exactly the failed variants, run ids <sweep>-<index>r<attempt>, and runs them with the sweep's settings", async () => {
    // Arrange
    const { first, objects } = await ran();

    // Act
    const validated = await invoke({ rerun_failed: { sweep_id: 'rr', attempt: 1 } });

    // Assess
    expect(validated).toMatchObject({
      ...first,
      stage: { name: 'rerun', attempt: 1, items: { key: 'sweeps/rr/rerun-1/items.json' } },
      previous_attempt: 0,
    });
    const items = JSON.parse(objects['sweeps/rr/rerun-1/items.json'] ?? '[]');
    expect(
      items.map((i: { run_id: string; config_overrides: { stoploss: number } }) => [
        i.run_id,
        i.config_overrides.stoploss,
      ]),
    ).toEqual([
      ['rr-1r1', -0.1],
      ['rr-3r1', -0.2],
    ]);
  });

  it('refuses an attempt that does not follow the last, and a sweep that never ran, by field', async () => {
    // Arrange
    await ran();

    // Act + Assess
    await expect(invoke({ rerun_failed: { sweep_id: 'rr', attempt: 2 } })).rejects.toMatchObject({
      name: 'ValidationError',
      message:
        "Invalid sweep re-run: rerun_failed.attempt: the sweep's last attempt is 0: this one must be 1",
    });
    await expect(invoke({ rerun_failed: { sweep_id: 'never', attempt: 1 } })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('rerun_failed.sweep_id: sweep never has no settings'),
    });
    await expect(invoke({ rerun_failed: { sweep_id: '../x', attempt: 1 } })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('rerun_failed.sweep_id'),
    });
  });
});
