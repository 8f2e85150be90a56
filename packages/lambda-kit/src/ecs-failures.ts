/*
 * Why RunTask could not start a task, from what AWS sends (issue 27). On Step Functions,
 * `ecs:runTask.sync` fails with the error name `ECS.AmazonECSException` for each of these; only the
 * cause tells them apart. The cause is AWS's own text (never a user's), and each reason below is
 * AWS's documented wording, with its source. A cause may also carry RunTask's `failures` as JSON
 * (`[{arn, reason}]`): their `reason` is read first.
 */

export type LaunchFailureKind = 'spot_capacity' | 'throttled' | 'quota' | 'other';

export interface EcsLaunchFailure {
  kind: Exclude<LaunchFailureKind, 'other'>;
  /** AWS's wording, as documented (also what the local engine sends). */
  reason: string;
  pattern: RegExp;
  /** Where AWS documents it. */
  source: string;
}

/** The error name Step Functions gives every RunTask failure of an `ecs:runTask.sync` state. */
export const ECS_LAUNCH_ERROR = 'ECS.AmazonECSException';

export const ECS_LAUNCH_FAILURES: readonly EcsLaunchFailure[] = [
  {
    kind: 'spot_capacity',
    reason:
      'Capacity is unavailable at this time. Please try again later or in a different availability zone',
    pattern: /capacity is unavailable at this time/i,
    source:
      'AWS re:Post Knowledge Center (AWS official), "How do I troubleshoot an Amazon ECS RunTask API for a Fargate task that fails with a Capacity is unavailable error?" (https://repost.aws/knowledge-center/ecs-fargate-runtask-capacity): RunTask fails with this message, and Step Functions records ECS.AmazonECSException',
  },
  {
    kind: 'spot_capacity',
    reason: 'No Container Instances were found in your capacity provider',
    pattern: /no container instances were found/i,
    source:
      'Amazon ECS Developer Guide, "Amazon ECS API failure reasons" (RunTask: nothing to place the task on)',
  },
  {
    kind: 'quota',
    reason: "You've reached the limit on the number of vCPUs you can run concurrently",
    pattern: /reached the limit on the number of vcpus/i,
    source:
      'Amazon ECS Developer Guide, "AWS Fargate service quotas" (vCPU-based quotas); the wording as ECS reports it ("was unable to place a task. Reason: You\'ve reached the limit on the number of vCPUs you can run concurrently")',
  },
  {
    kind: 'quota',
    reason: "You've reached the limit on the number of tasks you can run concurrently",
    pattern: /reached the limit on the number of tasks/i,
    source: 'Amazon ECS Developer Guide, "Amazon ECS service quotas" (tasks launched per RunTask/cluster)',
  },
  {
    kind: 'throttled',
    reason: 'Rate exceeded',
    pattern: /rate exceeded|throttlingexception|too many requests/i,
    source:
      'Amazon ECS API Reference, "Request throttling for the Amazon ECS API" (RunTask on Fargate: 20 calls per second, bucket of 100; ThrottlingException "Rate exceeded")',
  },
];

/** Service Quotas' names of the Fargate vCPU quotas, by capacity provider (Service Quotas console, "AWS Fargate"). */
export const FARGATE_VCPU_QUOTAS: Record<string, string> = {
  FARGATE_SPOT: 'Fargate Spot vCPU resource count (L-36FBB829)',
  FARGATE: 'Fargate On-Demand vCPU resource count (L-3032A538)',
};

const reasonsIn = (cause: string): string[] => {
  try {
    const parsed = JSON.parse(cause) as unknown;
    const failures =
      (parsed as { Failures?: unknown; failures?: unknown })?.Failures ??
      (parsed as { failures?: unknown })?.failures;
    if (Array.isArray(failures))
      return failures.map((f) =>
        String(
          (f as { Reason?: unknown; reason?: unknown }).Reason ?? (f as { reason?: unknown }).reason ?? '',
        ),
      );
  } catch {
    // Not JSON: the SDK's exception message, read as it is.
  }
  return [cause];
};

/** Which documented launch failure `cause` is, or `other`. */
export const classifyEcsLaunchFailure = (
  cause: string,
): { kind: LaunchFailureKind; failure: EcsLaunchFailure | undefined; reason: string } => {
  for (const reason of reasonsIn(cause)) {
    const failure = ECS_LAUNCH_FAILURES.find((f) => f.pattern.test(reason));
    if (failure) return { kind: failure.kind, failure, reason };
  }
  return { kind: 'other', failure: undefined, reason: cause.slice(0, 500) };
};
