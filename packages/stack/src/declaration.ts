// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${sls:stage}, ${self:custom.x} and ${AWS::Region} are the Framework's and CloudFormation's syntax, resolved by sls and CloudFormation
/*
 * The stack's single declaration: every function and every state machine, once. serverless.yml
 * pulls the generated parts in (packages/stack/serverless.cjs); the template tests import the same
 * tables. Adding a function: its package, and one entry in FUNCTIONS (docs/decisions/0033).
 *
 * Strings may hold the Framework's variables (${sls:stage}, ${self:custom.x}); they are resolved by
 * `sls` as if they were written in serverless.yml.
 */
import type { FunctionDeclaration, MachineDeclaration, Statement } from './types';

/**
 * Where the stack deploys unless `--region` or AWS_REGION says otherwise, and where the local
 * engine and the simulator pretend to run: one region, so a local ARN is one a deploy would give,
 * and the bill's us-east-1 prices are the region's own (serverless.yml reads this).
 */
export const DEFAULT_REGION = 'us-east-1';

/** Where the runs' objects live (runs/<run_id>/...). */
const RUNS_LOCATION = { RUNS_BUCKET: '${self:custom.runsBucket}', RUNS_PREFIX: '${self:custom.runsPrefix}' };

/** An Allow statement. */
const allow = (Sid: string, Action: string | string[], Resource: unknown): Statement => ({
  Sid,
  Effect: 'Allow',
  Action,
  Resource,
});

/**
 * iam:PassRole on the named roles (`self:custom.<name>`, in this account), only to ECS tasks: what
 * RegisterTaskDefinition and RunTask need to hand a task its roles.
 */
const passesRolesToEcsTasks = (Sid: string, customRoleNames: string[]): Statement => ({
  Sid,
  Effect: 'Allow',
  Action: 'iam:PassRole',
  Resource: customRoleNames.map((name) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/\${self:custom.${name}}`,
  })),
  Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
});

/** A resource's ARN, by its logical id. */
const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

/** An S3 object grant: `actions` on the keys `keys` (a pattern) of the bucket `self:custom.<bucket>`. */
const s3Objects = (
  Sid: string,
  Action: string | string[],
  bucket: string,
  keys: string | string[],
): Statement => {
  const arn = (key: string) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:s3:::\${self:custom.${bucket}}/${key}`,
  });
  return { Sid, Effect: 'Allow', Action, Resource: Array.isArray(keys) ? keys.map(arn) : arn(keys) };
};

/**
 * ListBucket on `self:custom.<bucket>`, under `prefix` only. With it a missing key reads as 404
 * (NoSuchKey) instead of 403, so a handler can tell "not there" from "not allowed".
 */
