import {
  FAIL_FAST_ERRORS,
  MAX_ROLLOUT_SECONDS,
  RETRYABLE_LAMBDA_ERRORS,
  ROLLOUT_POLL_SECONDS,
} from '@tradai/lambda-kit';
import {
  type AslDefinition,
  type AslState,
  allStates,
  LOCAL_SUBSTITUTIONS,
  MACHINES,
  placeholdersOf,
  readAsl,
  resolvedAsl,
} from '@tradai/local-aws';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { sweepVariantState, variantTimeoutIssues, variantTimeoutSeconds, worstCasePathSeconds } from '../src';

const isLambdaTask = (state: AslState) =>
  state.Type === 'Task' &&
  /^\$\{\w+Arn\}$/.test(String(state.Resource)) &&
  !String(state.Resource).includes('StateMachine');
const isSyncTask = (state: AslState) => state.Type === 'Task' && String(state.Resource).includes('.sync');

/**
 * The transient errors each service integration is retried on, as AWS names them
 * (docs/decisions/0030: the docs, LocalStack's port of the integrations, and the names unconfirmed).
 */
const TRANSIENT_ERRORS: [resource: string, errors: string[]][] = [
  [
    // ECS.AmazonECSException is not among them: AWS sends it for a Spot shortage, throttling and a
    // quota alike, so it is classified (classify-launch-failure), never retried blindly (issue 27).
    'arn:aws:states:::ecs:runTask.sync',
    ['ECS.ServerException', 'ECS.SdkClientException', 'ECS.ThrottlingException'],
  ],
  [
    'arn:aws:states:::dynamodb:',
    [
      'DynamoDB.ProvisionedThroughputExceededException',
      'DynamoDB.RequestLimitExceeded',
      'DynamoDB.ThrottlingException',
      'DynamoDB.InternalServerError',
    ],
  ],
  ['arn:aws:states:::aws-sdk:ecs:', ['Ecs.ServerException', 'Ecs.EcsException', 'Ecs.ThrottlingException']],
  ['arn:aws:states:::sqs:', ['SQS.AmazonSQSException', 'SQS.SdkClientException']],
];

