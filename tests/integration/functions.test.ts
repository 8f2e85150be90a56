import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import {
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-ecs';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { strategyHash } from '@tradai/lambda-kit';
import { describe, expect, it } from 'vitest';
import { aws, physicalId } from './aws';
import { invokePackaged } from './bundles';
import { ACCOUNT, REGION } from './deploy';

const REPO = path.resolve(import.meta.dirname, '../..');
const sampleEvent = (name: string) =>
  JSON.parse(readFileSync(path.join(REPO, 'events', `${name}.json`), 'utf8'));
const RUNS = 'tradai-dev-backtest-runs';
const text = async (Bucket: string, Key: string) =>
  (await aws().s3.send(new GetObjectCommand({ Bucket, Key }))).Body?.transformToString();
const keysUnder = async (Bucket: string, Prefix: string) =>
  ((await aws().s3.send(new ListObjectsV2Command({ Bucket, Prefix }))).Contents ?? []).map((o) => o.Key);
const answer = (invoked: ReturnType<typeof invokePackaged>) => {
  if (!invoked.ok)
    throw new Error(`${invoked.errorType}: ${invoked.errorMessage}\n${invoked.logs.slice(-2000)}`);
  return invoked.result as Record<string, unknown>;
};

describe('validate-strategy, packaged, against ECR and S3 on moto', () => {
  it("finds the strategy's image by its tag, pinned to the digest ECR computed, and its config", async () => {
    // Act
    const result = answer(
      invokePackaged('validate-strategy', { strategy_name: 'StrategyTestV3', strategy_version: '1.0.0' }),
    );

    // Assess
    const { imageDetails } = await aws().ecr.send(
      new DescribeImagesCommand({
        repositoryName: 'tradai/strategies/strategytestv3',
        imageIds: [{ imageTag: '1.0.0' }],
      }),
    );
    expect(result).toEqual({
      valid: true,
      image_uri: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/tradai/strategies/strategytestv3@${imageDetails?.[0]?.imageDigest}`,
      config_path: 's3://tradai-dev-strategies/strategies/StrategyTestV3/1.0.0/config.json',
      reasons: [],
    });
  });

  it('answers valid: false naming the missing tag and the missing config, as ECR and S3 report them', () => {
    const result = answer(
      invokePackaged('validate-strategy', { strategy_name: 'StrategyTestV3', strategy_version: '9.9.9' }),
    );
    expect(result).toEqual({
      valid: false,
      image_uri: null,
      config_path: null,
      reasons: [
        'image tag 9.9.9 is not in ECR repository tradai/strategies/strategytestv3',
        'strategy config s3://tradai-dev-strategies/strategies/StrategyTestV3/9.9.9/config.json does not exist',
      ],
    });
  });
});

describe('data-collection-proxy and validate-data-quality, packaged, against dataset manifests in S3', () => {
  /** check-freshness on the seed's 5m data (it covers January 2018) from 5 January to `end_date`. */
  const freshness = (symbols: string[], end_date: string) =>
    answer(
      invokePackaged('data-collection-proxy', {
        operation: 'check-freshness',
        symbols,
        timeframe: '5m',
        start_date: '2018-01-05',
        end_date,
      }),
    );

  it('finds data fresh when every manifest covers the range', () => {
    const result = freshness(['ETH/BTC', 'ADA/BTC'], '2018-01-25');
    expect(result).toMatchObject({
      all_fresh: true,
      symbols: [
        { symbol: 'ETH/BTC', fresh: true, covered_until: '2018-02-01T00:00:00Z' },
        { symbol: 'ADA/BTC', fresh: true, covered_until: '2018-02-01T00:00:00Z' },
      ],
    });
  });

  it('names a range past the data and a manifest that S3 does not have (NoSuchKey)', () => {
    const result = freshness(['ETH/BTC', 'DOGE/BTC'], '2018-03-25');
    expect(result).toMatchObject({
      all_fresh: false,
      symbols: [
        { symbol: 'ETH/BTC', fresh: false, reason: expect.stringContaining('until 2018-03-25') },
        {
          symbol: 'DOGE/BTC',
          fresh: false,
          reason:
            'no dataset manifest at s3://tradai-dev-market-data/datasets/binance/DOGE_BTC/5m/manifest.json',
        },
      ],
    });
  });

  it("passes the seed's data on quality, read from its manifest", () => {
    const result = answer(
      invokePackaged('validate-data-quality', {
        symbols: ['ETH/BTC'],
        timeframe: '5m',
        start_date: '2018-01-05',
        end_date: '2018-01-25',
        exchange: 'binance',
      }),
    );
    expect(result).toMatchObject({
      passed: true,
      symbols: [{ symbol: 'ETH/BTC', passed: true, issues: [] }],
    });
  });
});

describe("a run's objects: prepare-config, transform-results and cleanup-resources, packaged, on S3", () => {
  it("writes the run's config beside the run, from the strategy's config and the request", async () => {
    // Act
    const result = answer(
      invokePackaged('prepare-config', {
        run_id: 'it-run-cfg',
        strategy_name: 'StrategyTestV3',
        config_path: 's3://tradai-dev-strategies/strategies/StrategyTestV3/1.0.0/config.json',
        symbols: ['ETH/BTC'],
        timeframe: '5m',
        start_date: '2018-01-05',
        end_date: '2018-01-25',
        config_overrides: { max_open_trades: 2 },
      }),
    );

    // Assess
    expect(result).toEqual({
      config_path: `s3://${RUNS}/runs/it-run-cfg/config.json`,
      timerange: '20180105-20180125',
      results_path: `s3://${RUNS}/runs/it-run-cfg/results/`,
      params_path: '',
      strategy_hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    const config = JSON.parse(String(await text(RUNS, 'runs/it-run-cfg/config.json')));
    // The hash the run records is the one a deploy recomputes from the file on S3 (0046).
    expect(result.strategy_hash).toBe(strategyHash(config, {}));
    expect(config).toMatchObject({ max_open_trades: 2, timeframe: '5m', stake_currency: 'BTC' });
    expect(JSON.stringify(config)).toContain('ETH/BTC');
  });

  it("writes the strategy parameter file freqtrade loads, checked against the strategy's manifest on S3", async () => {
    // Prepare: freqtrade's test strategy's manifest beside its config
    const { s3 } = aws();
    await s3.send(
      new PutObjectCommand({
        Bucket: 'tradai-dev-strategies',
        Key: 'strategies/StrategyTestV3/1.0.0/strategy.json',
        Body: readFileSync(path.join(REPO, 'fixtures/freqtrade/StrategyTestV3.strategy.json')),
      }),
    );
    const request = (buy: Record<string, unknown>) => ({
      run_id: 'it-run-params',
      strategy_name: 'StrategyTestV3',
      config_path: 's3://tradai-dev-strategies/strategies/StrategyTestV3/1.0.0/config.json',
      symbols: ['ETH/BTC'],
      timeframe: '5m',
      start_date: '2018-01-05',
      end_date: '2018-01-25',
      config_overrides: { strategy_parameters: { buy } },
    });

    // Act
    const refused = invokePackaged('prepare-config', request({ buy_rsi: 99 }));
    const result = answer(invokePackaged('prepare-config', request({ buy_rsi: 35 })));

    // Assess
    expect(JSON.stringify(refused)).toContain('buy.buy_rsi: must be a whole number from 0 to 50');
    expect(result).toMatchObject({ params_path: `s3://${RUNS}/runs/it-run-params/parameters.json` });
    expect(JSON.parse(String(await text(RUNS, 'runs/it-run-params/parameters.json')))).toMatchObject({
      strategy_name: 'StrategyTestV3',
      params: { buy: { buy_rsi: 35 } },
      ft_stratparam_v: 1,
    });
  });

  it("summarises freqtrade's real result file, found through .last_result.json", async () => {
    // Prepare: what the container leaves under results/
    const { s3 } = aws();
    const file = 'backtest-result-2026-01-05_09-42-00.json';
    const fixture = readFileSync(path.join(REPO, 'fixtures/freqtrade/backtest-result.json'));
    await s3.send(
      new PutObjectCommand({ Bucket: RUNS, Key: `runs/it-run-tr/results/${file}`, Body: fixture }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: RUNS,
        Key: 'runs/it-run-tr/results/.last_result.json',
        Body: JSON.stringify({ latest_backtest: file }),
      }),
    );

    // Act
    const result = answer(
      invokePackaged('transform-results', {
        run_id: 'it-run-tr',
        strategy_name: 'StrategyTestV3',
        task: { started_at: 1736067600000, stopped_at: 1736070120000 },
      }),
    );

    // Assess
    expect(result).toMatchObject({
      strategy: 'StrategyTestV3',
      timeframe: '5m',
      total_trades: 179,
      results_uri: `s3://${RUNS}/runs/it-run-tr/results/${file}`,
      duration_seconds: 2520,
    });
  });

  it("deletes the run's scratch objects and nothing else", async () => {
    // Prepare
    const { s3 } = aws();
    for (const key of [
      'tmp/a.log',
      'tmp/user_data/data/b.feather',
      'tmp/c',
      'results/keep.json',
      'config.json',
    ])
      await s3.send(new PutObjectCommand({ Bucket: RUNS, Key: `runs/it-run-clean/${key}`, Body: 'x' }));

    // Act
    const result = answer(invokePackaged('cleanup-resources', { run_id: 'it-run-clean' }));

    // Assess
    expect(result).toEqual({ prefix: `s3://${RUNS}/runs/it-run-clean/tmp/`, deleted: 3 });
    expect((await keysUnder(RUNS, 'runs/it-run-clean/')).sort()).toEqual([
      'runs/it-run-clean/config.json',
      'runs/it-run-clean/results/keep.json',
    ]);
  });

  it("writes a sweep's variants where the Distributed Map's ItemReader reads them", async () => {
    // Act
    const result = answer(invokePackaged('validate-sweep', sampleEvent('validate-sweep')));

    // Assess
    expect(result).toMatchObject({ variant_count: 6, stage: { name: 'in_sample', items: { bucket: RUNS } } });
    const items = JSON.parse(String(await text(RUNS, 'sweeps/sweep-20260105-momentum-sl/items.json')));
    expect(items.map((item: { run_id: string }) => item.run_id)).toEqual(
      Array.from({ length: 6 }, (_, i) => `sweep-20260105-momentum-sl-${i}`),
    );

    // Act: a re-run of the two variants its leaderboard lists as failed, from the settings it wrote.
    const { s3 } = aws();
    await s3.send(
      new PutObjectCommand({
        Bucket: RUNS,
        Key: 'sweeps/sweep-20260105-momentum-sl/leaderboard.json',
        Body: JSON.stringify({
          attempt: 0,
          failures: [{ run_id: 'sweep-20260105-momentum-sl-2' }, { run_id: 'sweep-20260105-momentum-sl-5' }],
          not_run: [],
        }),
      }),
    );
    const rerun = answer(
      invokePackaged('validate-sweep', {
        request: { rerun_failed: { sweep_id: 'sweep-20260105-momentum-sl', attempt: 1 } },
      }),
    );

    // Assess
    expect(rerun).toMatchObject({
      stage: { name: 'rerun', attempt: 1 },
      previous_attempt: 0,
      variant_count: 6,
    });
    const again = JSON.parse(
      String(await text(RUNS, 'sweeps/sweep-20260105-momentum-sl/rerun-1/items.json')),
    );
    expect(again.map((item: { run_id: string }) => item.run_id)).toEqual([
      'sweep-20260105-momentum-sl-2r1',
      'sweep-20260105-momentum-sl-5r1',
    ]);
  });
});

describe('notify-completion, packaged, through SNS to a subscribed SQS queue', () => {
  it('publishes one message whose attributes a subscriber can filter on', async () => {
    // Prepare: a queue subscribed to the notifications topic
    const { sns, sqs } = aws();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'it-notifications-reader' }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: physicalId('WorkflowNotificationsTopic'),
        Protocol: 'sqs',
        Endpoint: Attributes?.QueueArn,
      }),
    );

    // Act
    const result = answer(invokePackaged('notify-completion', sampleEvent('notify-completion')));

    // Assess
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(Messages).toHaveLength(1);
    const envelope = JSON.parse(String(Messages[0]?.Body));
    expect(envelope.MessageId).toBe(result.message_id);
    expect(envelope.Subject).toContain('backtest FAILED');
    expect(envelope.MessageAttributes).toMatchObject({
      workflow: { Type: 'String', Value: 'backtest' },
      status: { Type: 'String', Value: 'FAILED' },
    });
  });
});

