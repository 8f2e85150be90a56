// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${sls:stage}, ${self:custom.x} and ${AWS::Region} are the Framework's and CloudFormation's syntax, resolved by sls and CloudFormation
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_REGION, FUNCTIONS, MACHINES, SUBSTITUTIONS } from './declaration';
import type { FunctionDeclaration, MachineDeclaration, Statement } from './types';

// CommonJS when sls loads it (serverless.cjs), ESM when a test imports it.
const HERE = typeof __dirname === 'string' ? __dirname : path.dirname(fileURLToPath(import.meta.url));
/**
 * The repository: the nearest folder above this file that holds serverless.yml. Found, not
 * computed, so the same code works from its source and from a bundle (the simulator's dist/).
 */
const findRepoRoot = (from: string): string => {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'serverless.yml')) && existsSync(path.join(dir, 'state-machines')))
      return dir;
    if (path.dirname(dir) === dir)
      throw new Error(`No serverless.yml above ${from}: where is the repository?`);
  }
};
export const REPO_ROOT = findRepoRoot(HERE);
const pascal = (key: string) => `${key.charAt(0).toUpperCase()}${key.slice(1)}`;

export const functionName = (fn: FunctionDeclaration) => `tradai-\${sls:stage}-${fn.package}`;
export const functionLogicalId = (fn: FunctionDeclaration) => `${pascal(fn.key)}LambdaFunction`;
export const roleLogicalId = (fn: FunctionDeclaration) => `${pascal(fn.key)}Role`;

/** The ASL of a machine, as the file has it. */
export const aslOf = (machine: MachineDeclaration): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'state-machines', `${machine.file}.asl.json`), 'utf8'));

/** The placeholders a machine's ASL uses, in the order they first appear. */
export const placeholdersOf = (machine: MachineDeclaration): string[] => [
  ...new Set([...JSON.stringify(aslOf(machine)).matchAll(/\$\{(\w+)\}/g)].map((match) => match[1] as string)),
];

/** The function a `${<Function>Arn}` placeholder names, if it names one. */
const functionOfPlaceholder = (placeholder: string) =>
  FUNCTIONS.find((fn) => `${pascal(fn.key)}Arn` === placeholder);

/** Every placeholder of the machine's ASL, filled: functions by their ARN, the rest from SUBSTITUTIONS. */
export const substitutionsOf = (machine: MachineDeclaration): Record<string, unknown> =>
  Object.fromEntries(
    placeholdersOf(machine).map((placeholder) => {
      const fn = functionOfPlaceholder(placeholder);
      if (fn) return [placeholder, { 'Fn::GetAtt': [functionLogicalId(fn), 'Arn'] }];
      if (!(placeholder in SUBSTITUTIONS)) {
        throw new Error(`${machine.file}.asl.json uses \${${placeholder}}, which nothing declares`);
      }
      return [placeholder, SUBSTITUTIONS[placeholder]];
    }),
  );

/** The functions a machine's ASL invokes. */
export const functionsOf = (machine: MachineDeclaration): FunctionDeclaration[] =>
  placeholdersOf(machine).flatMap((placeholder) => {
    const fn = functionOfPlaceholder(placeholder);
    return fn ? [fn] : [];
  });

/** Every Task state of a definition, Parallel branches and Map item processors included. */
const tasksOf = (definition: { States?: Record<string, unknown> }): Record<string, unknown>[] =>
  Object.values(definition.States ?? {}).flatMap((value) => {
    const state = value as {
      Type?: string;
      Branches?: { States?: Record<string, unknown> }[];
      ItemProcessor?: { States?: Record<string, unknown> };
    };
    if (state.Type === 'Parallel') return (state.Branches ?? []).flatMap(tasksOf);
    if (state.Type === 'Map') return state.ItemProcessor ? tasksOf(state.ItemProcessor) : [];
    return state.Type === 'Task' ? [state as Record<string, unknown>] : [];
  });

