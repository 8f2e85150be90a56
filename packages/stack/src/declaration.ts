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
      {
        Sid: 'DescribeStrategyImages',
        Effect: 'Allow',
        Action: 'ecr:DescribeImages',
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/${self:custom.strategyRepositoryPrefix}/*',
        },
      },
      {
        Sid: 'ReadStrategyConfigs',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:s3:::${self:custom.strategyBucket}/${self:custom.strategyConfigPrefix}/*',
        },
      },
      {
        Sid: 'TellMissingConfigsApart',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: {
          'Fn::Sub': 'arn:${AWS::Partition}:s3:::${self:custom.strategyBucket}',
        },
        Condition: {
          StringLike: {
            's3:prefix': '${self:custom.strategyConfigPrefix}/*',
          },
        },
      },
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
    statements: [
      {
        Sid: 'ReadDatasetManifests',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:s3:::${self:custom.datasetBucket}/${self:custom.datasetPrefix}/*/manifest.json',
        },
      },
      {
        Sid: 'TellMissingManifestsApart',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: {
          'Fn::Sub': 'arn:${AWS::Partition}:s3:::${self:custom.datasetBucket}',
        },
        Condition: {
          StringLike: {
            's3:prefix': '${self:custom.datasetPrefix}/*',
          },
        },
      },
    ],
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
      RUNS_BUCKET: '${self:custom.runsBucket}',
      RUNS_PREFIX: '${self:custom.runsPrefix}',
    },
    statements: [
      {
        Sid: 'ReadStrategyConfigs',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:s3:::${self:custom.strategyBucket}/${self:custom.strategyConfigPrefix}/*',
        },
      },
      {
        Sid: 'WriteRunConfigs',
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:s3:::${self:custom.runsBucket}/${self:custom.runsPrefix}/*/config.json',
        },
      },
    ],
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
    },
    statements: [
      {
        Sid: 'ReadTaskDefinitionsHasNoResourceLevelPermissions',
        Effect: 'Allow',
        Action: 'ecs:DescribeTaskDefinition',
        Resource: '*',
      },
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
      {
        Sid: 'PassOnlyTheStrategyTaskRoles',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: [
          {
            'Fn::Sub':
              'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${self:custom.backtestTaskRoleName}',
          },
          {
            'Fn::Sub':
              'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${self:custom.backtestExecutionRoleName}',
          },
          {
            'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${self:custom.tradingTaskRoleName}',
          },
          {
            'Fn::Sub':
              'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${self:custom.tradingExecutionRoleName}',
          },
        ],
        Condition: {
          StringEquals: {
            'iam:PassedToService': 'ecs-tasks.amazonaws.com',
          },
        },
      },
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
      RUNS_BUCKET: '${self:custom.runsBucket}',
      RUNS_PREFIX: '${self:custom.runsPrefix}',
    },
    statements: [
      {
        Sid: 'ListRunResults',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: {
          'Fn::Sub': 'arn:${AWS::Partition}:s3:::${self:custom.runsBucket}',
        },
        Condition: {
          StringLike: {
            's3:prefix': '${self:custom.runsPrefix}/*/results/*',
          },
        },
      },
      {
        Sid: 'ReadRunResults',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:s3:::${self:custom.runsBucket}/${self:custom.runsPrefix}/*/results/*',
        },
      },
    ],
  },
  {
    key: 'cleanupResources',
    package: 'cleanup-resources',
    description: "Deletes a run's scratch objects (runs/<run_id>/tmp/) and nothing else",
    timeout: 120,
    environment: {
      RUNS_BUCKET: '${self:custom.runsBucket}',
      RUNS_PREFIX: '${self:custom.runsPrefix}',
    },
    statements: [
      {
        Sid: 'ListRunScratch',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: {
          'Fn::Sub': 'arn:${AWS::Partition}:s3:::${self:custom.runsBucket}',
        },
        Condition: {
          StringLike: {
            's3:prefix': '${self:custom.runsPrefix}/*/tmp/*',
          },
        },
      },
      {
        Sid: 'DeleteOnlyRunScratch',
        Effect: 'Allow',
        Action: 's3:DeleteObject',
        Resource: {
          'Fn::Sub': 'arn:${AWS::Partition}:s3:::${self:custom.runsBucket}/${self:custom.runsPrefix}/*/tmp/*',
        },
      },
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
      {
        Sid: 'PublishToTheNotificationsTopic',
        Effect: 'Allow',
        Action: 'sns:Publish',
        Resource: {
          Ref: 'WorkflowNotificationsTopic',
        },
      },
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
    },
    statements: [
      {
        Sid: 'ReadBacktestRecords',
        Effect: 'Allow',
        Action: 'dynamodb:GetItem',
        Resource: {
          'Fn::GetAtt': ['WorkflowStateTable', 'Arn'],
        },
      },
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
      {
        Sid: 'DescribeOnlyTradingServices',
        Effect: 'Allow',
        Action: 'ecs:DescribeServices',
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/${self:custom.ecsClusterName}/tradai-${sls:stage}-*',
        },
      },
    ],
  },
  {
    key: 'startWorkflow',
    package: 'start-workflow',
    description:
      'POST /workflows/data-sync and /workflows/deploy - validates the body, starts the execution named after request_id',
    environment: {
      DATA_SYNC_STATE_MACHINE_NAME: '${self:custom.dataSyncStateMachineName}',
      DEPLOY_STATE_MACHINE_NAME: 'tradai-${sls:stage}-deploy',
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
    ],
    statements: [
      {
        Sid: 'StartOnlyTheApiWorkflows',
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: [
          {
            Ref: 'DataSyncStateMachine',
          },
          {
            Ref: 'DeployStateMachine',
          },
        ],
      },
      {
        Sid: 'DescribeTheirExecutionsForIdempotentRetries',
        Effect: 'Allow',
        Action: 'states:DescribeExecution',
        Resource: [
          {
            'Fn::Sub':
              'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${self:custom.dataSyncStateMachineName}:*',
          },
          {
            'Fn::Sub':
              'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:tradai-${sls:stage}-deploy:*',
          },
        ],
      },
    ],
  },
  {
    key: 'backtestTrigger',
    package: 'backtest-trigger',
    description: 'Starts a backtest execution per SQS request - PENDING record, execution named after run_id',
    environment: {
      WORKFLOW_STATE_TABLE: 'tradai-${sls:stage}-workflow-state',
      BACKTEST_STATE_MACHINE_NAME: 'tradai-${sls:stage}-backtest',
      BACKTEST_SIMPLIFIED_STATE_MACHINE_NAME: 'tradai-${sls:stage}-backtest-simplified',
      DEFAULT_BACKTEST_WORKFLOW: "${env:TRADAI_DEFAULT_BACKTEST_WORKFLOW, 'backtest'}",
      REQUEST_DLQ_NAME: 'tradai-${sls:stage}-backtest-requests-dlq',
      START_CONCURRENCY: '10',
      MAX_RECEIVES: '5',
    },
    events: [
      {
        sqs: {
          arn: {
            'Fn::GetAtt': ['BacktestRequestQueue', 'Arn'],
          },
          batchSize: 10,
          maximumBatchingWindow: 5,
          functionResponseType: 'ReportBatchItemFailures',
        },
      },
    ],
    statements: [
      {
        Sid: 'ConsumeTheRequestQueue',
        Effect: 'Allow',
        Action: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:ChangeMessageVisibility',
        ],
        Resource: {
          'Fn::GetAtt': ['BacktestRequestQueue', 'Arn'],
        },
      },
      {
        Sid: 'ParkMalformedRequests',
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: {
          'Fn::GetAtt': ['BacktestRequestDLQ', 'Arn'],
        },
      },
      {
        Sid: 'RecordPendingRunsAndCloseThoseNeverStarted',
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: {
          'Fn::GetAtt': ['WorkflowStateTable', 'Arn'],
        },
      },
      {
        Sid: 'StartOnlyTheBacktestMachines',
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: [
          {
            Ref: 'BacktestStateMachine',
          },
          {
            Ref: 'BacktestSimplifiedStateMachine',
          },
        ],
      },
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
        eventBridge: {
          pattern: {
            source: ['aws.states'],
            'detail-type': ['Step Functions Execution Status Change'],
            detail: {
              stateMachineArn: [
                {
                  Ref: 'BacktestStateMachine',
                },
                {
                  Ref: 'BacktestSimplifiedStateMachine',
                },
                {
                  Ref: 'DataSyncStateMachine',
                },
                {
                  Ref: 'DeployStateMachine',
                },
              ],
            },
          },
        },
      },
    ],
    statements: [
      {
        Sid: 'ClaimEachStatusEventOnce',
        Effect: 'Allow',
        Action: 'dynamodb:PutItem',
        Resource: {
          'Fn::GetAtt': ['ExecutionMetricEventsTable', 'Arn'],
        },
      },
    ],
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
          pattern: {
            source: ['aws.states'],
            'detail-type': ['Step Functions Execution Status Change'],
            detail: {
              status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
              stateMachineArn: [
                {
                  Ref: 'BacktestStateMachine',
                },
                {
                  Ref: 'BacktestSimplifiedStateMachine',
                },
                {
                  Ref: 'DataSyncStateMachine',
                },
                {
                  Ref: 'DeployStateMachine',
                },
              ],
            },
          },
        },
      },
    ],
    statements: [
      {
        Sid: 'CloseRunsThatEndedOutsideTheirMachine',
        Effect: 'Allow',
        Action: 'dynamodb:UpdateItem',
        Resource: {
          'Fn::GetAtt': ['WorkflowStateTable', 'Arn'],
        },
      },
      {
        Sid: 'ClaimEachNoticeOnce',
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        Resource: {
          'Fn::GetAtt': ['ExecutionMetricEventsTable', 'Arn'],
        },
      },
      {
        Sid: 'ReleaseTheLeaseOfADeployThatEndedOutsideItsMachine',
        Effect: 'Allow',
        Action: 'dynamodb:DeleteItem',
        Resource: {
          'Fn::GetAtt': ['DeployLeasesTable', 'Arn'],
        },
      },
      {
        Sid: 'NotifyThroughNotifyCompletion',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: {
          'Fn::GetAtt': ['NotifyCompletionLambdaFunction', 'Arn'],
        },
      },
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
    statements: [
      {
        Sid: 'ReadDatasetManifests',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:s3:::${self:custom.datasetBucket}/${self:custom.datasetPrefix}/*/manifest.json',
        },
      },
      {
        Sid: 'TellMissingManifestsApart',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: {
          'Fn::Sub': 'arn:${AWS::Partition}:s3:::${self:custom.datasetBucket}',
        },
        Condition: {
          StringLike: {
            's3:prefix': '${self:custom.datasetPrefix}/*',
          },
        },
      },
    ],
  },
];

