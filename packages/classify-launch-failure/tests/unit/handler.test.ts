import { ECS_LAUNCH_FAILURES } from '@tradai/lambda-kit';
import { censusOfRejections, fakeContext } from '@tradai/lambda-kit/testing';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const invoke = (input: unknown) => handler(input, fakeContext('tradai-dev-classify-launch-failure'));
/** As Step Functions reports an exception of RunTask (the AWS SDK's message format). */
const sdkCause = (reason: string, code = 'InvalidParameterException') =>
  `${reason} (Service: AmazonECS; Status Code: 400; Error Code: ${code}; Request ID: 1; Proxy: null)`;
const failed = (Cause: string) => ({ Error: 'ECS.AmazonECSException', Cause });

describe('classify-launch-failure', () => {
  it('says spot_capacity for "Capacity is unavailable at this time", with its AWS source', async () => {
    // Act
    const result = await invoke({
      error: failed(
        sdkCause(
          'Capacity is unavailable at this time. Please try again later or in a different availability zone',
        ),
      ),
      capacity_provider: 'FARGATE_SPOT',
    });

    // Assess
    expect(result).toMatchObject({ kind: 'spot_capacity', quota: '', wait_seconds: 0 });
    expect(result.source).toContain('repost.aws/knowledge-center/ecs-fargate-runtask-capacity');
  });

  it("reads RunTask's failures when the cause carries them as JSON", async () => {
    const cause = JSON.stringify({
      Failures: [{ Arn: 'arn:x', Reason: 'No Container Instances were found in your cluster.' }],
    });
    await expect(invoke({ error: failed(cause), capacity_provider: 'FARGATE_SPOT' })).resolves.toMatchObject({
      kind: 'spot_capacity',
      reason: 'No Container Instances were found in your cluster.',
    });
  });

  it.each([
    ['FARGATE_SPOT', 'Fargate Spot vCPU resource count (L-36FBB829)'],
    ['FARGATE', 'Fargate On-Demand vCPU resource count (L-3032A538)'],
  ])('says quota for the vCPU limit on %s, naming the quota to raise', async (capacity, quota) => {
    await expect(
      invoke({
        error: failed(sdkCause("You've reached the limit on the number of vCPUs you can run concurrently")),
        capacity_provider: capacity,
      }),
    ).resolves.toMatchObject({ kind: 'quota', quota });
  });

  it('backs off throttling with full jitter below a doubling ceiling, then says exhausted', async () => {
    // Prepare
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const throttled = (attempts: number) =>
      invoke({
        error: failed(sdkCause('Rate exceeded', 'ThrottlingException')),
        capacity_provider: 'FARGATE_SPOT',
        attempts,
      });

    // Act & Assess: ceilings 10, 20, 40... s (LAUNCH_BACKOFF_SECONDS), capped at 300
    await expect(throttled(0)).resolves.toMatchObject({
      kind: 'throttled',
      exhausted: false,
      attempts: 1,
      wait_seconds: 10,
    });
    await expect(throttled(2)).resolves.toMatchObject({ attempts: 3, wait_seconds: 40 });
    await expect(throttled(4)).resolves.toMatchObject({ wait_seconds: 160 });
    await expect(throttled(5)).resolves.toMatchObject({ exhausted: true, wait_seconds: 0 });
    vi.mocked(Math.random).mockReturnValue(0);
    await expect(throttled(1)).resolves.toMatchObject({ wait_seconds: 1 });
    vi.restoreAllMocks();
  });

  it('says other for a reason AWS does not document as a launch failure, keeping the text', async () => {
    await expect(
      invoke({ error: failed('Service Unavailable (simulated)'), capacity_provider: 'FARGATE_SPOT' }),
    ).resolves.toMatchObject({ kind: 'other', reason: 'Service Unavailable (simulated)', source: '' });
  });

  it('knows every documented reason by its own wording (the table matches its examples)', async () => {
    for (const failure of ECS_LAUNCH_FAILURES) {
      const result = await invoke({ error: failed(sdkCause(failure.reason)), capacity_provider: 'FARGATE' });
      expect(result.kind, failure.reason).toBe(failure.kind);
    }
  });

  it('refuses a capacity provider it does not know, naming the field', async () => {
    await expect(invoke({ error: failed('x'), capacity_provider: 'EC2' })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('capacity_provider'),
    });
  });

  it('answers any input with a classification or a named error, never a TypeError', async () => {
    const census = await censusOfRejections(
      handler,
      fc.oneof(
        fc.record({
          error: fc.record({
            Error: fc.string(),
            Cause: fc.oneof(fc.string(), fc.constant(null), fc.json()),
          }),
          capacity_provider: fc.constantFrom('FARGATE_SPOT', 'FARGATE', 'X'),
          attempts: fc.oneof(fc.nat(30), fc.constant(-1)),
        }),
        fc.anything(),
      ),
      { allowedErrors: ['ValidationError'], numRuns: 300 },
    );
    expect(census.answered).toBeGreaterThan(0);
  });
});
