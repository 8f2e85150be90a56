import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { check, type Schema } from '@tradai/lambda-kit';
import { allStates, LOCAL_ENVIRONMENT, readAsl } from '@tradai/local-aws';
import { FUNCTIONS, functionLogicalId, LOG_DELIVERY_ACTIONS, MACHINES } from '@tradai/stack';
import { unzipSync, zipSync } from 'fflate';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type PackagedStack, readPackaged, repoRoot } from './package-stack';
import { sdkCallsOf } from './sdk-calls';

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown };

/** Actions AWS gives no resource-level permissions for: `Resource: "*"` is the only option. */
const NO_RESOURCE_LEVEL_PERMISSIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  // CloudWatch Logs delivery for state machines (the log group is named in LoggingConfiguration).
  ...LOG_DELIVERY_ACTIONS,
  // Task definitions: no resource-level permissions (RegisterTaskDefinition is tag-conditioned).
  'ecs:DescribeTaskDefinition',
  'ecs:RegisterTaskDefinition',
  // ListTasks names only container instances (Service Authorization Reference), which a Fargate
  // service's tasks have none of: scoped by its ecs:cluster condition instead.
  'ecs:ListTasks',
]);

/** What each function's sample event must satisfy: the handler's own input schema. */

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JavaScript
const ARN = 'arn:${AWS::Partition}';
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JavaScript
const REGION_ACCOUNT = '${AWS::Region}:${AWS::AccountId}';

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

let stack: PackagedStack;
const resourcesOfType = (type: string) =>
  Object.entries(stack.template.Resources).filter(([, resource]) => resource.Type === type);