describe.each(MACHINES)('%s.asl.json', (machine) => {
  const definition = readAsl(machine);
  const states = allStates(definition);

  it('is valid ASL (asl-validator, JSONPath syntax included)', () => {
    // Act
    const { isValid, errorsText } = aslValidator(resolvedAsl(machine) as never, {
      checkPaths: true,
      checkArn: true,
    });

    // Assess
    expect(errorsText()).toBe('');
    expect(isValid).toBe(true);
  });

  it('has a local value for every placeholder', () => {
    // Act
    const placeholders = placeholdersOf(JSON.stringify(definition));

    // Assess
    expect(placeholders.filter((name) => !(name in LOCAL_SUBSTITUTIONS))).toEqual([]);
  });

  it("retries every ECS, DynamoDB and SQS task on each of its service's transient error names", () => {
    for (const [name, state] of states) {
      const errors = TRANSIENT_ERRORS.find(([resource]) => String(state.Resource).startsWith(resource))?.[1];
      if (state.Type !== 'Task' || !errors) continue;
      const retried = (state.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals);
      expect(retried, name).toEqual(expect.arrayContaining(errors));
    }
  });

  it('never retries a backtest launch failure blindly: ECS.AmazonECSException goes to ClassifyLaunchFailure', () => {
    // The data-sync task still retries it twice (its collection task runs on-demand only).
    for (const [name, state] of states.filter(([stateName]) => stateName === 'RunBacktest')) {
      const retried = (state.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals);
      expect(retried, name).not.toContain('ECS.AmazonECSException');
      const router = definition.States.SpotCapacityLost as { Choices: { Next: string }[] } | undefined;
      if (router) expect(JSON.stringify(router.Choices[0])).toContain('ECS.AmazonECSException');
      if (router) expect(router.Choices[0]?.Next).toBe('ClassifyLaunchFailure');
    }
  });

  it('retries every Lambda task with the standard retrier and never retries a business error', () => {
    for (const [name, state] of states.filter(([, s]) => isLambdaTask(s))) {
      const retrier = state.Retry?.[0];
      expect(retrier?.ErrorEquals, name).toEqual(expect.arrayContaining([...RETRYABLE_LAMBDA_ERRORS]));
      expect(
        { interval: retrier?.IntervalSeconds, backoff: retrier?.BackoffRate, attempts: retrier?.MaxAttempts },
        name,
      ).toEqual({
        interval: 2,
        backoff: 2,
        attempts: 3,
      });
    }
    const retried = states.flatMap(([, state]) =>
      (state.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals),
    );
    expect(
      retried.filter((error) => [...FAIL_FAST_ERRORS, 'States.ALL', 'States.TaskFailed'].includes(error)),
    ).toEqual([]);
  });

  it('catches every error of every Task and Parallel state', () => {
    const uncaught = states
      .filter(([, state]) => state.Type === 'Task' || state.Type === 'Parallel')
      .filter(
        ([, state]) => !(state.Catch ?? []).some((catcher) => catcher.ErrorEquals.includes('States.ALL')),
      )
      // Branch states hand their errors to the Parallel state's Catch.
      .filter(([name]) => !['ValidateStrategy', 'CheckDataFreshness'].includes(name));
    expect(uncaught.map(([name]) => name)).toEqual([]);
  });

  it('ends every failure in a Fail state named by the error, and only success in an End state', () => {
    // Assess
    const ends = Object.entries(definition.States).filter(([, state]) => state.End === true);
    const success = {
      backtest: 'BacktestCompleted',
      'backtest-simplified': 'BacktestCompleted',
      'data-sync': 'DataSyncCompleted',
      deploy: 'DeployCompleted',
      'backtest-sweep': 'SweepCompleted',
    }[machine];
    expect(ends.map(([name, state]) => `${name}:${state.Type}`)).toEqual([`${success}:Pass`]);
    const fails = Object.entries(definition.States).filter(([, state]) => state.Type === 'Fail');
    expect(
      fails.map(([name, state]) => `${name}:${String(state.ErrorPath)}:${String(state.CausePath)}`),
    ).toEqual(['FailRun:$.error.Error:$.error.Cause', 'FailRunWithoutCause:$.failure.Error:$.failure.Cause']);
  });

  it('bounds every .sync task without a heartbeat nothing could send, and keeps a healthy 70-minute backtest alive', () => {
    for (const [name, state] of states.filter(([, s]) => isSyncTask(s))) {
      expect(state.HeartbeatSeconds, name).toBeUndefined();
      expect(state.TimeoutSeconds, name).toBeGreaterThan(0);
    }
    if (machine === 'data-sync') {
      expect(definition.States.FetchAndStoreData?.TimeoutSeconds).toBe(30 * 60);
    } else if (machine === 'backtest-sweep') {
      // Each variant is a whole backtest execution: its own timeout ends it first (below).
      expect(variantTimeoutIssues(readAsl('backtest'), definition)).toEqual([]);
    } else if (machine !== 'deploy') {
      expect(definition.States.RunBacktest?.TimeoutSeconds).toBeGreaterThanOrEqual(70 * 60 + 15 * 60);
    }
  });

  it('lets the slowest possible path finish before the execution times out, so every Catch still runs', () => {
    // Act
    const worst = worstCasePathSeconds(definition);

    // Assess
    expect(definition.TimeoutSeconds).toBeGreaterThan(worst);
  });
});

describe("a sweep's variant timeout", () => {
  const backtest = readAsl('backtest');
  const sweep = readAsl('backtest-sweep');

  it("outlasts the backtest machine's own timeout, whose slowest path (Spot lost, on-demand, every retry) fits inside it", () => {
    // Act
    const issues = variantTimeoutIssues(backtest, sweep);

    // Assess
    expect(issues).toEqual([]);
    expect(sweepVariantState(sweep)?.TimeoutSeconds).toBe(variantTimeoutSeconds(backtest));
    // The issue's figure: the old 5,400 s cut off a variant that fell back to on-demand.
    expect(worstCasePathSeconds(backtest)).toBeGreaterThan(5_400);
  });

  it("is called short when the backtest machine's retries grow past its timeout", () => {
    // Arrange: RunBacktest also retried once on its own timeout: one more 90-minute attempt.
    const grown = structuredClone(backtest) as AslDefinition;
    const run = grown.States.RunBacktest as AslState;
    run.Retry = [
      ...(run.Retry ?? []),
      { ErrorEquals: ['States.Timeout'], MaxAttempts: 1, IntervalSeconds: 60 },
    ];

    // Act
    const issues = variantTimeoutIssues(grown, sweep);

    // Assess
    expect(issues).toEqual([expect.stringContaining("the backtest machine's slowest path takes")]);
  });

  it('is called short when the backtest machine may run longer than the variant waits', () => {
    // Arrange
    const longer = { ...backtest, TimeoutSeconds: Number(backtest.TimeoutSeconds) + 3_600 };

    // Act + Assess
    expect(variantTimeoutIssues(longer, sweep)).toEqual([
      expect.stringContaining("RunVariant's TimeoutSeconds is 18300"),
    ]);
  });
});