const sub = (arn: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:${arn}` });

/**
 * What the `.sync` integrations a machine's ASL uses make Step Functions call (AWS's "IAM policies
 * for integrated services"): an ECS task is followed and stopped, tagged on create when RunTask
 * passes Tags, and watched through a managed EventBridge rule; so is a nested execution.
 */
const integrationStatements = (machine: MachineDeclaration): Statement[] => {
  const tasks = tasksOf(aslOf(machine));
  const runTasks = tasks.filter((task) => task.Resource === 'arn:aws:states:::ecs:runTask.sync');
  const nested = tasks.some((task) =>
    String(task.Resource).startsWith('arn:aws:states:::states:startExecution.sync'),
  );
  const tasksOnCluster = sub('ecs:${AWS::Region}:${AWS::AccountId}:task/${self:custom.ecsClusterName}/*');
  const rule = (name: string) => sub(`events:\${AWS::Region}:\${AWS::AccountId}:rule/${name}`);
  // The Workflow tag each RunTask puts on its task: StopTask may stop only those (issue 27), not any
  // task of the cluster (a trading bot's, another machine's).
  const workflowTags = [
    ...new Set(
      runTasks.flatMap((task) =>
        ((task.Parameters as { Tags?: { Key: string; Value?: string }[] } | undefined)?.Tags ?? [])
          .filter((tag) => tag.Key === 'Workflow' && typeof tag.Value === 'string')
          .map((tag) => tag.Value as string),
      ),
    ),
  ];
  return [
    ...(runTasks.length > 0
      ? [
          {
            Sid: 'FollowItsTasks',
            Effect: 'Allow' as const,
            Action: 'ecs:DescribeTasks',
            Resource: tasksOnCluster,
          },
          {
            Sid: 'StopOnlyTasksOfItsWorkflow',
            Effect: 'Allow' as const,
            Action: 'ecs:StopTask',
            Resource: tasksOnCluster,
            ...(workflowTags.length > 0
              ? { Condition: { StringEquals: { 'aws:ResourceTag/Workflow': workflowTags } } }
              : {}),
          },
        ]
      : []),
    ...(runTasks.some((task) => 'Tags' in ((task.Parameters ?? {}) as object))
      ? [
          {
            Sid: 'TagTheTasksItRuns',
            Effect: 'Allow' as const,
            Action: 'ecs:TagResource',
            Resource: tasksOnCluster,
            Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
          },
        ]
      : []),
    ...(runTasks.length > 0 || nested
      ? [
          {
            Sid: 'ManagedRulesForSyncIntegrations',
            Effect: 'Allow' as const,
            Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
            Resource: [
              ...(runTasks.length > 0 ? [rule('StepFunctionsGetEventsForECSTaskRule')] : []),
              ...(nested ? [rule('StepFunctionsGetEventsForStepFunctionsExecutionRule')] : []),
            ],
          },
        ]
      : []),
  ];
};

/**
 * What a state machine needs to deliver its logs to CloudWatch Logs. AWS gives these actions no
 * resource-level permissions: `Resource: "*"` is the only option (the log group is named in the
 * machine's LoggingConfiguration).
 */
export const LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
] as const;

const XRAY: Statement = {
  Sid: 'XRayHasNoResourceLevelPermissions',
  Effect: 'Allow',
  Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
  Resource: '*',
};

/** A function's role: its own log group, X-Ray, and its declared statements (docs/decisions/0004). */
const functionRole = (fn: FunctionDeclaration) => ({
  Type: 'AWS::IAM::Role',
  Properties: {
    Description: functionName(fn),
    AssumeRolePolicyDocument: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    },
    ...(fn.vpc
      ? {
          ManagedPolicyArns: [
            {
              'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
            },
          ],
        }
      : {}),
    Policies: [
      {
        PolicyName: fn.package,
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'WriteOwnLogs',
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: {
                'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName(fn)}:*`,
              },
            },
            ...fn.statements,
            ...(fn.onFailureQueue
              ? [
                  {
                    Sid: 'SendFailedEventsToTheirQueue',
                    Effect: 'Allow',
                    Action: 'sqs:SendMessage',
                    Resource: { 'Fn::GetAtt': [fn.onFailureQueue, 'Arn'] },
                  },
                ]
              : []),
            XRAY,
          ],
        },
      },
    ],
  },
});

