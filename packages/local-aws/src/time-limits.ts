/*
 * What Step Functions does when time runs out, which aws-local-stepfunctions 3.x does not do on
 * the world's clock (it ignores HeartbeatSeconds, and a child execution's TimeoutSeconds):
 *
 * - A Task that runs past its `TimeoutSeconds` fails with `States.Timeout`, at that limit.
 * - A Task that sends no heartbeat within its `HeartbeatSeconds` fails at that limit too. Nothing
 *   here sends heartbeats (SendTaskHeartbeat is for callback tasks), so a task longer than its
 *   heartbeat always lapses. AWS names a lapsed heartbeat `States.Timeout` in the history it
 *   records (LocalStack's test_heartbeats.snapshot.json, validated against AWS), and its docs say
 *   `States.Timeout` covers both.
 * - An execution that runs past its machine's `TimeoutSeconds` ends TIMED_OUT at that limit, and
 *   no state of it runs after. A child execution does too, on its own clock; its parent's `.sync`
 *   task then fails with `States.TaskFailed` (AWS's error-handling page: "If a nested state machine
 *   throws a States.Timeout, the parent will receive a States.TaskFailed error").
 */
import type { AslDefinition, AslState } from './machines';
import { namedError } from './tasks';
import type { World } from './world';

/**
 * The error a Task that started at `startedMs` and ended at the world's now has earned by its
 * limits, or undefined. The world's clock goes back to when the first limit ran out: after that,
 * the task no longer runs, whatever it would have done.
 */
export const taskOverrun = (
  state: AslState,
  name: string,
  startedMs: number,
  world: World,
): Error | undefined => {
  const limits = [
    ['HeartbeatSeconds', Number(state.HeartbeatSeconds ?? Number.NaN)],
    ['TimeoutSeconds', Number(state.TimeoutSeconds ?? Number.NaN)],
  ] as const;
  const first = limits
    .filter(([, seconds]) => Number.isFinite(seconds) && world.now - startedMs > seconds * 1000)
    .sort((a, b) => a[1] - b[1])[0];
  if (!first) return undefined;
  const [limit, seconds] = first;
  world.now = startedMs + seconds * 1000;
  return namedError(
    'States.Timeout',
    limit === 'HeartbeatSeconds'
      ? `${name} sent no heartbeat within its HeartbeatSeconds (${seconds} s)`
      : `${name} ran past its TimeoutSeconds (${seconds} s)`,
  );
};

/** When an execution of `definition` that started at `startedMs` times out, or undefined. */
export const executionDeadline = (definition: AslDefinition, startedMs: number): number | undefined =>
  definition.TimeoutSeconds === undefined ? undefined : startedMs + Number(definition.TimeoutSeconds) * 1000;
