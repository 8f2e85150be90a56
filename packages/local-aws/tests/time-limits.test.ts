import { describe, expect, it } from 'vitest';
import { executionDeadline, taskOverrun } from '../src/time-limits';
import { World } from '../src/world';

const MINUTE = 60_000;
const world = () => new World({ accountId: '123456789012', region: 'us-east-1', stage: 'local' });
/** A task that took `minutes` on the world's clock: the clock as it stands when the task ends. */
const ran = (minutes: number) => {
  const w = world();
  const start = w.now;
  w.now += minutes * MINUTE;
  return { w, start };
};

describe('a task past its limits, as Step Functions ends it', () => {
  it('times out a task past its TimeoutSeconds, at the limit, as States.Timeout', () => {
    // Arrange: a 100-minute child under a 90-minute RunVariant.
    const { w, start } = ran(100);

    // Act
    const error = taskOverrun({ Type: 'Task', TimeoutSeconds: 5_400 }, 'RunVariant', start, w);

    // Assess
    expect(error).toMatchObject({
      name: 'States.Timeout',
      message: 'RunVariant ran past its TimeoutSeconds (5400 s)',
    });
    expect(w.now - start).toBe(90 * MINUTE);
  });

  it('lapses a heartbeat first when it is the shorter limit: nothing sends one, and AWS names it States.Timeout', () => {
    // Arrange
    const { w, start } = ran(30);

    // Act
    const error = taskOverrun(
      { Type: 'Task', TimeoutSeconds: 3_600, HeartbeatSeconds: 600 },
      'Work',
      start,
      w,
    );

    // Assess
    expect(error).toMatchObject({
      name: 'States.Timeout',
      message: 'Work sent no heartbeat within its HeartbeatSeconds (600 s)',
    });
    expect(w.now - start).toBe(10 * MINUTE);
  });

  it('leaves a task inside its limits alone, the clock included', () => {
    // Arrange
    const { w, start } = ran(92);

    // Act + Assess: a variant that lost Spot and ran on on-demand, under the 18,300 s RunVariant.
    expect(taskOverrun({ Type: 'Task', TimeoutSeconds: 18_300 }, 'RunVariant', start, w)).toBeUndefined();
    expect(w.now - start).toBe(92 * MINUTE);
  });

  it("puts an execution's deadline at its machine's TimeoutSeconds, and none without one", () => {
    expect(executionDeadline({ StartAt: 'A', States: {}, TimeoutSeconds: 18_000 }, 1_000)).toBe(
      1_000 + 18_000_000,
    );
    expect(executionDeadline({ StartAt: 'A', States: {} }, 1_000)).toBeUndefined();
  });
});