describe('the nested data sync', () => {
  it('outlives the child execution, so a failed sync reaches the backtest with its own error', () => {
    // Act
    const trigger = readAsl('backtest').States.TriggerDataSync;

    // Assess
    expect(trigger?.TimeoutSeconds).toBeGreaterThan(
      readAsl('data-sync').TimeoutSeconds ?? Number.POSITIVE_INFINITY,
    );
  });
});

describe.each(['backtest', 'backtest-simplified'] as const)('%s RunBacktest', (machine) => {
  it('runs the backtest as one valid RunTask state, on Fargate Spot first and on-demand after a Spot loss', () => {
    const definition = readAsl(machine);
    const ecsTasks = allStates(definition).filter(([, state]) =>
      String(state.Resource).includes(':ecs:runTask'),
    );
    expect(ecsTasks.map(([name]) => name)).toEqual(['RunBacktest']);
    const task = definition.States.RunBacktest as AslState & { Parameters: Record<string, unknown> };
    expect(task.Parameters.LaunchType).toBeUndefined();
    expect(task.Parameters.CapacityProviderStrategy).toEqual([
      { 'CapacityProvider.$': '$.pinned.capacity_provider', Weight: 1 },
    ]);
    expect(definition.States.PinTaskDefinition?.ResultSelector).toMatchObject({
      capacity_provider: 'FARGATE_SPOT',
    });
    expect(definition.States.UseOnDemandCapacity).toMatchObject({
      Type: 'Pass',
      Result: 'FARGATE',
      ResultPath: '$.pinned.capacity_provider',
      Next: 'RunBacktest',
    });
    {
      const [container] = (task.Parameters.Overrides as { ContainerOverrides: Record<string, unknown>[] })
        .ContainerOverrides;
      expect(container).not.toHaveProperty('Image');
      expect(container?.['Command.$']).toBe("States.Array('backtest', '--config', $.prepared.config_path)");
      expect(task.Parameters['TaskDefinition.$']).toBe('$.pinned.task_definition_arn');
    }
  });
});

describe('the states the full and the simplified backtest machines share', () => {
  /**
   * Where the two machines may differ, state by state, beyond their name, comments and
   * transitions (docs/decisions/0034). Every other shared state must be identical.
   */
  const ALLOWED_DIFFERENCES: Record<string, string> = {
    EvaluateChecks: 'only the full machine can run a nested data sync (stale data with auto_sync)',
    DataStale: 'the simplified machine tells the caller to run the data-sync workflow first',
    RunBacktest: "the simplified machine's v9.2 container records its own status: it gets the table's name",
    PublishUndeliveredNotification: 'the result each machine reports is its own',
    RecordFailure:
      'the simplified machine may also fail a COMPLETED its container recorded but never confirmed',
  };
  /** A state without what legitimately differs: the machine's name, comments, and where it goes next. */
  const comparable = (state: unknown): unknown =>
    JSON.parse(JSON.stringify(state).replaceAll('"backtest-simplified"', '"backtest"'), (key, value) =>
      ['Comment', 'Next', 'Default'].includes(key) ? undefined : value,
    );

  it('keeps every shared state identical, except where a listed reason says why', () => {
    // Prepare
    const full = readAsl('backtest').States;
    const simplified = readAsl('backtest-simplified').States;
    const shared = Object.keys(full).filter((name) => name in simplified);

    // Act
    const differing = shared.filter(
      (name) => JSON.stringify(comparable(full[name])) !== JSON.stringify(comparable(simplified[name])),
    );

    // Assess
    expect(shared.length).toBeGreaterThanOrEqual(30);
    expect(differing.sort()).toEqual(Object.keys(ALLOWED_DIFFERENCES).sort());
  });
});

describe('the deploy rollout wait', () => {
  it("polls as often, and at most as long, as check-service-rollout's budget assumes", () => {
    // Act
    const retrier = readAsl('deploy').States.WaitForRollout?.Retry?.find((r) =>
      r.ErrorEquals.includes('RolloutInProgressError'),
    );

    // Assess
    expect(retrier?.IntervalSeconds).toBe(ROLLOUT_POLL_SECONDS);
    expect(retrier?.BackoffRate).toBe(1);
    expect((retrier?.MaxAttempts ?? 0) * ROLLOUT_POLL_SECONDS).toBe(MAX_ROLLOUT_SECONDS);
  });
});
