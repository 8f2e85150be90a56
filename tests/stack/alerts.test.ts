import { lifecycleMetrics, workflowTypeOf } from '@tradai/execution-metrics';
import { BUSINESS_FAILURES } from '@tradai/lambda-kit';
import {
  DLQ_URL,
  LOCAL,
  MACHINES,
  type MachineName,
  readCases,
  runWorkflow,
  type WorkflowRun,
} from '@tradai/local-aws';
import { MACHINES as STACK_MACHINES } from '@tradai/stack';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  breachedAlarms,
  type Datapoint,
  deliveries,
  deliveryProblem,
  pagingAlarms,
  type Resources,
} from './alerts';
import { readPackaged } from './package-stack';

let resources: Resources;
beforeAll(() => {
  resources = readPackaged(inject('packagedDir')).template.Resources;
});

describe('alerts that can reach a person', () => {
  it('lets every alarm action and rule target actually deliver: no AWS-managed key, a key grant and a topic policy', () => {
    // Act
    const problems = deliveries(resources).flatMap(({ service, targetId, from }) => {
      const problem = deliveryProblem(resources, service, targetId);
      return problem ? [`${from}: ${problem}`] : [];
    });

    // Assess
    expect(deliveries(resources).filter((d) => d.targetId === 'AlertsTopic').length).toBeGreaterThanOrEqual(
      10,
    );
    expect(problems).toEqual([]);
  });

  it('refuses a topic encrypted with alias/aws/sns, as the stack had it', () => {
    // Prepare: the alerts topic as it was
    const before: Resources = {
      ...resources,
      AlertsTopic: { Type: 'AWS::SNS::Topic', Properties: { KmsMasterKeyId: 'alias/aws/sns' } },
    };

    // Act
    const problem = deliveryProblem(before, 'cloudwatch.amazonaws.com', 'AlertsTopic');

    // Assess
    expect(problem).toMatch(/AWS-managed key alias\/aws\/sns/);
  });

  it('refuses a customer-managed key that grants EventBridge nothing, for a rule that would target it', () => {
    expect(deliveryProblem(resources, 'events.amazonaws.com', 'AlertsTopic')).toMatch(
      /does not let events.amazonaws.com/,
    );
  });

  it('encrypts the alerts topic with a rotating customer-managed key that CloudWatch may use for this account only', () => {
    expect(resources.AlertsKey?.Properties).toMatchObject({ EnableKeyRotation: true });
    expect(resources.AlertsTopic?.Properties?.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': ['AlertsKey', 'Arn'] });
    expect(resources.AlertsEmailSubscription).toMatchObject({
      Condition: 'HasAlertsEmail',
      Properties: { Protocol: 'email', TopicArn: { Ref: 'AlertsTopic' } },
    });
  });
});

describe('the operations dashboard', () => {
  const body = () => {
    const sub = resources.OperationsDashboard?.Properties?.DashboardBody as { 'Fn::Sub': [string, unknown] };
    // The ${...} placeholders are filled by CloudFormation; as JSON they are strings already.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
    return JSON.parse(sub['Fn::Sub'][0].replace('[${AlarmArns}]', '[]')) as {
      widgets: { type: string; properties: { title: string; metrics?: unknown[][] } }[];
    };
  };

  it.each([
    ['Executions by workflow and outcome', ['ExecutionSucceeded', 'ExecutionFailed']],
    ['Failures: business (shown) vs infrastructure (pages)', ['InfrastructureFailure', 'BusinessFailure']],
    ['Backtest duration (s)', ['ExecutionDuration']],
    ['Spot fallbacks to on-demand Fargate', ['SpotFallback']],
    ['Dead-letter queue depth', ['ApproximateNumberOfMessagesVisible']],
    ['Backtest trigger: batch failures', ['FailedInvocations', 'BacktestRequestsParked']],
  ])('has the widget "%s"', (title, metrics) => {
    // Act
    const widget = body().widgets.find((w) => w.properties.title === title);

    // Assess
    const named = (widget?.properties.metrics ?? []).map((row) => row[1]);
    for (const metric of metrics) expect(named).toContain(metric);
  });

  /** The WorkflowType of every machine the stack deploys, as execution-metrics names it. */
  const workflowTypes = () => [
    ...new Set(
      STACK_MACHINES.map((machine) =>
        workflowTypeOf(
          `arn:aws:states:eu-west-1:123456789012:stateMachine:tradai-x-${machine.file}`,
          'tradai-x-',
        ),
      ),
    ),
  ];
  const workflowsIn = (title: string) => {
    const rows = body().widgets.find((w) => w.properties.title === title)?.properties.metrics ?? [];
    // A row names WorkflowType's value at index 3; "." repeats the row above.
    let last: unknown;
    return new Set(
      rows.map((row) => {
        last = row[3] === '.' || row[3] === undefined ? last : row[3];
        return last;
      }),
    );
  };

  it.each(['Executions by workflow and outcome', 'Failures: business (shown) vs infrastructure (pages)'])(
    'shows every deployed workflow in "%s", the sweep included',
    (title) => {
      expect(workflowTypes()).toContain('backtest-sweep');
      for (const workflow of workflowTypes())
        expect(workflowsIn(title), String(workflow)).toContain(workflow);
    },
  );

  it('shows the sweeps: started, variants accepted, outcomes, and their duration', () => {
    const sweeps = body().widgets.find(
      (w) => w.properties.title === 'Parameter sweeps: started, variants, outcomes',
    );
    expect((sweeps?.properties.metrics ?? []).map((row) => row[1])).toEqual([
      'ExecutionStarted',
      'ExecutionSucceeded',
      'ExecutionFailed',
      'ExecutionAborted',
      'SweepVariants',
    ]);
    expect(workflowsIn('Parameter sweep duration (s)')).toEqual(new Set(['backtest-sweep']));
  });

  it("pages on every deployed workflow's infrastructure failures", () => {
    const paging = pagingAlarms(resources);
    const watched = Object.entries(resources)
      .filter(([id, r]) => paging.has(id) && r.Properties?.MetricName === 'InfrastructureFailure')
      .map(([, r]) => ((r.Properties?.Dimensions ?? []) as { Name: string; Value: string }[])[0]?.Value);
    expect(watched.sort()).toEqual(workflowTypes().sort());
  });

  it('lists in its alarm widget, by ARN built from their names, exactly the alarms it is created after', () => {
    // Prepare
    const dashboard = resources.OperationsDashboard as {
      DependsOn?: string[];
      Properties: Record<string, unknown>;
    };
    const sub = dashboard.Properties.DashboardBody as {
      'Fn::Sub': [string, { AlarmArns: { 'Fn::Join': [string, { 'Fn::Sub': string }[]] } }];
    };

    // Act
    const named = sub['Fn::Sub'][1].AlarmArns['Fn::Join'][1].map(
      (arn) => /:alarm:([\w-]+)"$/.exec(arn['Fn::Sub'])?.[1],
    );
    const after = (dashboard.DependsOn ?? []).map((id) => resources[id]?.Properties?.AlarmName);

    // Assess: each name is an alarm of the stack, and the dashboard waits for it
    expect(named.length).toBeGreaterThanOrEqual(8);
    expect(named).toEqual(after);
    for (const id of dashboard.DependsOn ?? []) expect(resources[id]?.Type).toBe('AWS::CloudWatch::Alarm');
  });

  it('shows p50, p90 and max of the backtest duration', () => {
    const widget = body().widgets.find((w) => w.properties.title === 'Backtest duration (s)');
    const stats = (widget?.properties.metrics ?? []).map((row) => (row.at(-1) as { stat?: string }).stat);
    expect(stats).toEqual(['p50', 'p90', 'Maximum']);
  });
});

/**
 * Each workflow scenario's end, as CloudWatch would see it: the lifecycle metrics execution-metrics
 * emits for its status change, AWS/States' own per-machine counts, and the workflow DLQ's depth.
 */
const datapointsOf = (run: WorkflowRun): Datapoint[] => {
  const machineId = MACHINE_IDS[run.machine];
  const workflowType = workflowTypeOf(run.end.stateMachineArn, `tradai-${LOCAL.stage}-`);
  const lifecycle = lifecycleMetrics({ ...run.end, error: run.end.error }).map((metric) => ({
    namespace: 'TradAI/StepFunctions',
    metric: metric.name,
    dimensions: { WorkflowType: workflowType },
    value: metric.value,
  }));
  const awsStates = {
    FAILED: 'ExecutionsFailed',
    TIMED_OUT: 'ExecutionsTimedOut',
    ABORTED: 'ExecutionsAborted',
  }[run.end.status as 'FAILED'];
  const dlqDepth = run.world.queued.filter((message) => message.queueUrl === DLQ_URL).length;
  return [
    ...lifecycle,
    ...(awsStates
      ? [
          {
            namespace: 'AWS/States',
            metric: awsStates,
            dimensions: { StateMachineArn: { Ref: machineId } },
            value: 1,
          },
        ]
      : []),
    ...(dlqDepth > 0
      ? [
          {
            namespace: 'AWS/SQS',
            metric: 'ApproximateNumberOfMessagesVisible',
            dimensions: { QueueName: { 'Fn::GetAtt': ['WorkflowDeadLetterQueue', 'QueueName'] } },
            value: dlqDepth,
          },
        ]
      : []),
  ];
};

/** Each machine's logical id, from the stack declaration. */
const MACHINE_IDS = Object.fromEntries(STACK_MACHINES.map((machine) => [machine.file, machine.id])) as Record<
  MachineName,
  string
>;

describe('which scenario ends page someone (the template alarms, fed each scenario)', () => {
  const ends: { machine: MachineName; caseName: string; run: WorkflowRun; paged: string[] }[] = [];

  beforeAll(async () => {
    const paging = pagingAlarms(resources);
    for (const machine of MACHINES) {
      // A heavy case (Sweep1000) pages exactly as its 24-variant sibling does; the scenarios test runs it.
      for (const [caseName, definition] of Object.entries(readCases(machine).cases)) {
        if (definition.heavy) continue;
        const run = await runWorkflow({ machine, caseName });
        const paged = breachedAlarms(resources, datapointsOf(run)).filter((id) => paging.has(id));
        ends.push({ machine, caseName, run, paged });
      }
    }
  });

  it('runs every scenario of every machine', () => {
    expect(ends.length).toBeGreaterThanOrEqual(100);
  });

  it('pages nobody for a rejected request, stale data, a duplicate run or a refused deploy', () => {
    // Act
    const business = ends.filter(
      ({ run }) => run.status === 'FAILED' && BUSINESS_FAILURES.includes(run.end.error ?? ''),
    );

    // Assess
    const names = new Set(business.map(({ run }) => run.end.error));
    for (const name of ['ValidationError', 'DataStaleError', 'DuplicateRunError', 'DeploymentRefusedError'])
      expect(names).toContain(name);
    expect(
      business
        .filter(({ paged }) => paged.length > 0)
        .map(({ machine, caseName, paged }) => `${machine}/${caseName}: ${paged}`),
    ).toEqual([]);
  });

  it('pages nobody when a run succeeds, unless its notification could not be delivered (the DLQ)', () => {
    const succeeded = ends.filter(({ run }) => run.status === 'SUCCEEDED');
    expect(succeeded.length).toBeGreaterThan(30);
    for (const { machine, caseName, run, paged } of succeeded) {
      const undelivered = run.world.queued.some((message) => message.queueUrl === DLQ_URL);
      expect(paged, `${machine}/${caseName}`).toEqual(undelivered ? ['WorkflowDlqMessagesAlarm'] : []);
    }
  });

  it.each([
    ['backtest', 'UnknownErrorToDLQ', ['BacktestInfrastructureFailuresAlarm', 'WorkflowDlqMessagesAlarm']],
    ['backtest', 'ContainerExitsNonZero', ['BacktestInfrastructureFailuresAlarm']],
    ['backtest', 'EcsTimeout', ['BacktestInfrastructureFailuresAlarm', 'BacktestDurationLongAlarm']],
    [
      'backtest',
      'ExecutionTimesOut',
      [
        'BacktestInfrastructureFailuresAlarm',
        'BacktestStateMachineExecutionsTimedOutAlarm',
        'BacktestDurationLongAlarm',
      ],
    ],
    ['backtest', 'CrashBeforeFirstCatch', ['BacktestInfrastructureFailuresAlarm']],
    [
      'backtest-simplified',
      'ContainerDoesNotRecord',
      ['BacktestInfrastructureFailuresAlarm', 'WorkflowDlqMessagesAlarm'],
    ],
  ] as const)('pages for %s %s through %j', (machine, caseName, alarms) => {
    const end = ends.find((e) => e.machine === machine && e.caseName === caseName);
    expect(end?.paged.sort()).toEqual([...alarms].sort());
  });

  it('pages for every infrastructure failure of every machine', () => {
    const infrastructure = ends.filter(
      ({ run }) =>
        run.status === 'TIMED_OUT' ||
        (run.status === 'FAILED' && !BUSINESS_FAILURES.includes(run.end.error ?? '')),
    );
    expect(infrastructure.length).toBeGreaterThan(20);
    expect(
      infrastructure
        .filter(({ paged }) => paged.length === 0)
        .map(({ machine, caseName }) => `${machine}/${caseName}`),
    ).toEqual([]);
  });
});