describe('execution-metrics and reconcile-run, packaged, against DynamoDB', () => {
  it('emits the metrics of a status change once, however often EventBridge delivers it', () => {
    // Prepare: an event of its own
    const event = sampleEvent('execution-metrics');
    event.id = 'it-metrics-once';
    event.detail.name = 'it-metrics-once';
    event.detail.executionArn = event.detail.executionArn.replace('test-001', 'it-metrics-once');

    // Act
    const first = answer(invokePackaged('execution-metrics', event));
    const again = answer(invokePackaged('execution-metrics', event));

    // Assess
    expect(first).toMatchObject({ emitted: true });
    expect(again).toMatchObject({ emitted: false });
  });

  it('closes the record of an aborted run, and claims its notice once', async () => {
    // Prepare: a RUNNING record owned by the execution that was stopped
    const { dynamodb } = aws();
    const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:tradai-dev-backtest:it-run-abort`;
    await dynamodb.send(
      new PutItemCommand({
        TableName: 'tradai-dev-workflow-state',
        Item: { run_id: { S: 'it-run-abort' }, status: { S: 'RUNNING' }, execution_arn: { S: executionArn } },
      }),
    );
    const event = sampleEvent('reconcile-run');
    Object.assign(event.detail, { executionArn, name: 'it-run-abort', input: '{"run_id":"it-run-abort"}' });

    // Act
    const first = answer(invokePackaged('reconcile-run', event));
    const again = answer(invokePackaged('reconcile-run', event));

    // Assess
    expect(first).toEqual({ workflow: 'backtest', record: 'reconciled', notified: true });
    expect(again).toMatchObject({ notified: false, reason: 'already notified' });
    const { Item } = await dynamodb.send(
      new GetItemCommand({ TableName: 'tradai-dev-workflow-state', Key: { run_id: { S: 'it-run-abort' } } }),
    );
    expect(Item).toMatchObject({ status: { S: 'ABORTED' }, error_name: { S: 'ExecutionAborted' } });
  });
});

describe('start-workflow and pin-task-definition, packaged, against Step Functions and ECS', () => {
  it('starts a data sync named after its request_id; a retry gets the same execution, running or ended', async () => {
    // Act
    const first = answer(invokePackaged('start-workflow', sampleEvent('start-workflow')));
    const whileRunning = answer(invokePackaged('start-workflow', sampleEvent('start-workflow')));
    const executionArn = JSON.parse(String(first.body)).execution_arn;
    await aws().sfn.send(new StopExecutionCommand({ executionArn }));
    const afterItEnded = answer(invokePackaged('start-workflow', sampleEvent('start-workflow')));

    // Assess: StartExecution is idempotent for the same name and input while the execution runs
    // (202, the same ARN); once it has ended, Step Functions answers ExecutionAlreadyExists (200).
    expect(first).toMatchObject({ statusCode: 202 });
    expect(JSON.parse(String(first.body))).toMatchObject({
      request_id: 'sync-20260105-btc-eth-1h',
      started: true,
    });
    expect(whileRunning).toMatchObject({ statusCode: 202 });
    expect(JSON.parse(String(whileRunning.body))).toMatchObject({ execution_arn: executionArn });
    expect(afterItEnded).toMatchObject({ statusCode: 200 });
    expect(JSON.parse(String(afterItEnded.body))).toMatchObject({
      execution_arn: executionArn,
      started: false,
      status: 'ABORTED',
    });
    const { executions = [] } = await aws().sfn.send(
      new ListExecutionsCommand({ stateMachineArn: physicalId('DataSyncStateMachine') }),
    );
    expect(executions.filter((e) => e.name === 'sync-20260105-btc-eth-1h')).toHaveLength(1);
  });

  it("registers the strategy's task definition from the platform's template, pinned to the digest and tagged", async () => {
    // Act
    const result = answer(
      invokePackaged('pin-task-definition', {
        ...sampleEvent('pin-task-definition'),
        strategy_name: 'StrategyTestV3',
      }),
    );

    // Assess
    const { ecs } = aws();
    const { taskDefinition } = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: String(result.task_definition_arn) }),
    );
    expect(taskDefinition?.family).toBe('tradai-dev-strategy-StrategyTestV3');
    expect(taskDefinition?.containerDefinitions?.[0]?.image).toBe(
      sampleEvent('pin-task-definition').image_uri,
    );
    expect(taskDefinition).toMatchObject({ cpu: '1024', memory: '2048', networkMode: 'awsvpc' });
    const { tags = [] } = await ecs.send(
      new ListTagsForResourceCommand({ resourceArn: String(result.task_definition_arn) }),
    );
    expect(tags).toEqual(
      expect.arrayContaining([
        { key: 'tradai:strategy', value: 'StrategyTestV3' },
        { key: 'tradai:strategy-version', value: '1.0.0' },
      ]),
    );
  });
});

describe('the deploy of a live bot, packaged, against ECS and DynamoDB on moto (0046)', () => {
  const SERVICE = 'tradai-dev-live-strategytestv3';
  const TOKEN = '0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b';
  const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:tradai/exchange/binance-main-AbCdEf`;
  const pinBot = () =>
    answer(
      invokePackaged('pin-task-definition', {
        ...sampleEvent('pin-task-definition'),
        strategy_name: 'StrategyTestV3',
        purpose: 'live',
        bot: {
          config_uri: `s3://${RUNS}/deployments/it-deploy-1/config.json`,
          params_uri: '',
          exchange_credentials: { secret_arn: SECRET },
        },
      }),
    );

  it("registers the bot's revision as ECS keeps it: keys as secrets by reference, the durable volume, freqtrade's health check", async () => {
    // Act
    const pinned = pinBot();

    // Assess
    const { taskDefinition } = await aws().ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: String(pinned.task_definition_arn) }),
    );
    const container = taskDefinition?.containerDefinitions?.find((c) => c.name === 'strategy');
    expect(taskDefinition?.family).toBe('tradai-dev-trading-live-StrategyTestV3');
    expect(container?.secrets).toEqual(
      expect.arrayContaining([
        { name: 'FREQTRADE__EXCHANGE__KEY', valueFrom: `${SECRET}:key::` },
        { name: 'FREQTRADE__EXCHANGE__SECRET', valueFrom: `${SECRET}:secret::` },
      ]),
    );
    expect(JSON.stringify(taskDefinition)).not.toContain('"FREQTRADE__DRY_RUN"');
    expect(container?.mountPoints).toEqual([
      expect.objectContaining({ sourceVolume: 'bot-db', containerPath: '/freqtrade/user_data/db' }),
    ]);
    expect(taskDefinition?.volumes?.[0]?.efsVolumeConfiguration?.fileSystemId).toBe('fs-0123456789abcdef0');
    expect(container?.healthCheck?.command?.join(' ')).toContain('/api/v1/ping');
  });

  it('updates the service once under its lease, not at all after a retry, and never under a lease another deploy took', async () => {
    // Prepare: the bot's service on the template's revision, and this deploy's lease
    const { ecs, dynamodb } = aws();
    const pinned = String(pinBot().task_definition_arn);
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'tradai-dev',
        serviceName: SERVICE,
        taskDefinition: 'tradai-dev-trading-template',
        desiredCount: 0,
      }),
    );
    const leases = physicalId('DeployLeasesTable');
    const takeLease = (token: string) =>
      dynamodb.send(
        new PutItemCommand({
          TableName: leases,
          Item: { service_name: { S: SERVICE }, token: { S: token }, execution_arn: { S: `arn:${token}` } },
        }),
      );
    await takeLease(TOKEN);
    const update = () =>
      invokePackaged('update-bot-service', {
        action: 'deploy',
        service_name: SERVICE,
        to: pinned,
        lease_token: TOKEN,
      });

    // Act
    const first = answer(update());
    const retried = answer(update());
    await takeLease('00000000-1111-4222-8333-444455556666');
    const afterTakeover = update();

    // Assess
    expect(first).toEqual({ updated: true, task_definition_arn: pinned });
    expect(retried).toEqual({ updated: false, task_definition_arn: pinned });
    expect(afterTakeover).toMatchObject({ ok: false, errorType: 'LeaseLostError' });
    const { services = [] } = await ecs.send(
      new DescribeServicesCommand({ cluster: 'tradai-dev', services: [SERVICE] }),
    );
    expect(services[0]).toMatchObject({ taskDefinition: pinned, desiredCount: 0 });
  });
});