/**
 * The state machines, from `state-machines/<file>.asl.json`. Each gets its role (Invoke on exactly
 * the functions its ASL names, log delivery, X-Ray, plus `statements`), its log group, tracing,
 * and the timed-out and throttled alarms (docs/decisions/0023).
 */
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
  {
    Sid: 'PassOnlyTheBacktestTaskRoles',
    Effect: 'Allow',
    Action: 'iam:PassRole',
    Resource: [
      {
        'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${self:custom.backtestTaskRoleName}',
      },
      {
        'Fn::Sub':
          'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${self:custom.backtestExecutionRoleName}',
      },
    ],
    Condition: {
      StringEquals: {
        'iam:PassedToService': 'ecs-tasks.amazonaws.com',
      },
    },
  },
];

/** Both backtest machines record the run and park unknown errors in the DLQ. */
const RECORDS_AND_PARKS_RUNS: Statement[] = [
  {
    Sid: 'RecordWorkflowState',
    Effect: 'Allow',
    Action: 'dynamodb:UpdateItem',
    Resource: {
      'Fn::GetAtt': ['WorkflowStateTable', 'Arn'],
    },
  },
  {
    Sid: 'PublishUnknownErrorsToTheDLQ',
    Effect: 'Allow',
    Action: 'sqs:SendMessage',
    Resource: {
      'Fn::GetAtt': ['WorkflowDeadLetterQueue', 'Arn'],
    },
  },
];

