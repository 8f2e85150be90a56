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
  actionTargets,
  alarmsOf,
  breachedAlarms,
  type Datapoint,
  deliveries,
  deliveryProblem,
  noticeAlarms,
  pagingAlarms,
  type Resources,
  referencedId,
  statementsOf,
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

/**
 * Where an alarm goes, by what it watches (docs/decisions/0041). An infrastructure failure or lost
 * work pages on-call through the alerts topic; refused requests and slow runs are notices for the
 * quants. An alarm on a metric not listed here fails the routing test until someone decides.
 */
const TOPIC_BY_METRIC: Record<string, 'AlertsTopic' | 'NoticesTopic'> = {
  InfrastructureFailure: 'AlertsTopic',
  ExecutionsTimedOut: 'AlertsTopic',
  ExecutionThrottled: 'AlertsTopic',
  ApproximateNumberOfMessagesVisible: 'AlertsTopic',
  BusinessFailure: 'NoticesTopic',
  ExecutionDuration: 'NoticesTopic',
};

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders
const OUR_ALARMS = 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*';

describe('every alarm reaches someone', () => {
  it('gives every alarm of the packaged template at least one alarm action', () => {
    // Act
    const silent = alarmsOf(resources)
      .filter(([, alarm]) => ((alarm.Properties?.AlarmActions ?? []) as unknown[]).length === 0)
      .map(([id]) => id);

    // Assess: 8 alarms of alerts.yml, 2 per machine from serverless-step-functions
    expect(alarmsOf(resources).length).toBeGreaterThanOrEqual(8 + 2 * STACK_MACHINES.length);
    expect(silent).toEqual([]);
  });

  it('pages on-call for infrastructure failures and lost work only, and sends refused and slow runs to the notices topic', () => {
    // Act: every topic each alarm's actions (alarm, OK, insufficient data) publish to
    const routes = Object.fromEntries(alarmsOf(resources).map(([id, alarm]) => [id, actionTargets(alarm)]));

    // Assess
    const decided = Object.fromEntries(
      alarmsOf(resources).map(([id, alarm]) => [
        id,
        [TOPIC_BY_METRIC[String(alarm.Properties?.MetricName)] ?? 'no decision for this metric'],
      ]),
    );
    expect(routes).toEqual(decided);
    expect(noticeAlarms(resources)).toEqual(
      new Set(['BacktestFailuresHighAlarm', 'BacktestDurationLongAlarm']),
    );
    expect(resources.BacktestFailuresHighAlarm?.Properties?.AlarmActions).toEqual([{ Ref: 'NoticesTopic' }]);
  });

  it('encrypts the notices topic with a rotating customer-managed key that lets CloudWatch GenerateDataKey and Decrypt', () => {
    // Act
    const keyId = resources.NoticesTopic?.Properties?.KmsMasterKeyId;
    const key = resources[referencedId(keyId) ?? ''];
    const grant = statementsOf(key?.Properties?.KeyPolicy).find(
      (s) => s.Principal?.Service === 'cloudwatch.amazonaws.com',
    );

    // Assess: a key of the stack (not alias/aws/sns), granting CloudWatch for this account only
    expect(keyId).toEqual({ 'Fn::GetAtt': ['AlertsKey', 'Arn'] });
    expect(key).toMatchObject({ Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true } });
    expect(grant).toMatchObject({
      Effect: 'Allow',
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    expect([grant?.Action].flat().sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(deliveryProblem(resources, 'cloudwatch.amazonaws.com', 'NoticesTopic')).toBeUndefined();
  });

  it("lets CloudWatch publish to the notices topic, for this account's alarms only", () => {
    // Act
    const policies = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::SNS::TopicPolicy' &&
        ((r.Properties?.Topics ?? []) as unknown[]).some((t) => referencedId(t) === 'NoticesTopic'),
    );

    // Assess
    expect(policies).toHaveLength(1);
    expect(statementsOf(policies[0]?.Properties?.PolicyDocument)).toEqual([
      {
        Sid: 'OurAlarmsPublish',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: 'NoticesTopic' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': { 'Fn::Sub': OUR_ALARMS } },
        },
      },
    ]);
  });

  it('names the notices topic per stage and subscribes an email to it only when TRADAI_NOTICES_EMAIL is set', () => {
    // Prepare
    const template = readPackaged(inject('packagedDir')).template as unknown as {
      Parameters: Record<string, { Default?: string }>;
      Conditions: Record<string, unknown>;
    };

    // Assess
    expect(resources.NoticesTopic?.Properties).toMatchObject({ TopicName: 'tradai-dev-notices' });
    expect(resources.NoticesEmailSubscription).toMatchObject({
      Condition: 'HasNoticesEmail',
      Properties: { Protocol: 'email', TopicArn: { Ref: 'NoticesTopic' }, Endpoint: { Ref: 'NoticesEmail' } },
    });
    expect(template.Parameters.NoticesEmail?.Default).toBe('');
    expect(template.Conditions.HasNoticesEmail).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'NoticesEmail' }, ''] }],
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
  const ends: {
    machine: MachineName;
    caseName: string;
    run: WorkflowRun;
    paged: string[];
    noticed: string[];
  }[] = [];

  beforeAll(async () => {
    const paging = pagingAlarms(resources);
    const notices = noticeAlarms(resources);
    for (const machine of MACHINES) {
      // A heavy case (Sweep1000) pages exactly as its 24-variant sibling does; the scenarios test runs it.
      for (const [caseName, definition] of Object.entries(readCases(machine).cases)) {
        if (definition.heavy) continue;
        const run = await runWorkflow({ machine, caseName });
        const breached = breachedAlarms(resources, datapointsOf(run));
        const paged = breached.filter((id) => paging.has(id));
        ends.push({ machine, caseName, run, paged, noticed: breached.filter((id) => notices.has(id)) });
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
    ['backtest', 'EcsTimeout', ['BacktestInfrastructureFailuresAlarm']],
    [
      'backtest',
      'ExecutionTimesOut',
      ['BacktestInfrastructureFailuresAlarm', 'BacktestStateMachineExecutionsTimedOutAlarm'],
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

  it.each([
    ['backtest', 'EcsTimeout'],
    ['backtest', 'ExecutionTimesOut'],
  ] as const)('tells the quants that %s %s ran over an hour, paging nobody for it', (machine, caseName) => {
    const end = ends.find((e) => e.machine === machine && e.caseName === caseName);
    expect(end?.noticed).toEqual(['BacktestDurationLongAlarm']);
    expect(end?.paged).not.toContain('BacktestDurationLongAlarm');
  });

  it('tells the quants when five backtests are refused within the hour, and pages nobody', () => {
    // Prepare: five refused backtests (both backtest machines are WorkflowType backtest)
    const refused = ends.filter(
      ({ run }) =>
        workflowTypeOf(run.end.stateMachineArn, `tradai-${LOCAL.stage}-`) === 'backtest' &&
        run.status === 'FAILED' &&
        BUSINESS_FAILURES.includes(run.end.error ?? ''),
    );
    expect(refused.length).toBeGreaterThanOrEqual(5);

    // Act: four, then five, in one period of the alarm
    const breachedBy = (count: number) =>
      breachedAlarms(
        resources,
        refused.slice(0, count).flatMap(({ run }) => datapointsOf(run)),
      );

    // Assess
    expect(breachedBy(4)).not.toContain('BacktestFailuresHighAlarm');
    expect(breachedBy(5)).toContain('BacktestFailuresHighAlarm');
    expect(breachedBy(5).filter((id) => noticeAlarms(resources).has(id))).toEqual([
      'BacktestFailuresHighAlarm',
    ]);
    expect(breachedBy(5).filter((id) => pagingAlarms(resources).has(id))).toEqual([]);
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