const statementsOf = (roleId: string): Statement[] => {
  const role = stack.template.Resources[roleId];
  const policies = (role?.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
};

const allStatements = (): Statement[] => [
  ...resourcesOfType('AWS::IAM::Role').flatMap(([id]) => statementsOf(id)),
  ...resourcesOfType('AWS::IAM::Policy').flatMap(
    ([, policy]) =>
      (policy.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [],
  ),
];

beforeAll(() => {
  stack = readPackaged(inject('packagedDir'));
});

describe('the packaged stack (sls package, no AWS credentials)', () => {
  it.each([
    ['validateStrategy', 'tradai-dev-validate-strategy', 'ValidateStrategyRole'],
    ['dataCollectionProxy', 'tradai-dev-data-collection-proxy', 'DataCollectionProxyRole'],
    ['validateBacktestRequest', 'tradai-dev-validate-backtest-request', 'ValidateBacktestRequestRole'],
    ['prepareConfig', 'tradai-dev-prepare-config', 'PrepareConfigRole'],
    ['pinTaskDefinition', 'tradai-dev-pin-task-definition', 'PinTaskDefinitionRole'],
    ['transformResults', 'tradai-dev-transform-results', 'TransformResultsRole'],
    ['cleanupResources', 'tradai-dev-cleanup-resources', 'CleanupResourcesRole'],
    ['notifyCompletion', 'tradai-dev-notify-completion', 'NotifyCompletionRole'],
    ['validateDataRequest', 'tradai-dev-validate-data-request', 'ValidateDataRequestRole'],
    ['validateDataQuality', 'tradai-dev-validate-data-quality', 'ValidateDataQualityRole'],
    ['validateDeployment', 'tradai-dev-validate-deployment', 'ValidateDeploymentRole'],
    ['checkServiceRollout', 'tradai-dev-check-service-rollout', 'CheckServiceRolloutRole'],
    ['startWorkflow', 'tradai-dev-start-workflow', 'StartWorkflowRole'],
    ['backtestTrigger', 'tradai-dev-backtest-trigger', 'BacktestTriggerRole'],
    ['executionMetrics', 'tradai-dev-execution-metrics', 'ExecutionMetricsRole'],
    ['reconcileRun', 'tradai-dev-reconcile-run', 'ReconcileRunRole'],
  ])('deploys %s as %s on nodejs24.x with its own role', (key, name, roleId) => {
    // Act
    const [, fn] =
      resourcesOfType('AWS::Lambda::Function').find(([, f]) => f.Properties?.FunctionName === name) ?? [];

    // Assess
    expect(fn?.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Role: { 'Fn::GetAtt': [roleId, 'Arn'] },
      TracingConfig: { Mode: 'Active' },
    });
    expect(stack.functions[key]?.name).toBe(name);
  });

  it('gives every function environment variable a literal value, so invoke local needs no stack', () => {
    for (const [, fn] of resourcesOfType('AWS::Lambda::Function')) {
      const environment = fn.Properties?.Environment as { Variables: Record<string, unknown> } | undefined;
      const variables = environment?.Variables ?? {};
      for (const [name, value] of Object.entries(variables)) {
        expect(typeof value, `${String(fn.Properties?.FunctionName)} ${name}`).toBe('string');
      }
    }
  });

  it('ships each function as code of at most 150 KB zipped, with a source map of our own sources only', () => {
    for (const key of Object.keys(stack.functions)) {
      // Prepare
      const files = unzipSync(readFileSync(path.join(stack.dir, `${key}.zip`)));
      const [code] = Object.entries(files).filter(([name]) => name.endsWith('.js'));
      const [, map] = Object.entries(files).find(([name]) => name.endsWith('.js.map')) ?? [];

      // Assess
      expect(code, key).toBeDefined();
      expect(
        zipSync({ 'index.js': code?.[1] ?? new Uint8Array() }, { level: 9 }).length,
        key,
      ).toBeLessThanOrEqual(150 * 1024);
      const sourceMap = JSON.parse(new TextDecoder().decode(map));
      expect(sourceMap.sourceRoot, key).toBe('/');
      expect(
        sourceMap.sources.slice(0, -1).every((source: string) => /^packages\/[a-z-]+\/src\//.test(source)),
        key,
      ).toBe(true);
      expect(sourceMap.sources.at(-1), key).toBe('node_modules');
      expect(map?.length ?? Number.POSITIVE_INFINITY, key).toBeLessThanOrEqual(40 * 1024);
    }
  });

  it('has no IAM statement with a wildcard action', () => {
    const actions = allStatements().flatMap((statement) => asList(statement.Action));
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => action === '*' || action.endsWith(':*'))).toEqual([]);
  });

  it('uses Resource "*" only for actions that have no resource-level permissions', () => {
    const avoidable = allStatements()
      .filter((statement) => asList(statement.Resource).includes('*'))
      .flatMap((statement) => asList(statement.Action))
      .filter((action) => !NO_RESOURCE_LEVEL_PERMISSIONS.has(action));
    expect(avoidable).toEqual([]);
  });

  it('lets validate-strategy describe only the strategy repositories and read only strategy configs', () => {
    // Act
    const statements = statementsOf('ValidateStrategyRole');
    const bySid = Object.fromEntries(statements.map((statement) => [statement.Sid, statement]));

    // Assess
    expect(bySid.DescribeStrategyImages).toMatchObject({
      Action: 'ecr:DescribeImages',
      Resource: { 'Fn::Sub': `${ARN}:ecr:${REGION_ACCOUNT}:repository/tradai/strategies/*` },
    });
    expect(bySid.ReadStrategyConfigs).toMatchObject({
      Action: 's3:GetObject',
      Resource: { 'Fn::Sub': `${ARN}:s3:::tradai-dev-strategies/strategies/*` },
    });
    expect(statements.flatMap((s) => asList(s.Action)).sort()).toEqual(
      [
        'ecr:DescribeImages',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:GetObject',
        's3:ListBucket',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
  });

  it('lets data-collection-proxy read only the dataset manifests', () => {
    // Act
    const statements = statementsOf('DataCollectionProxyRole');

    // Assess
    expect(statements.find((s) => s.Sid === 'ReadDatasetManifests')).toMatchObject({
      Action: 's3:GetObject',
      Resource: { 'Fn::Sub': `${ARN}:s3:::tradai-dev-market-data/datasets/*/manifest.json` },
    });
    expect(statements.flatMap((s) => asList(s.Action))).not.toContain('ecr:DescribeImages');
  });

  it('has a sample event for every function that its handler accepts', async () => {
    for (const fn of Object.values(stack.functions)) {
      const packageName = fn.handler.split('/')[1] ?? '';
      const eventFile = path.join(repoRoot, 'events', `${packageName}.json`);
      expect(existsSync(eventFile), eventFile).toBe(true);
      // Every function package exports its input schema as `input`, beside `handler` and `environment`.
      const { input: schema } = (await import(`@tradai/${packageName}`)) as { input?: Schema };
      expect(schema, `input schema of @tradai/${packageName}`).toBeDefined();
      expect(check(schema as Schema, JSON.parse(readFileSync(eventFile, 'utf8'))).ok, eventFile).toBe(true);
    }
  });
});

type Resource = { Type: string; Properties?: Record<string, unknown> };
const resource = (id: string): Resource => {
  const found = stack.template.Resources[id];
  if (!found) throw new Error(`${id} is not in the template`);
  return found;
};
const getAtt = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/** Per machine: the ECS task family it may run, the task roles it may pass, the table it may write. */
const ECS_ACCESS = {
  backtest: {
    family: 'tradai-dev-strategy-*',
    roles: 'backtest',
    table: 'WorkflowStateTable',
    syncRule: true,
  },
  'backtest-simplified': {
    family: 'tradai-dev-strategy-*',
    roles: 'backtest',
    table: 'WorkflowStateTable',
    syncRule: true,
  },
  'data-sync': {
    family: 'tradai-dev-data-collection',
    roles: 'data-collection',
    table: undefined,
    syncRule: true,
  },
  // The deploy machine runs no task: it updates the trading services, whose tasks use these roles.
  deploy: { family: undefined, roles: 'trading', table: 'DeploymentsTable', syncRule: false },
} as const;

/**
 * The IAM actions one Task state needs, from AWS's "IAM policies for integrated services" pages:
 * the integration, its `.sync` / `.sync:2` pattern (which also polls and stops, through a managed
 * EventBridge rule), and tags on create.
 */
const requiredActions = (resourceArn: string, parameters: Record<string, unknown>): string[] => {
  if (/^\$\{\w+Arn\}$/.test(resourceArn)) return ['lambda:InvokeFunction'];
  const managedRule = ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'];
  const integrations: Record<string, string[]> = {
    'arn:aws:states:::ecs:runTask.sync': [
      'ecs:RunTask',
      'ecs:StopTask',
      'ecs:DescribeTasks',
      'iam:PassRole',
      ...managedRule,
    ],
    'arn:aws:states:::ecs:runTask': ['ecs:RunTask', 'iam:PassRole'],
    'arn:aws:states:::states:startExecution.sync:2': [
      'states:StartExecution',
      'states:DescribeExecution',
      'states:StopExecution',
      ...managedRule,
    ],
    'arn:aws:states:::states:startExecution': ['states:StartExecution'],
    'arn:aws:states:::dynamodb:updateItem': ['dynamodb:UpdateItem'],
    'arn:aws:states:::dynamodb:getItem': ['dynamodb:GetItem'],
    'arn:aws:states:::dynamodb:putItem': ['dynamodb:PutItem'],
    'arn:aws:states:::dynamodb:deleteItem': ['dynamodb:DeleteItem'],
    'arn:aws:states:::sqs:sendMessage': ['sqs:SendMessage'],
    'arn:aws:states:::sns:publish': ['sns:Publish'],
  };
  const sdk = /^arn:aws:states:::aws-sdk:(\w+):(\w+)$/.exec(resourceArn);
  const actions = sdk
    ? [`${sdk[1]}:${(sdk[2] ?? '').charAt(0).toUpperCase()}${(sdk[2] ?? '').slice(1)}`]
    : integrations[resourceArn];
  if (!actions) throw new Error(`No IAM mapping for the integration ${resourceArn}: add it from AWS's page`);
  const tagsOnCreate = resourceArn.startsWith('arn:aws:states:::ecs:runTask') && 'Tags' in parameters;
  return tagsOnCreate ? [...actions, 'ecs:TagResource'] : actions;
};

describe("each function's environment", () => {
  /** A CloudFormation intrinsic stands for a value only a deploy knows: an ARN, a URL, a name. */
  const deployed = (value: unknown) => (typeof value === 'string' ? value : 'resolved-at-deploy');

  it("satisfies its handler's own environment schema, so no function fails at start with ConfigurationError", async () => {
    // Act
    const problems: string[] = [];
    let checked = 0;
    for (const [id, fn] of resourcesOfType('AWS::Lambda::Function')) {
      const packageName = String(fn.Properties?.Handler).split('/')[1] ?? '';
      const module = (await import(`@tradai/${packageName}`)) as {
        environment?: Parameters<typeof check>[0];
      };
      if (!module.environment) continue;
      checked += 1;
      const variables = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      // Lambda's runtime sets AWS_REGION and the function's own name for every function.
      const environment = {
        AWS_REGION: 'eu-west-1',
        AWS_LAMBDA_FUNCTION_NAME: String(fn.Properties?.FunctionName),
        ...Object.fromEntries(Object.entries(variables ?? {}).map(([k, v]) => [k, deployed(v)])),
      };
      const result = check(module.environment, environment);
      if (!result.ok)
        problems.push(`${id}: ${result.issues.map((i) => `${i.field} ${i.message}`).join('; ')}`);
    }

    // Assess
    expect(checked).toBeGreaterThanOrEqual(15);
    expect(problems).toEqual([]);
  });
});

describe('the sweep limits every function that takes a sweep reads', () => {
  it.each([
    ['SWEEP_TIMEOUT_SECONDS', 'backtest-sweep'],
    ['DATA_SYNC_TIMEOUT_SECONDS', 'data-sync'],
  ] as const)("gives %s as the %s machine's TimeoutSeconds, in every function", (variable, machine) => {
    const timeout = String(readAsl(machine).TimeoutSeconds);
    const given = FUNCTIONS.filter((fn) => fn.environment && variable in fn.environment).map((fn) => [
      fn.package,
      fn.environment?.[variable],
    ]);
    expect(given.map(([name]) => name).sort()).toEqual([
      'backtest-trigger',
      'start-workflow',
      'validate-sweep',
    ]);
    for (const [name, value] of given) expect(value, name).toBe(timeout);
  });
});

describe('the stack declaration (packages/stack)', () => {
  it('is the only list of functions and machines: the template has exactly the declared ones', () => {
    // Assess
    expect(
      resourcesOfType('AWS::Lambda::Function')
        .map(([id]) => id)
        .sort(),
    ).toEqual(FUNCTIONS.map(functionLogicalId).sort());
    expect(
      resourcesOfType('AWS::StepFunctions::StateMachine')
        .map(([id]) => id)
        .sort(),
    ).toEqual(MACHINES.map((machine) => machine.id).sort());
  });

  it('gives the local engine a value for every environment variable a function declares', () => {
    // Act
    const missing = FUNCTIONS.flatMap((fn) =>
      Object.keys(fn.environment)
        .filter((name) => !(name in LOCAL_ENVIRONMENT))
        .map((name) => `${fn.key}: ${name}`),
    );

    // Assess
    expect(missing).toEqual([]);
  });
});

describe("each function's role", () => {
  const functions = () =>
    resourcesOfType('AWS::Lambda::Function').map(([id, fn]) => ({
      id,
      entry: `${String(fn.Properties?.Handler).replace(/\.handler$/, '')}.ts`,
      roleId: (fn.Properties?.Role as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt']?.[0] ?? '',
    }));

  it('grants every IAM action its SDK calls need, each on named resources, tags on create included', async () => {
    // Act: what each function's bundled sources call (tests/stack/sdk-calls.ts)
    const missing: string[] = [];
    const unscoped: string[] = [];
    let derived = 0;
    for (const { id, entry, roleId } of functions()) {
      const calls = await sdkCallsOf(repoRoot, entry);
      derived += calls.length;
      const granted = statementsOf(roleId).filter((statement) => statement.Effect === 'Allow');
      for (const { action, file } of calls) {
        const grants = granted.filter((statement) => asList(statement.Action).includes(action));
        if (grants.length === 0) missing.push(`${id}: ${action} (called in ${file})`);
        else if (
          !NO_RESOURCE_LEVEL_PERMISSIONS.has(action) &&
          grants.some((statement) => asList(statement.Resource).includes('*'))
        )
          unscoped.push(`${id}: ${action}`);
      }
    }

    // Assess
    expect(derived).toBeGreaterThan(15);
    expect(missing).toEqual([]);
    expect(unscoped).toEqual([]);
  });

  it('lets pin-task-definition tag only the task definitions it registers, and pass only the template roles', async () => {
    // Act
    const calls = (await sdkCallsOf(repoRoot, 'packages/pin-task-definition/src/index.ts')).map(
      (c) => c.action,
    );
    const tagging = statementsOf('PinTaskDefinitionRole').find((statement) =>
      asList(statement.Action).includes('ecs:TagResource'),
    ) as (Statement & { Condition?: unknown }) | undefined;

    // Assess
    expect(calls).toEqual(
      expect.arrayContaining(['ecs:RegisterTaskDefinition', 'ecs:TagResource', 'iam:PassRole']),
    );
    expect(tagging?.Condition).toEqual({ StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } });
  });
});

describe.each([
  ['backtest', 'BacktestStateMachine', 'BacktestStateMachineRole', 'BacktestStateMachineLogGroup'],
  [
    'backtest-simplified',
    'BacktestSimplifiedStateMachine',
    'BacktestSimplifiedStateMachineRole',
    'BacktestSimplifiedStateMachineLogGroup',
  ],
  ['data-sync', 'DataSyncStateMachine', 'DataSyncStateMachineRole', 'DataSyncStateMachineLogGroup'],
  ['deploy', 'DeployStateMachine', 'DeployStateMachineRole', 'DeployStateMachineLogGroup'],
] as const)('the %s state machine', (machine, machineId, roleId, logGroupId) => {
  const access = ECS_ACCESS[machine];
  const properties = () => resource(machineId).Properties ?? {};
  const substitutions = () => properties().DefinitionSubstitutions as Record<string, unknown>;
  const statements = () => statementsOf(roleId);
  const actionsOf = (statement: Statement | undefined) => asList(statement?.Action ?? []);
  const statementFor = (action: string) => statements().find((s) => actionsOf(s).includes(action));

  it('deploys the ASL file unchanged, STANDARD, logged to its own log group and traced', () => {
    // serverless-step-functions marks each state with the default `QueryLanguage: JSONPath`.
    const deployed = JSON.parse(String(properties().DefinitionString), (key, value) =>
      key === 'QueryLanguage' && value === 'JSONPath' ? undefined : value,
    );
    expect(deployed).toEqual(readAsl(machine));
    expect(properties()).toMatchObject({
      StateMachineType: 'STANDARD',
      StateMachineName: `tradai-dev-${machine}`,
      RoleArn: getAtt(roleId),
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ERROR',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: getAtt(logGroupId) } }],
      },
    });
    expect(resource(logGroupId).Properties).toMatchObject({ RetentionInDays: 30 });
  });

  it('grants every IAM action its ASL needs, tags on create included (AWS "IAM policies for integrated services")', () => {
    // Act: what each Task state's Resource and Parameters make Step Functions call
    const required = new Map<string, string>();
    for (const [name, state] of allStates(readAsl(machine))) {
      if (state.Type !== 'Task') continue;
      const resourceArn = String(state.Resource);
      const needs = requiredActions(resourceArn, (state.Parameters ?? {}) as Record<string, unknown>);
      for (const action of needs) required.set(action, name);
    }

    // Assess
    const granted = statements().filter((s) => s.Effect === 'Allow');
    const missing = [...required].filter(([action]) => !granted.some((s) => actionsOf(s).includes(action)));
    expect(missing.map(([action, state]) => `${action} (for ${state})`)).toEqual([]);
    if (required.has('ecs:TagResource')) {
      const tagging = granted.find((s) => actionsOf(s).includes('ecs:TagResource')) as
        | (Statement & { Condition?: Record<string, Record<string, string>> })
        | undefined;
      expect(tagging?.Condition).toEqual({ StringEquals: { 'ecs:CreateAction': 'RunTask' } });
    }
  });

  it('fills every placeholder of the ASL, and nothing else, through DefinitionSubstitutions', () => {
    const placeholders = [...String(properties().DefinitionString).matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
    expect(Object.keys(substitutions()).sort()).toEqual([...new Set(placeholders)].sort());
  });

  it('may invoke exactly the functions its definition calls, and no other', () => {
    const called = Object.values(substitutions()).filter((value) =>
      JSON.stringify(value).includes('LambdaFunction'),
    );
    expect(statementFor('lambda:InvokeFunction')?.Resource).toEqual(called);
  });

  it('lets every Lambda task outlive its function, so a slow function ends in its own error', () => {
    const definition = readAsl(machine);
    const functionTimeouts = Object.fromEntries(
      resourcesOfType('AWS::Lambda::Function').map(([id, fn]) => [id, Number(fn.Properties?.Timeout)]),
    );
    for (const [name, state] of Object.entries(definition.States).concat(
      (definition.States.ParallelValidation?.Branches ?? []).flatMap((branch) =>
        Object.entries(branch.States),
      ),
    )) {
      const placeholder = /^\$\{(\w+)\}$/.exec(String(state.Resource))?.[1];
      const target = placeholder ? (substitutions()[placeholder] as { 'Fn::GetAtt'?: [string] }) : undefined;
      const functionId = target?.['Fn::GetAtt']?.[0];
      if (!functionId) continue;
      expect(state.TimeoutSeconds, name).toBeGreaterThan(
        functionTimeouts[functionId] ?? Number.POSITIVE_INFINITY,
      );
    }
  });

  it("runs only its own task family, on the TradAI cluster, and passes only that task's roles", () => {
    if (access.family) {
      expect(statementFor('ecs:RunTask')).toMatchObject({
        Resource: { 'Fn::Sub': `${ARN}:ecs:${REGION_ACCOUNT}:task-definition/${access.family}:*` },
        Condition: {
          ArnEquals: { 'ecs:cluster': { 'Fn::Sub': `${ARN}:ecs:${REGION_ACCOUNT}:cluster/tradai-dev` } },
        },
      });
    } else {
      // The deploy machine changes no service itself: update-bot-service does, under the lease (0046).
      expect(statementFor('ecs:RunTask')).toBeUndefined();
      expect(statementFor('ecs:UpdateService')).toBeUndefined();
      expect(statementFor('iam:PassRole')).toBeUndefined();
      const updater = statementsOf('UpdateBotServiceRole');
      expect(updater.find((s) => asList(s.Action).includes('ecs:UpdateService'))?.Resource).toEqual({
        'Fn::Sub': `${ARN}:ecs:${REGION_ACCOUNT}:service/tradai-dev/tradai-dev-*`,
      });
    }
    const passRole =
      statementFor('iam:PassRole') ??
      statementsOf('UpdateBotServiceRole').find((s) => asList(s.Action).includes('iam:PassRole'));
    expect(passRole).toMatchObject({
      Resource: [
        { 'Fn::Sub': `${ARN}:iam::\${AWS::AccountId}:role/tradai-dev-${access.roles}-task` },
        { 'Fn::Sub': `${ARN}:iam::\${AWS::AccountId}:role/tradai-dev-${access.roles}-execution` },
      ],
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    });
  });

  it('writes only its own table and sends only to the workflow DLQ', () => {
    const write = statementFor('dynamodb:UpdateItem')?.Resource;
    expect(write).toEqual(access.table ? getAtt(access.table) : undefined);
    expect(statementFor('sqs:SendMessage')?.Resource).toEqual(getAtt('WorkflowDeadLetterQueue'));
    const rules = statementFor('events:PutRule')?.Resource;
    if (access.syncRule) {
      expect(rules).toEqual(
        expect.arrayContaining([
          { 'Fn::Sub': `${ARN}:events:${REGION_ACCOUNT}:rule/StepFunctionsGetEventsForECSTaskRule` },
        ]),
      );
    } else {
      expect(rules).toBeUndefined();
    }
  });

  it(
    machine === 'backtest' ? 'starts only the data-sync machine, nested' : 'starts no other execution',
    () => {
      const start = statementFor('states:StartExecution');
      if (machine === 'backtest') {
        expect(start?.Resource).toEqual({ Ref: 'DataSyncStateMachine' });
        expect(substitutions().DataSyncStateMachineArn).toEqual({ Ref: 'DataSyncStateMachine' });
        expect(resource('DataSyncStateMachine').Properties?.StateMachineName).toBe('tradai-dev-data-sync');
      } else {
        expect(start).toBeUndefined();
      }
    },
  );
});

describe('workflow state, notifications and dead letters', () => {
  it('keeps the workflow state in a run_id-keyed table with point-in-time recovery that survives the stack', () => {
    const table = resource('WorkflowStateTable') as Resource & { DeletionPolicy?: string };
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      TableName: 'tradai-dev-workflow-state',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'run_id', KeyType: 'HASH' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('keeps dead letters for 14 days, encrypted', () => {
    expect(resource('WorkflowDeadLetterQueue').Properties).toMatchObject({
      MessageRetentionPeriod: 1_209_600,
      SqsManagedSseEnabled: true,
    });
  });

  it('lets notify-completion publish only to the notifications topic it derives from its own ARN', () => {
    expect(resource('WorkflowNotificationsTopic').Properties).toMatchObject({
      TopicName: 'tradai-dev-workflow-notifications',
    });
    const publish = statementsOf('NotifyCompletionRole').find((s) =>
      asList(s.Action).includes('sns:Publish'),
    );
    expect(publish?.Resource).toEqual({ Ref: 'WorkflowNotificationsTopic' });
    expect(stack.functions.notifyCompletion).toBeDefined();
  });

  it('lets cleanup-resources delete only run scratch objects', () => {
    const deletes = statementsOf('CleanupResourcesRole').filter((s) =>
      asList(s.Action).includes('s3:DeleteObject'),
    );
    expect(deletes.map((s) => s.Resource)).toEqual([
      { 'Fn::Sub': `${ARN}:s3:::tradai-dev-backtest-runs/runs/*/tmp/*` },
    ]);
  });
});

describe('the deployments table', () => {
  it('keeps one deployment per deployment_id with point-in-time recovery, retained with the stack', () => {
    const table = resource('DeploymentsTable') as Resource & { DeletionPolicy?: string };
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      TableName: 'tradai-dev-deployments',
      KeySchema: [{ AttributeName: 'deployment_id', KeyType: 'HASH' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });
});

describe('the workflow API', () => {
  it('exposes POST /workflows/data-sync, /workflows/deploy and /workflows/backtest-sweep, all with IAM auth, on the start-workflow function', () => {
    // Act
    const methods = resourcesOfType('AWS::ApiGateway::Method');

    // Assess
    expect(methods.map(([, m]) => [m.Properties?.HttpMethod, m.Properties?.AuthorizationType])).toEqual([
      ['POST', 'AWS_IAM'],
      ['POST', 'AWS_IAM'],
      ['POST', 'AWS_IAM'],
    ]);
    const paths = resourcesOfType('AWS::ApiGateway::Resource').map(([, r]) => r.Properties?.PathPart);
    expect(paths.sort()).toEqual(['backtest-sweep', 'data-sync', 'deploy', 'workflows']);
    for (const [, method] of methods) {
      expect(JSON.stringify(method.Properties?.Integration)).toContain('StartWorkflowLambdaFunction');
    }
  });

  it('lets start-workflow start only the data-sync, deploy and sweep machines', () => {
    const start = statementsOf('StartWorkflowRole').find((s) =>
      asList(s.Action).includes('states:StartExecution'),
    );
    expect(start?.Resource).toEqual([
      { Ref: 'DataSyncStateMachine' },
      { Ref: 'DeployStateMachine' },
      { Ref: 'BacktestSweepStateMachine' },
    ]);
  });
});

/** Every machine of the stack, by logical id: the status-change rules must name each. */
const MACHINE_IDS = MACHINES.map((machine) => machine.id);

describe('operations: the SQS trigger, execution metrics, alarms', () => {
  it('feeds the trigger from an encrypted queue whose visibility timeout is 6x the trigger timeout, redriven to a DLQ kept 14 days', () => {
    const trigger = resourcesOfType('AWS::Lambda::Function').find(
      ([, f]) => f.Properties?.FunctionName === 'tradai-dev-backtest-trigger',
    )?.[1];
    expect(resource('BacktestRequestQueue').Properties).toMatchObject({
      VisibilityTimeout: 6 * Number(trigger?.Properties?.Timeout),
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: getAtt('BacktestRequestDLQ'), maxReceiveCount: 5 },
    });
    expect(resource('BacktestRequestDLQ').Properties).toMatchObject({
      MessageRetentionPeriod: 1_209_600,
      SqsManagedSseEnabled: true,
    });
    const [, mapping] = resourcesOfType('AWS::Lambda::EventSourceMapping')[0] ?? [];
    expect(mapping?.Properties).toMatchObject({
      EventSourceArn: getAtt('BacktestRequestQueue'),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('lets the trigger start only the two backtest machines and the sweep machine, and describe only sweeps', () => {
    const statements = statementsOf('BacktestTriggerRole');
    const start = statements.find((s) => asList(s.Action).includes('states:StartExecution'));
    expect(start?.Resource).toEqual([
      { Ref: 'BacktestStateMachine' },
      { Ref: 'BacktestSimplifiedStateMachine' },
      { Ref: 'BacktestSweepStateMachine' },
    ]);
    expect(statements.find((s) => asList(s.Action).includes('states:DescribeExecution'))?.Resource).toEqual({
      'Fn::Sub':
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's pseudo parameters
        'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:tradai-dev-backtest-sweep:*',
    });
    expect(statements.find((s) => asList(s.Action).includes('sqs:SendMessage'))?.Resource).toEqual(
      getAtt('BacktestRequestDLQ'),
    );
  });

  const ruleFeeding = (functionId: string) =>
    resourcesOfType('AWS::Events::Rule').find(([, rule]) =>
      JSON.stringify(rule.Properties?.Targets).includes(`"${functionId}"`),
    )?.[1];

  it('feeds execution-metrics with the status changes of our machines only', () => {
    expect(ruleFeeding('ExecutionMetricsLambdaFunction')?.Properties?.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { stateMachineArn: MACHINE_IDS.map((id) => ({ Ref: id })) },
    });
    expect(resource('ExecutionMetricEventsTable').Properties).toMatchObject({
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
    });
  });

  it('feeds reconcile-run with the failed, timed-out and aborted ends of our machines only', () => {
    expect(ruleFeeding('ReconcileRunLambdaFunction')?.Properties?.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: {
        status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        stateMachineArn: MACHINE_IDS.map((id) => ({ Ref: id })),
      },
    });
    const statements = statementsOf('ReconcileRunRole');
    expect(statements.find((s) => asList(s.Action).includes('lambda:InvokeFunction'))?.Resource).toEqual(
      getAtt('NotifyCompletionLambdaFunction'),
    );
    expect(statements.find((s) => asList(s.Action).includes('dynamodb:UpdateItem'))?.Resource).toEqual(
      getAtt('WorkflowStateTable'),
    );
  });

  it.each([
    ...([
      'BacktestInfrastructureFailuresAlarm',
      'DataSyncInfrastructureFailuresAlarm',
      'DeployInfrastructureFailuresAlarm',
    ].map((id) => [
      id,
      'TradAI/StepFunctions',
      'InfrastructureFailure',
      'Sum',
      300,
      1,
      'GreaterThanOrEqualToThreshold',
    ]) as [string, string, string, string, number, number, string][]),
    [
      'WorkflowDlqMessagesAlarm',
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      'Maximum',
      300,
      0,
      'GreaterThanThreshold',
    ],
    [
      'BacktestRequestDlqMessagesAlarm',
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      'Maximum',
      300,
      0,
      'GreaterThanThreshold',
    ],
  ])(
    'alarms with %s on %s %s (%s over %i s, threshold %i) to the alerts topic',
    (id, namespace, metric, statistic, period, threshold, comparison) => {
      expect(resource(id).Properties).toMatchObject({
        Namespace: namespace,
        MetricName: metric,
        Statistic: statistic,
        Period: period,
        Threshold: threshold,
        ComparisonOperator: comparison,
        AlarmActions: [{ Ref: 'AlertsTopic' }],
      });
    },
  );

  it('watches every DLQ of the stack', () => {
    const queues = resourcesOfType('AWS::SQS::Queue')
      .filter(([id]) => /D(ead)?L(etter)?Q/.test(id))
      .map(([id]) => id);
    const watched = resourcesOfType('AWS::CloudWatch::Alarm')
      .filter(([, alarm]) => alarm.Properties?.MetricName === 'ApproximateNumberOfMessagesVisible')
      .map(([, alarm]) => {
        const dimensions = (alarm.Properties?.Dimensions ?? []) as { Value: { 'Fn::GetAtt': [string] } }[];
        return dimensions[0]?.Value['Fn::GetAtt'][0];
      });
    expect(queues.sort()).toEqual([
      'BacktestRequestDLQ',
      'StatusChangeDeadLetterQueue',
      'WorkflowDeadLetterQueue',
    ]);
    expect(watched.sort()).toEqual(queues.sort());
  });

  it("sends the spec's backtest-failures-high (business failures) to the notices topic, paging nobody", () => {
    expect(resource('BacktestFailuresHighAlarm').Properties).toMatchObject({
      MetricName: 'BusinessFailure',
      Dimensions: [{ Name: 'WorkflowType', Value: 'backtest' }],
      Threshold: 5,
      Period: 3600,
      AlarmActions: [{ Ref: 'NoticesTopic' }],
    });
    expect(resource('BacktestFailuresHighAlarm').Properties).not.toHaveProperty('OKActions');
  });

  it("sends the spec's backtest-duration-long (a backtest over an hour) to the notices topic, paging nobody", () => {
    expect(resource('BacktestDurationLongAlarm').Properties).toMatchObject({
      Namespace: 'TradAI/StepFunctions',
      MetricName: 'ExecutionDuration',
      Dimensions: [{ Name: 'WorkflowType', Value: 'backtest' }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 3600,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: 'NoticesTopic' }],
    });
  });

  it.each(MACHINE_IDS)(
    'alarms on timed-out and throttled executions of %s, not on every failure',
    (machineId) => {
      const alarms = resourcesOfType('AWS::CloudWatch::Alarm')
        .filter(([id]) => id.startsWith(`${machineId}Execution`))
        .map(([, alarm]) => [alarm.Properties?.MetricName, alarm.Properties?.AlarmActions]);
      expect(alarms.sort()).toEqual(
        [
          ['ExecutionThrottled', [{ Ref: 'AlertsTopic' }]],
          ['ExecutionsTimedOut', [{ Ref: 'AlertsTopic' }]],
        ].sort(),
      );
    },
  );
});

describe('no end is dropped (issue 27)', () => {
  it('gives every asynchronous EventBridge target a retry policy and a dead-letter queue, and its function an on-failure destination', () => {
    // Act
    const rules = resourcesOfType('AWS::Events::Rule');

    // Assess
    expect(rules.length).toBeGreaterThan(0);
    for (const [id, rule] of rules) {
      for (const target of (rule.Properties?.Targets ?? []) as Record<string, unknown>[]) {
        expect(target.RetryPolicy, id).toMatchObject({ MaximumRetryAttempts: expect.any(Number) });
        expect(target.DeadLetterConfig, id).toEqual({ Arn: getAtt('StatusChangeDeadLetterQueue') });
        const functionId = (target.Arn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
        const config = resourcesOfType('AWS::Lambda::EventInvokeConfig').find(
          ([, c]) => JSON.stringify(c.Properties?.FunctionName) === JSON.stringify({ Ref: functionId }),
        );
        expect(config?.[1].Properties?.DestinationConfig, functionId).toEqual({
          OnFailure: { Destination: getAtt('StatusChangeDeadLetterQueue') },
        });
      }
    }
  });

  it('alarms on every dead-letter queue, to the alerts topic', () => {
    // Act
    const queues = resourcesOfType('AWS::SQS::Queue')
      .map(([id]) => id)
      .filter((id) => /DLQ|DeadLetter/i.test(id));
    const alarmed = resourcesOfType('AWS::CloudWatch::Alarm').flatMap(([, alarm]) =>
      ((alarm.Properties?.Dimensions ?? []) as { Value: { 'Fn::GetAtt'?: [string] } }[]).map(
        (dimension) => dimension.Value['Fn::GetAtt']?.[0],
      ),
    );

    // Assess
    expect(queues).toEqual(
      expect.arrayContaining(['StatusChangeDeadLetterQueue', 'WorkflowDeadLetterQueue']),
    );
    for (const queue of queues) expect(alarmed, queue).toContain(queue);
  });

  it("lets the sweep's ResultWriter get and put its objects (AWS: IAM policies for ResultWriter)", () => {
    // Act
    const statements = statementsOf('BacktestSweepStateMachineRole');
    const writer = statements.find((s) => s.Sid === 'WriteTheMapRunResults');

    // Assess
    expect(asList(writer?.Action ?? [])).toEqual(
      expect.arrayContaining([
        's3:PutObject',
        's3:GetObject',
        's3:ListMultipartUploadParts',
        's3:AbortMultipartUpload',
      ]),
    );
  });

  it('lets a backtest machine stop only the tasks its own RunTask tagged, not any task of the cluster', () => {
    for (const [role, workflow] of [
      ['BacktestStateMachineRole', 'backtest'],
      ['BacktestSimplifiedStateMachineRole', 'backtest-simplified'],
      ['DataSyncStateMachineRole', 'data-sync'],
    ] as const) {
      const stop = statementsOf(role).find((s) => asList(s.Action).includes('ecs:StopTask'));
      expect((stop as { Condition?: unknown } | undefined)?.Condition, role).toEqual({
        StringEquals: { 'aws:ResourceTag/Workflow': [workflow] },
      });
    }
  });

  it('admits backtest requests at a bounded rate: the queue event source has a MaximumConcurrency', () => {
    const [, mapping] = resourcesOfType('AWS::Lambda::EventSourceMapping')[0] ?? [];
    expect(mapping?.Properties?.ScalingConfig).toEqual({ MaximumConcurrency: 2 });
  });

  it("answers the API below API Gateway's 29 s integration timeout", () => {
    const [, fn] =
      resourcesOfType('AWS::Lambda::Function').find(
        ([, f]) => f.Properties?.FunctionName === 'tradai-dev-start-workflow',
      ) ?? [];
    expect(Number(fn?.Properties?.Timeout)).toBeLessThan(29);
  });
});
