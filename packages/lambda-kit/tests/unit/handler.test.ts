import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod/mini';
import { createWorkflowHandler, DataStaleError, runIdSchema, ValidationError } from '../../src';
import { fakeContext } from '../../src/testing';

const handle = vi.fn(async (input: { run_id: string }) => ({ seen: input.run_id }));

const { handler, logger, metrics } = createWorkflowHandler({
  service: 'kit-test',
  input: z.strictObject({ run_id: runIdSchema }),
  handle,
});

describe('createWorkflowHandler', () => {
  beforeEach(() => {
    vi.clearAllMocks();
  });

  it('passes the parsed input and the Powertools tools to the logic', async () => {
    // Act
    const result = await handler({ run_id: 'test-001' }, fakeContext('tradai-dev-kit-test'));

    // Assess
    expect(result).toEqual({ seen: 'test-001' });
    expect(handle).toHaveBeenCalledWith(
      { run_id: 'test-001' },
      expect.objectContaining({
        logger,
        metrics,
        context: expect.objectContaining({ functionName: 'tradai-dev-kit-test' }),
      }),
    );
  });

  it('publishes metrics to the TradAI/StepFunctions namespace under the function as service', () => {
    // Assess
    expect(metrics.serializeMetrics()).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'TradAI/StepFunctions' }] },
      service: 'kit-test',
    });
  });

  it.each([null, 42, 'text', [], {}, { run_id: '../x' }, { run_id: 'ok', extra: true }])(
    'rejects %j with a ValidationError before running any logic',
    async (event) => {
      // Act
      const act = handler(event, fakeContext());

      // Assess
      await expect(act).rejects.toThrow(ValidationError);
      expect(handle).not.toHaveBeenCalled();
    },
  );

  it('names the bad field in the message', async () => {
    await expect(handler({ run_id: 'a/b' }, fakeContext())).rejects.toThrow(/^Invalid input: run_id: /);
  });

  it('logs a business error as a warning and rethrows it unchanged', async () => {
    // Prepare
    const stale = new DataStaleError('BTC/USDT is stale');
    handle.mockRejectedValueOnce(stale);
    const warn = vi.spyOn(logger, 'warn');
    const error = vi.spyOn(logger, 'error');

    // Act
    const act = handler({ run_id: 'test-001' }, fakeContext());

    // Assess
    await expect(act).rejects.toBe(stale);
    expect(warn).toHaveBeenCalledWith('Invocation rejected', { error: stale });
    expect(error).not.toHaveBeenCalled();
  });

  it('logs an unknown error as an error and rethrows it unchanged', async () => {
    // Prepare
    const bug = new RangeError('unexpected');
    handle.mockRejectedValueOnce(bug);
    const error = vi.spyOn(logger, 'error');

    // Act & Assess
    await expect(handler({ run_id: 'test-001' }, fakeContext())).rejects.toBe(bug);
    expect(error).toHaveBeenCalledWith('Invocation failed', { error: bug });
  });

  it('counts a failed invocation with the error name as metadata', async () => {
    // Prepare
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const addMetadata = vi.spyOn(metrics, 'addMetadata');

    // Act
    await expect(handler({ run_id: '../x' }, fakeContext())).rejects.toThrow(ValidationError);

    // Assess
    expect(addMetric).toHaveBeenCalledWith('FailedInvocations', 'Count', 1);
    expect(addMetadata).toHaveBeenCalledWith('error_name', 'ValidationError');
  });
});