export const MACHINES: readonly MachineDeclaration[] = [
  {
    key: 'backtest',
    id: 'BacktestStateMachine',
    name: 'tradai-${sls:stage}-backtest',
    file: 'backtest',
    statements: [
      ...RUNS_BACKTEST_TASKS,
      ...RECORDS_AND_PARKS_RUNS,
      {
        Sid: 'RunTheDataSyncWorkflowNested',
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: {
          Ref: 'DataSyncStateMachine',
        },
      },
      {
        Sid: 'FollowTheNestedDataSync',
        Effect: 'Allow',
        Action: ['states:DescribeExecution', 'states:StopExecution'],
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${self:custom.dataSyncStateMachineName}:*',
        },
      },
    ],
  },
  {
    key: 'deploy',
    id: 'DeployStateMachine',
    name: 'tradai-${sls:stage}-deploy',
    file: 'deploy',
    statements: [
      {
        Sid: 'DescribeAndUpdateOnlyTradingServices',
        Effect: 'Allow',
        Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/${self:custom.ecsClusterName}/tradai-${sls:stage}-*',
        },
      },
      {
        Sid: 'PassOnlyTheTradingTaskRoles',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: [
          {
            'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${self:custom.tradingTaskRoleName}',
          },
          {
            'Fn::Sub':
              'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${self:custom.tradingExecutionRoleName}',
          },
        ],
        Condition: {
          StringEquals: {
            'iam:PassedToService': 'ecs-tasks.amazonaws.com',
          },
        },
      },
      {
        Sid: 'RecordDeployments',
        Effect: 'Allow',
        Action: 'dynamodb:UpdateItem',
        Resource: {
          'Fn::GetAtt': ['DeploymentsTable', 'Arn'],
        },
      },
      {
        Sid: 'LeaseOneServiceAtATime',
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem'],
        Resource: {
          'Fn::GetAtt': ['DeployLeasesTable', 'Arn'],
        },
      },
      {
        Sid: 'PublishUnknownErrorsToTheDLQ',
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: {
          'Fn::GetAtt': ['WorkflowDeadLetterQueue', 'Arn'],
        },
      },
    ],
  },
  {
    key: 'dataSync',
    id: 'DataSyncStateMachine',
    name: '${self:custom.dataSyncStateMachineName}',
    file: 'data-sync',
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
      {
        Sid: 'PassOnlyTheDataCollectionTaskRoles',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: [
          {
            'Fn::Sub':
              'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${self:custom.dataCollectionTaskRoleName}',
          },
          {
            'Fn::Sub':
              'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${self:custom.dataCollectionExecutionRoleName}',
          },
        ],
        Condition: {
          StringEquals: {
            'iam:PassedToService': 'ecs-tasks.amazonaws.com',
          },
        },
      },
      {
        Sid: 'PublishUnknownErrorsToTheDLQ',
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: {
          'Fn::GetAtt': ['WorkflowDeadLetterQueue', 'Arn'],
        },
      },
    ],
  },
  {
    key: 'backtestSimplified',
    id: 'BacktestSimplifiedStateMachine',
    name: 'tradai-${sls:stage}-backtest-simplified',
    file: 'backtest-simplified',
    statements: [...RUNS_BACKTEST_TASKS, ...RECORDS_AND_PARKS_RUNS],
  },
];

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
