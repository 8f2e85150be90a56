import { censusOfRejections, fakeContext, SPEC_TEST_INPUT } from '@tradai/lambda-kit/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handler } from '../../src';

const invoke = (request: unknown) =>
  handler({ request }, fakeContext('tradai-dev-validate-backtest-request'));

const specTestInput = SPEC_TEST_INPUT;

describe('validate-backtest-request', () => {
  it("normalises the spec's test input: dates to the top level, auto_sync off, in no sweep", async () => {
    // Act
    const request = await invoke(specTestInput);

    // Assess
    expect(request).toEqual({
      ...specTestInput,
      start_date: '2024-01-01',
      end_date: '2024-06-01',
      auto_sync: false,
      sweep_id: null,
    });
  });

  it("keeps the sweep a variant belongs to, and refuses a sweep id that cannot name its variants' runs", async () => {
    // Act
    const variant = await invoke({ ...specTestInput, sweep_id: 'grid-24' });
    const act = invoke({ ...specTestInput, sweep_id: 'g'.repeat(59) });

    // Assess
    expect(variant).toMatchObject({ sweep_id: 'grid-24' });
    await expect(act).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('sweep_id'),
    });
  });

  it('fills config_overrides with an empty object when the request has none', async () => {
    // Act
    const request = await invoke({
      ...specTestInput,
      config_overrides: undefined,
      start_date: '2024-01-01',
      end_date: '2024-06-01',
      auto_sync: true,
    });

    // Assess
    expect(request).toMatchObject({ config_overrides: {}, auto_sync: true });
  });

  it('names every bad field of the request, by its own name', async () => {
    // Act & Assess
    await expect(
      invoke({ ...specTestInput, run_id: '../x', timeframe: '7m', symbols: ['BTCUSDT'] }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/^Invalid backtest request: run_id: .*; symbols\[0\]: .*; timeframe: /),
    });
  });

  it.each([
    ['a string', 'run it'],
    ['an array', [1, 2]],
    ['null', null],
  ])('refuses %s as a request with a named error', async (_, input) => {
    await expect(invoke(input)).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('refuses an event that does not wrap the request', async () => {
    await expect(handler(specTestInput, fakeContext())).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('Invalid input:'),
    });
  });

  it('answers any input with a normalised request or a named ValidationError', async () => {
    // Prepare
    const events = fc.oneof(
      fc.record({
        request: fc.record({
          ...Object.fromEntries(Object.entries(specTestInput).map(([k, v]) => [k, fc.constant(v)])),
          run_id: fc.string(),
        }),
      }),
      fc.record({ request: fc.anything() }),
      fc.anything(),
    );

    // Act
    const census = await censusOfRejections(handler, events, { numRuns: 500 });

    // Assess
    expect(census.answered).toBeGreaterThan(0);
    expect(census.rejected).toBeGreaterThan(0);
  });
});
