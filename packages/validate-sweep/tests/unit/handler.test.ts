import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { censusOfRejections, fakeContext, SPEC_TEST_INPUT } from '@tradai/lambda-kit/testing';
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
      items: { bucket: 'tradai-dev-backtest-runs', key: 'sweeps/grid-24/items.json' },
      results: { bucket: 'tradai-dev-backtest-runs', prefix: 'sweeps/grid-24/results' },
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
      expect(call.args[0].input.Key).toMatch(/^sweeps\/[A-Za-z0-9][A-Za-z0-9_-]{0,57}\/items\.json$/);
    }
  });
});