const s3Listing = (Sid: string, bucket: string, prefix: string): Statement => ({
  Sid,
  Effect: 'Allow',
  Action: 's3:ListBucket',
  Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::\${self:custom.${bucket}}` },
  Condition: { StringLike: { 's3:prefix': prefix } },
});

/** Reading dataset manifests, and telling a missing one apart (check-freshness, data quality). */
const READS_DATASET_MANIFESTS: Statement[] = [
  s3Objects(
    'ReadDatasetManifests',
    's3:GetObject',
    'datasetBucket',
    '${self:custom.datasetPrefix}/*/manifest.json',
  ),
  s3Listing('TellMissingManifestsApart', 'datasetBucket', '${self:custom.datasetPrefix}/*'),
];

/** Both backtest machines run the strategy task, on the cluster, with its roles. */
const RUNS_BACKTEST_TASKS: Statement[] = [
  {
    Sid: 'RunOnlyStrategyTasksOnTheCluster',
    Effect: 'Allow',
    Action: 'ecs:RunTask',
    Resource: {
      'Fn::Sub':
        'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/${self:custom.strategyTaskFamilyPrefix}*:*',
    },
    Condition: {
      ArnEquals: {
        'ecs:cluster': {
          'Fn::Sub':
            'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/${self:custom.ecsClusterName}',
        },
      },
    },
  },
  passesRolesToEcsTasks('PassOnlyTheBacktestTaskRoles', [
    'backtestTaskRoleName',
    'backtestExecutionRoleName',
  ]),
];

/**
 * A trading service's tasks, found by ListTasks and read by DescribeTasks, on the cluster only:
 * their health (check-service-rollout) and private address (snapshot-open-trades). ListTasks names
 * only container instances, which Fargate tasks have none of: its ecs:cluster condition scopes it.
 */
const READS_THE_CLUSTERS_TASKS: Statement[] = [
  {
    Sid: 'ListOnlyTheClustersTasks',
    Effect: 'Allow',
    Action: 'ecs:ListTasks',
    Resource: '*',
    Condition: {
      ArnEquals: {
        'ecs:cluster': {
          'Fn::Sub':
            'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/${self:custom.ecsClusterName}',
        },
      },
    },
  },
  allow('DescribeOnlyTheClustersTasks', 'ecs:DescribeTasks', {
    'Fn::Sub':
      'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/${self:custom.ecsClusterName}/*',
  }),
];

/** Both backtest machines record the run and park unknown errors in the DLQ. */
const RECORDS_AND_PARKS_RUNS: Statement[] = [
  allow('RecordWorkflowState', 'dynamodb:UpdateItem', arnOf('WorkflowStateTable')),
  allow('PublishUnknownErrorsToTheDLQ', 'sqs:SendMessage', arnOf('WorkflowDeadLetterQueue')),
];

/** A machine that runs the data-sync workflow as a nested execution when its data is stale. */
const NESTS_THE_DATA_SYNC: Statement[] = [
  allow('RunTheDataSyncWorkflowNested', 'states:StartExecution', { Ref: 'DataSyncStateMachine' }),
  allow('FollowTheNestedDataSync', ['states:DescribeExecution', 'states:StopExecution'], {
    'Fn::Sub':
      'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${self:custom.dataSyncStateMachineName}:*',
  }),
];

const SWEEP_MACHINE = 'tradai-${sls:stage}-backtest-sweep';
/**
 * What every function that takes a sweep reads (lambda-kit's sweepLimitsEnvironment): the stage's
 * caps, and the machines' timeouts, which a test holds equal to the ASL's TimeoutSeconds.
 */
const SWEEP_LIMITS = {
  MAX_SWEEP_VARIANTS: '${self:custom.maxSweepVariants}',
  MAX_SWEEP_CONCURRENCY: '${self:custom.maxSweepConcurrency}',
  FARGATE_SPOT_VCPU_QUOTA: '${self:custom.fargateSpotVcpuQuota}',
  MAX_SWEEP_USD: '${self:custom.maxSweepUsd}',
  SWEEP_WAVE_SECONDS: '${self:custom.sweepWaveSeconds}',
  SWEEP_TIMEOUT_SECONDS: '604800',
  DATA_SYNC_TIMEOUT_SECONDS: '3000',
};

export const MACHINES = [
  {
    key: 'backtest',
    id: 'BacktestStateMachine',
    name: 'tradai-${sls:stage}-backtest',
    file: 'backtest' as const,
    statements: [...RUNS_BACKTEST_TASKS, ...RECORDS_AND_PARKS_RUNS, ...NESTS_THE_DATA_SYNC],
  },
  {
    key: 'backtestSimplified',
    id: 'BacktestSimplifiedStateMachine',
    name: 'tradai-${sls:stage}-backtest-simplified',
    file: 'backtest-simplified' as const,
    statements: [...RUNS_BACKTEST_TASKS, ...RECORDS_AND_PARKS_RUNS],
  },
  {
    key: 'dataSync',
    id: 'DataSyncStateMachine',
    name: '${self:custom.dataSyncStateMachineName}',
    file: 'data-sync' as const,
    statements: [
      {
        Sid: 'RunOnlyTheDataCollectionTaskOnTheCluster',
        Effect: 'Allow',
        Action: 'ecs:RunTask',
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/${self:custom.dataCollectionTaskFamily}:*',
        },
        Condition: {
          ArnEquals: {
            'ecs:cluster': {
              'Fn::Sub':
                'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/${self:custom.ecsClusterName}',
            },
          },
        },
      },
      passesRolesToEcsTasks('PassOnlyTheDataCollectionTaskRoles', [
        'dataCollectionTaskRoleName',
        'dataCollectionExecutionRoleName',
      ]),
      allow('PublishUnknownErrorsToTheDLQ', 'sqs:SendMessage', arnOf('WorkflowDeadLetterQueue')),
    ],
  },
  {
    key: 'deploy',
    id: 'DeployStateMachine',
    name: 'tradai-${sls:stage}-deploy',
    file: 'deploy' as const,
    statements: [
      allow('DescribeOnlyTradingServices', 'ecs:DescribeServices', {
        'Fn::Sub':
          'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/${self:custom.ecsClusterName}/tradai-${sls:stage}-*',
      }),
      allow('RecordDeployments', 'dynamodb:UpdateItem', arnOf('DeploymentsTable')),
      allow(
        'LeaseOneServiceAtATime',
        ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem'],
        arnOf('DeployLeasesTable'),
      ),
      allow('PublishUnknownErrorsToTheDLQ', 'sqs:SendMessage', arnOf('WorkflowDeadLetterQueue')),
    ],
  },
  {
    key: 'backtestSweep',
    id: 'BacktestSweepStateMachine',
    name: SWEEP_MACHINE,
    file: 'backtest-sweep' as const,
    statements: [
      ...RECORDS_AND_PARKS_RUNS,
      ...NESTS_THE_DATA_SYNC,
      s3Objects('ReadTheSweepItems', 's3:GetObject', 'runsBucket', 'sweeps/*/items.json'),
      s3Objects(
        'WriteTheMapRunResults',
        // AWS's "IAM policies for ResultWriter": GetObject too, with PutObject and the multipart pair.
        ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        'runsBucket',
        'sweeps/*/results/*',
      ),
      // A Distributed Map runs its ItemProcessor as child executions of this very machine.
      allow('StartItsMapRunChildren', 'states:StartExecution', {
        'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${SWEEP_MACHINE}`,
      }),
      allow('FollowItsMapRunChildren', ['states:DescribeExecution', 'states:StopExecution'], {
        'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${SWEEP_MACHINE}/*`,
      }),
      allow('RunEachVariantAsABacktest', 'states:StartExecution', { Ref: 'BacktestStateMachine' }),
      allow('FollowTheVariants', ['states:DescribeExecution', 'states:StopExecution'], {
        'Fn::Sub':
          'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:tradai-${sls:stage}-backtest:*',
      }),
    ],
  },
] satisfies readonly MachineDeclaration[];