/** A machine's role: Invoke on exactly the functions its ASL names, log delivery, X-Ray, its statements. */
const machineRole = (machine: MachineDeclaration) => ({
  Type: 'AWS::IAM::Role',
  Properties: {
    Description: `tradai-\${sls:stage}-${machine.file} state machine`,
    AssumeRolePolicyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'states.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    },
    Policies: [
      {
        PolicyName: `${machine.file}-state-machine`,
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'InvokeItsOwnFunctions',
              Effect: 'Allow',
              Action: 'lambda:InvokeFunction',
              Resource: functionsOf(machine).map((fn) => ({ 'Fn::GetAtt': [functionLogicalId(fn), 'Arn'] })),
            },
            ...machine.statements,
            ...integrationStatements(machine),
            {
              Sid: 'LogDeliveryHasNoResourceLevelPermissions',
              Effect: 'Allow',
              Action: [...LOG_DELIVERY_ACTIONS],
              Resource: '*',
            },
            {
              ...XRAY,
              Action: [...XRAY.Action, 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
            },
          ],
        },
      },
    ],
  },
});

/** `functions:` of serverless.yml. */
/**
 * serverless.yml's `provider.region` when neither --region nor AWS_REGION is given.
 * @public (read by serverless.yml through `${file(...)}`, which knip cannot see)
 */
export const defaultRegion = () => DEFAULT_REGION;

export const functions = () =>
  Object.fromEntries(
    FUNCTIONS.map((fn: FunctionDeclaration) => [
      fn.key,
      {
        name: functionName(fn),
        description: fn.description,
        handler: `packages/${fn.package}/src/index.handler`,
        ...(fn.timeout === undefined ? {} : { timeout: fn.timeout }),
        ...(fn.memorySize === undefined ? {} : { memorySize: fn.memorySize }),
        role: roleLogicalId(fn),
        environment: fn.environment,
        ...(fn.events ? { events: fn.events } : {}),
        ...(fn.vpc ? { vpc: fn.vpc } : {}),
        ...(fn.onFailureQueue
          ? {
              maximumRetryAttempts: 2,
              destinations: { onFailure: { type: 'sqs', arn: { 'Fn::GetAtt': [fn.onFailureQueue, 'Arn'] } } },
            }
          : {}),
      },
    ]),
  );

/** `stepFunctions.stateMachines:` of serverless.yml. */
export const stateMachines = () =>
  Object.fromEntries(
    MACHINES.map((machine: MachineDeclaration) => [
      machine.key,
      {
        id: machine.id,
        name: machine.name,
        type: 'STANDARD',
        role: { 'Fn::GetAtt': [`${machine.id}Role`, 'Arn'] },
        definition: aslOf(machine),
        loggingConfig: {
          level: 'ERROR',
          includeExecutionData: true,
          destinations: [{ 'Fn::GetAtt': [`${machine.id}LogGroup`, 'Arn'] }],
        },
        tracingConfig: { enabled: true },
        alarms: {
          topics: { alarm: { Ref: 'AlertsTopic' } },
          // No executionsFailed: a rejected request ends FAILED too. Failures page by class (0023).
          metrics: ['executionsTimedOut', 'executionThrottled'],
          treatMissingData: 'notBreaching',
        },
      },
    ]),
  );

/** The generated part of `resources:`: every role, every machine's log group and substitutions. */
export const resources = () => ({
  Resources: Object.fromEntries([
    ...FUNCTIONS.map((fn: FunctionDeclaration) => [roleLogicalId(fn), functionRole(fn)]),
    ...MACHINES.flatMap((machine: MachineDeclaration) => [
      [
        `${machine.id}LogGroup`,
        {
          Type: 'AWS::Logs::LogGroup',
          Properties: {
            LogGroupName: `/aws/vendedlogs/states/tradai-\${sls:stage}-${machine.file}`,
            RetentionInDays: 30,
          },
        },
      ],
      [`${machine.id}Role`, machineRole(machine)],
    ]),
  ]),
  extensions: Object.fromEntries(
    MACHINES.map((machine: MachineDeclaration) => [
      machine.id,
      { Properties: { DefinitionSubstitutions: substitutionsOf(machine) } },
    ]),
  ),
});