/**
 * An EventBridge target that drops nothing (issue 27): EventBridge retries delivery for a day, then
 * sends the event to the status-change DLQ; Lambda's own failures go there too (onFailureQueue).
 */
const STATUS_CHANGE_DELIVERY = {
  retryPolicy: { maximumEventAge: 86_400, maximumRetryAttempts: 185 },
  deadLetterQueueArn: { 'Fn::GetAtt': ['StatusChangeDeadLetterQueue', 'Arn'] },
};

/** The EventBridge pattern of every machine's execution status changes (`statuses`: only those). */
const statusChangesOfEveryMachine = (statuses?: string[]) => ({
  source: ['aws.states'],
  'detail-type': ['Step Functions Execution Status Change'],
  detail: {
    ...(statuses && { status: statuses }),
    stateMachineArn: MACHINES.map(({ id }) => ({ Ref: id })),
  },
});

/** The name of a machine: its ASL file, `state-machines/<name>.asl.json`. */
export type MachineName = (typeof MACHINES)[number]['file'];

/**
 * The functions. Each gets `tradai-<stage>-<package>` as its name, `packages/<package>/src/index.handler`,
 * and its own role: the baseline (its own log group, X-Ray) plus `statements`, nothing else
 * (docs/decisions/0004).
 */
export const FUNCTIONS: readonly FunctionDeclaration[] = [
  {
    key: 'validateStrategy',
    package: 'validate-strategy',
    description:
      "Checks that a strategy version's ECR image and S3 config exist; returns the image pinned by digest",
    environment: {
      STRATEGY_BUCKET: '${self:custom.strategyBucket}',
      STRATEGY_CONFIG_PREFIX: '${self:custom.strategyConfigPrefix}',
      STRATEGY_REPOSITORY_PREFIX: '${self:custom.strategyRepositoryPrefix}',
    },
    statements: [
      allow('DescribeStrategyImages', 'ecr:DescribeImages', {
        'Fn::Sub':
          'arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/${self:custom.strategyRepositoryPrefix}/*',
      }),
      s3Objects(
        'ReadStrategyConfigs',
        's3:GetObject',
        'strategyBucket',
        '${self:custom.strategyConfigPrefix}/*',
      ),
      s3Listing('TellMissingConfigsApart', 'strategyBucket', '${self:custom.strategyConfigPrefix}/*'),
    ],
  },
  {
    key: 'dataCollectionProxy',
    package: 'data-collection-proxy',
    description:
      "check-freshness - reads the dataset manifests and says whether a backtest's market data is in S3",
    timeout: 60,
    environment: {
      DATASET_BUCKET: '${self:custom.datasetBucket}',
      DATASET_PREFIX: '${self:custom.datasetPrefix}',
      DEFAULT_EXCHANGE: 'binance',
      FRESHNESS_GRACE_SECONDS: '3600',
    },
    statements: [...READS_DATASET_MANIFESTS],
  },
  {
    key: 'validateBacktestRequest',
    package: 'validate-backtest-request',
    description:
      'First state of the backtest workflows - validates the request and normalises its dates and defaults',
    environment: {},
    statements: [],
  },
  {
    key: 'prepareConfig',
    package: 'prepare-config',
    description:
      "Merges a run's config_overrides into the strategy config and writes runs/<run_id>/config.json",
    environment: {
      STRATEGY_BUCKET: '${self:custom.strategyBucket}',
      DATASET_BUCKET: '${self:custom.datasetBucket}',
      DATASET_PREFIX: '${self:custom.datasetPrefix}',
      ...RUNS_LOCATION,
    },
    statements: [
      ...READS_DATASET_MANIFESTS,
      s3Objects(
        'ReadStrategyConfigs',
        's3:GetObject',
        'strategyBucket',
        '${self:custom.strategyConfigPrefix}/*',
      ),
      // A strategy without a manifest is a NoSuchKey only to a caller that may list the prefix:
      // without s3:ListBucket, S3 answers a missing key with 403 AccessDenied (S3 GetObject docs).
      s3Listing('ListStrategyManifests', 'strategyBucket', '${self:custom.strategyConfigPrefix}/*'),
      s3Objects('WriteRunConfigs', 's3:PutObject', 'runsBucket', '${self:custom.runsPrefix}/*/config.json'),
      s3Objects(
        'WriteRunParameters',
        's3:PutObject',
        'runsBucket',
        '${self:custom.runsPrefix}/*/parameters.json',
      ),
    ],
  },
  {
    key: 'classifyLaunchFailure',
    package: 'classify-launch-failure',
    description:
      'Tells apart why RunTask could not start a backtest (no Spot capacity, throttling, a vCPU quota) from the reason AWS sent',
    environment: {},
    statements: [],
  },
  {
    key: 'pinTaskDefinition',
    package: 'pin-task-definition',
    description: 'Returns a strategy task definition revision that runs exactly the validated image digest',
    environment: {
      BACKTEST_TASK_TEMPLATE: '${self:custom.backtestTaskTemplate}',
      STRATEGY_TASK_FAMILY_PREFIX: '${self:custom.strategyTaskFamilyPrefix}',
      STRATEGY_CONTAINER_NAME: 'strategy',
      TRADING_TASK_TEMPLATE: '${self:custom.tradingTaskTemplate}',
      TRADING_TASK_FAMILY_PREFIX: '${self:custom.tradingTaskFamilyPrefix}',
      BOT_API_SECRET_ARN: '${self:custom.botApiSecretArn}',
    },
    statements: [
      allow('ReadTaskDefinitionsHasNoResourceLevelPermissions', 'ecs:DescribeTaskDefinition', '*'),
      {
        Sid: 'RegisterOnlyTaggedStrategyTaskDefinitions',
        Effect: 'Allow',
        Action: 'ecs:RegisterTaskDefinition',
        Resource: '*',
        Condition: {
          Null: {
            'aws:RequestTag/tradai:template': 'false',
          },
        },
      },
      {
        Sid: 'TagOnlyStrategyTaskDefinitions',
        Effect: 'Allow',
        Action: 'ecs:TagResource',
        Resource: [
          {
            'Fn::Sub':
              'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/${self:custom.strategyTaskFamilyPrefix}*:*',
          },
          {
            'Fn::Sub':
              'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/${self:custom.tradingTaskFamilyPrefix}*:*',
          },
        ],
        Condition: {
          StringEquals: {
            'ecs:CreateAction': 'RegisterTaskDefinition',
          },
        },
      },
      passesRolesToEcsTasks('PassOnlyTheStrategyTaskRoles', [
        'backtestTaskRoleName',
        'backtestExecutionRoleName',
        'tradingTaskRoleName',
        'tradingExecutionRoleName',
      ]),
    ],
  },
  {
    key: 'validateSweep',
    package: 'validate-sweep',
    description: 'Validates a parameter sweep and writes its backtest variants for the Distributed Map',
    environment: {
      RUNS_BUCKET: '${self:custom.runsBucket}',
      ...SWEEP_LIMITS,
    },
    statements: [
      // A sweep's items (a re-run's under rerun-<n>/) and its settings, which a re-run reads back
      // with the leaderboard (docs/decisions/0045).
      s3Objects('WriteSweepItems', 's3:PutObject', 'runsBucket', 'sweeps/*/items.json'),
      s3Objects('WriteSweepSettings', 's3:PutObject', 'runsBucket', 'sweeps/*/sweep.json'),
      // A sweep never run reads as 404 (NoSuchKey), named by field, not as 403.
      s3Listing('ListSweeps', 'runsBucket', 'sweeps/*'),
      s3Objects('ReadSweepForRerun', 's3:GetObject', 'runsBucket', [
        'sweeps/*/sweep.json',
        'sweeps/*/items.json',
        'sweeps/*/leaderboard.json',
      ]),
    ],
  },
  {
    key: 'aggregateSweep',
    package: 'aggregate-sweep',
    description: "Ranks a sweep's variants into its leaderboard (JSON and CSV)",
    timeout: 120,
    memorySize: 1024,
    environment: {},
    statements: [
      // Every stage's results: sweeps/<id>/results/, rerun-<n>/results/, holdout-<n>/results/.
      s3Listing('ListTheMapRunResults', 'runsBucket', 'sweeps/*'),
      s3Objects('ReadTheMapRunResults', 's3:GetObject', 'runsBucket', 'sweeps/*/results/*'),
      s3Objects('WriteTheLeaderboards', 's3:PutObject', 'runsBucket', [
        'sweeps/*/leaderboard.*',
        'sweeps/*/holdout-*/items.json',
      ]),
    ],
  },
  {
    key: 'transformResults',
    package: 'transform-results',
    description:
      "Summarises a run's freqtrade result (sharpe, return, drawdown...) and emits BacktestDuration",
    timeout: 120,
    memorySize: 1024,
    environment: {
      ...RUNS_LOCATION,
    },
    statements: [
      s3Listing('ListRunResults', 'runsBucket', '${self:custom.runsPrefix}/*/results/*'),
      s3Objects('ReadRunResults', 's3:GetObject', 'runsBucket', '${self:custom.runsPrefix}/*/results/*'),
      s3Objects(
        'ReadRunParameters',
        's3:GetObject',
        'runsBucket',
        '${self:custom.runsPrefix}/*/parameters.json',
      ),
    ],
  },
  {
    key: 'cleanupResources',
    package: 'cleanup-resources',
    description: "Deletes a run's scratch objects (runs/<run_id>/tmp/) and nothing else",
    timeout: 120,
    environment: {
      ...RUNS_LOCATION,
    },
    statements: [
      s3Listing('ListRunScratch', 'runsBucket', '${self:custom.runsPrefix}/*/tmp/*'),
      s3Objects('DeleteOnlyRunScratch', 's3:DeleteObject', 'runsBucket', '${self:custom.runsPrefix}/*/tmp/*'),
    ],
  },
  {
    key: 'notifyCompletion',
    package: 'notify-completion',
    description: "Publishes a workflow's outcome to the notifications topic",
    environment: {
      NOTIFICATION_TOPIC_NAME: '${self:custom.notificationTopicName}',
    },
    statements: [
      allow('PublishToTheNotificationsTopic', 'sns:Publish', {
        Ref: 'WorkflowNotificationsTopic',
      }),
    ],
  },
  {
    key: 'validateDeployment',
    package: 'validate-deployment',
    description:
      'First state of the deploy workflow - validates the request and the backtest a live deploy rests on',
    environment: {
      STAGE: '${sls:stage}',
      WORKFLOW_STATE_TABLE: 'tradai-${sls:stage}-workflow-state',
      ALLOWED_ENVIRONMENTS: '${self:custom.deployEnvironments}',
      DEPLOY_LEASE_SECONDS: '${self:custom.deployLeaseSeconds}',
      LIVE_MIN_TRADES: '${self:custom.liveMinTrades}',
      LIVE_MAX_DRAWDOWN_PCT: '${self:custom.liveMaxDrawdownPct}',
      LIVE_DEPLOYER_ROLE: '${self:custom.liveDeployerRole}',
    },
    statements: [allow('ReadBacktestRecords', 'dynamodb:GetItem', arnOf('WorkflowStateTable'))],
  },
  {
    key: 'renderBotConfig',
    package: 'render-bot-config',
    description:
      "The live gate (the tested digest and strategy hash) and the trading bot's rendered config: dry_run, durable db_url, no keys",
    environment: {
      STRATEGY_BUCKET: '${self:custom.strategyBucket}',
      RUNS_BUCKET: '${self:custom.runsBucket}',
    },
    statements: [
      s3Objects(
        'ReadStrategyConfigs',
        's3:GetObject',
        'strategyBucket',
        '${self:custom.strategyConfigPrefix}/*/config.json',
      ),
      s3Objects('ReadTestedRunFiles', 's3:GetObject', 'runsBucket', [
        '${self:custom.runsPrefix}/*/config.json',
        '${self:custom.runsPrefix}/*/parameters.json',
      ]),
      s3Objects('WriteBotFiles', 's3:PutObject', 'runsBucket', 'deployments/*'),
      s3Listing('TellGoneTestedFilesApart', 'runsBucket', '${self:custom.runsPrefix}/*'),
    ],
  },
  {
    key: 'snapshotOpenTrades',
    package: 'snapshot-open-trades',
    description:
      "Reads a bot's open trades from freqtrade's REST API before a deploy stops it; checks the new bot knows them after",
    environment: {
      ECS_CLUSTER: '${self:custom.ecsClusterName}',
      BOT_API_SECRET_ARN: '${self:custom.botApiSecretArn}',
    },
    vpc: {
      securityGroupIds: ['${self:custom.botClientSecurityGroup}'],
      subnetIds: ['${self:custom.privateSubnet1}', '${self:custom.privateSubnet2}'],
    },
    statements: [
      ...READS_THE_CLUSTERS_TASKS,
      allow('ReadOnlyTheBotApiLogin', 'secretsmanager:GetSecretValue', '${self:custom.botApiSecretArn}*'),
    ],
  },
  {
    key: 'updateBotService',
    package: 'update-bot-service',
    description:
      "Changes a trading bot's service (deploy or roll back) only while the deploy holds its lease; once, whatever the retries",
    environment: {
      ECS_CLUSTER: '${self:custom.ecsClusterName}',
      DEPLOY_LEASES_TABLE: 'tradai-${sls:stage}-deploy-leases',
    },
    statements: [
      allow('ReadTheLeaseFencingToken', 'dynamodb:GetItem', arnOf('DeployLeasesTable')),
      allow('DescribeAndUpdateOnlyTradingServices', ['ecs:DescribeServices', 'ecs:UpdateService'], {
        'Fn::Sub':
          'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/${self:custom.ecsClusterName}/tradai-${sls:stage}-*',
      }),
      passesRolesToEcsTasks('PassOnlyTheTradingTaskRoles', [
        'tradingTaskRoleName',
        'tradingExecutionRoleName',
      ]),
    ],
  },
  {
    key: 'checkServiceRollout',
    package: 'check-service-rollout',
    description:
      'One poll of a deploy rollout - COMPLETED, or RolloutInProgressError for the state machine to retry',
    environment: {
      ECS_CLUSTER: '${self:custom.ecsClusterName}',
      ROLLOUT_TASK_START_SECONDS: '${self:custom.rolloutTaskStartSeconds}',
      ROLLOUT_DEREGISTRATION_DELAY_SECONDS: '${self:custom.rolloutDeregistrationDelaySeconds}',
    },
    statements: [
      allow('DescribeOnlyTradingServices', 'ecs:DescribeServices', {
        'Fn::Sub':
          'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/${self:custom.ecsClusterName}/tradai-${sls:stage}-*',
      }),
      ...READS_THE_CLUSTERS_TASKS,
    ],
  },
  {
    key: 'startWorkflow',
    package: 'start-workflow',
    // Below API Gateway's 29 s integration timeout, so the caller gets this function's answer (a
    // 503 to retry) rather than the gateway's 504; its SDK calls end within 3 x 7 s.
    timeout: 25,
    description:
      'POST /workflows/data-sync, /deploy and /backtest-sweep - validates the body, starts the execution named after its id',
    environment: {
      DATA_SYNC_STATE_MACHINE_NAME: '${self:custom.dataSyncStateMachineName}',
      DEPLOY_STATE_MACHINE_NAME: 'tradai-${sls:stage}-deploy',
      BACKTEST_SWEEP_STATE_MACHINE_NAME: SWEEP_MACHINE,
      ...SWEEP_LIMITS,
    },
    events: [
      {
        http: {
          path: 'workflows/data-sync',
          method: 'post',
          authorizer: 'aws_iam',
        },
      },
      {
        http: {
          path: 'workflows/deploy',
          method: 'post',
          authorizer: 'aws_iam',
        },
      },
      { http: { path: 'workflows/backtest-sweep', method: 'post', authorizer: 'aws_iam' } },
    ],
    statements: [
      allow('StartOnlyTheApiWorkflows', 'states:StartExecution', [
        {
          Ref: 'DataSyncStateMachine',
        },
        {
          Ref: 'DeployStateMachine',
        },
        { Ref: 'BacktestSweepStateMachine' },
      ]),
      allow('DescribeTheirExecutionsForIdempotentRetries', 'states:DescribeExecution', [
        {
          'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${SWEEP_MACHINE}:*`,
        },
        {
          'Fn::Sub':
            'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${self:custom.dataSyncStateMachineName}:*',
        },
        {
          'Fn::Sub':
            'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:tradai-${sls:stage}-deploy:*',
        },
      ]),
    ],
  },
  {
    key: 'backtestTrigger',
    package: 'backtest-trigger',
    description:
      'Starts a backtest execution per SQS request - PENDING record, execution named after run_id; a sweep after its sweep_id',
    environment: {
      WORKFLOW_STATE_TABLE: 'tradai-${sls:stage}-workflow-state',
      BACKTEST_STATE_MACHINE_NAME: 'tradai-${sls:stage}-backtest',
      BACKTEST_SIMPLIFIED_STATE_MACHINE_NAME: 'tradai-${sls:stage}-backtest-simplified',
      BACKTEST_SWEEP_STATE_MACHINE_NAME: SWEEP_MACHINE,
      ...SWEEP_LIMITS,
      DEFAULT_BACKTEST_WORKFLOW: "${env:TRADAI_DEFAULT_BACKTEST_WORKFLOW, 'backtest'}",
      REQUEST_DLQ_NAME: 'tradai-${sls:stage}-backtest-requests-dlq',
      START_CONCURRENCY: '10',
      MAX_RECEIVES: '5',
    },
    events: [
      {
        sqs: {
          arn: arnOf('BacktestRequestQueue'),
          batchSize: 10,
          maximumBatchingWindow: 5,
          functionResponseType: 'ReportBatchItemFailures',
          // Admission control (issue 27): at most this many trigger invocations at once, so a burst
          // of requests waits in the queue instead of becoming a burst of StartExecutions and
          // RunTasks (RunTask on Fargate: 20 calls per second). Lambda's minimum is 2.
          maximumConcurrency: '${self:custom.backtestTriggerConcurrency}',
        },
      },
    ],
    statements: [
      allow(
        'ConsumeTheRequestQueue',
        ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
        arnOf('BacktestRequestQueue'),
      ),
      allow('ParkMalformedRequests', ['sqs:GetQueueUrl', 'sqs:SendMessage'], arnOf('BacktestRequestDLQ')),
      allow(
        'RecordPendingRunsAndCloseThoseNeverStarted',
        ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        arnOf('WorkflowStateTable'),
      ),
      allow('StartOnlyTheBacktestMachines', 'states:StartExecution', [
        {
          Ref: 'BacktestStateMachine',
        },
        {
          Ref: 'BacktestSimplifiedStateMachine',
        },
        { Ref: 'BacktestSweepStateMachine' },
      ]),
      allow('DescribeSweepsForIdempotentStarts', 'states:DescribeExecution', {
        'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${SWEEP_MACHINE}:*`,
      }),
    ],
  },
  {
    key: 'executionMetrics',
    package: 'execution-metrics',
    description:
      'ExecutionStarted/Succeeded/Failed/Duration per WorkflowType from status-change events, once each',
    environment: {
      METRIC_EVENTS_TABLE: 'tradai-${sls:stage}-execution-metric-events',
      STATE_MACHINE_PREFIX: 'tradai-${sls:stage}-',
    },
    events: [
      {
        eventBridge: { pattern: statusChangesOfEveryMachine(), ...STATUS_CHANGE_DELIVERY },
      },
    ],
    onFailureQueue: 'StatusChangeDeadLetterQueue',
    statements: [allow('ClaimEachStatusEventOnce', 'dynamodb:PutItem', arnOf('ExecutionMetricEventsTable'))],
  },
  {
    key: 'reconcileRun',
    package: 'reconcile-run',
    description:
      "Records and notifies a run that ended outside its machine's Catch (aborted, timed out, crashed), once",
    environment: {
      WORKFLOW_STATE_TABLE: 'tradai-${sls:stage}-workflow-state',
      NOTICE_CLAIMS_TABLE: 'tradai-${sls:stage}-execution-metric-events',
      NOTIFY_FUNCTION_NAME: 'tradai-${sls:stage}-notify-completion',
      STATE_MACHINE_PREFIX: 'tradai-${sls:stage}-',
      DEPLOY_LEASES_TABLE: 'tradai-${sls:stage}-deploy-leases',
      STAGE: '${sls:stage}',
    },
    events: [
      {
        eventBridge: {
          pattern: statusChangesOfEveryMachine(['FAILED', 'TIMED_OUT', 'ABORTED']),
          ...STATUS_CHANGE_DELIVERY,
        },
      },
    ],
    onFailureQueue: 'StatusChangeDeadLetterQueue',
    statements: [
      allow('CloseRunsThatEndedOutsideTheirMachine', 'dynamodb:UpdateItem', arnOf('WorkflowStateTable')),
      allow(
        'ClaimEachNoticeOnce',
        ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        arnOf('ExecutionMetricEventsTable'),
      ),
      allow(
        'ReleaseTheLeaseOfADeployThatEndedOutsideItsMachine',
        'dynamodb:DeleteItem',
        arnOf('DeployLeasesTable'),
      ),
      allow(
        'NotifyThroughNotifyCompletion',
        'lambda:InvokeFunction',
        arnOf('NotifyCompletionLambdaFunction'),
      ),
    ],
  },
  {
    key: 'validateDataRequest',
    package: 'validate-data-request',
    description: 'First state of the data-sync workflow - validates symbols, timeframe, range and exchange',
    environment: {
      DEFAULT_EXCHANGE: 'binance',
      SUPPORTED_EXCHANGES: 'binance,bybit,okx',
    },
    statements: [],
  },
  {
    key: 'validateDataQuality',
    package: 'validate-data-quality',
    description:
      'Checks the dataset manifests a data sync wrote - coverage, gaps, duplicates, OHLC sanity, freshness',
    timeout: 60,
    environment: {
      DATASET_BUCKET: '${self:custom.datasetBucket}',
      DATASET_PREFIX: '${self:custom.datasetPrefix}',
      MAX_GAP_RATIO: '0.005',
      MAX_DUPLICATE_RATIO: '0',
      MAX_OHLC_VIOLATIONS: '0',
    },
    statements: [...READS_DATASET_MANIFESTS],
  },
];

/**
 * The state machines, from `state-machines/<file>.asl.json`. Each gets its role (Invoke on exactly
 * the functions its ASL names, log delivery, X-Ray, plus `statements`), its log group, tracing,
 * and the timed-out and throttled alarms (docs/decisions/0023).
 */

/**
 * What fills an ASL placeholder that is not a function: `${<Function>Arn}` placeholders are
 * derived from FUNCTIONS. A placeholder an ASL uses and nobody declares fails the build.
 */
export const SUBSTITUTIONS: Record<string, unknown> = {
  WorkflowStateTable: {
    Ref: 'WorkflowStateTable',
  },
  DeadLetterQueueUrl: {
    Ref: 'WorkflowDeadLetterQueue',
  },
  EcsClusterArn: {
    'Fn::Sub':
      'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/${self:custom.ecsClusterName}',
  },
  PrivateSubnet1: '${self:custom.privateSubnet1}',
  PrivateSubnet2: '${self:custom.privateSubnet2}',
  BacktestSecurityGroup: '${self:custom.backtestSecurityGroup}',
  BacktestStateMachineArn: { Ref: 'BacktestStateMachine' },
  DataSyncStateMachineArn: {
    Ref: 'DataSyncStateMachine',
  },
  DeploymentsTable: {
    Ref: 'DeploymentsTable',
  },
  DeployLeasesTable: {
    Ref: 'DeployLeasesTable',
  },
  DataCollectionTaskDefinition: '${self:custom.dataCollectionTaskFamily}',
  DatasetBucket: '${self:custom.datasetBucket}',
  DatasetPrefix: '${self:custom.datasetPrefix}',
  MlflowTrackingUri: '${self:custom.mlflowTrackingUri}',
};
