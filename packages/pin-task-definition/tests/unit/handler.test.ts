import {
  ClientException,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { awsError, fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler, TEMPLATE_TAG } from '../../src';

const ecsMock = mockClient(ECSClient);
const invoke = (input: unknown) => handler(input, fakeContext('tradai-dev-pin-task-definition'));

const ACCOUNT = '123456789012';
const IMAGE = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/tradai/strategies/momentumstrategy@sha256:${'ab'.repeat(32)}`;
const TEMPLATE_ARN = `arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/tradai-dev-backtest-template:7`;
const FAMILY = 'tradai-dev-strategy-MomentumStrategy';
const event = { strategy_name: 'MomentumStrategy', strategy_version: '1.0.0', image_uri: IMAGE };

const template = {
  taskDefinitionArn: TEMPLATE_ARN,
  family: 'tradai-dev-backtest-template',
  containerDefinitions: [
    { name: 'strategy', image: 'placeholder:latest', essential: true },
    { name: 'log-router', image: 'fluent-bit:2', essential: false },
  ],
  taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/tradai-dev-backtest-task`,
  executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/tradai-dev-backtest-execution`,
  networkMode: 'awsvpc' as const,
  requiresCompatibilities: ['FARGATE' as const],
  cpu: '1024',
  memory: '2048',
};
const missing = () =>
  new ClientException({ message: 'Unable to describe task definition.', $metadata: { httpStatusCode: 400 } });

const describeFamilies = (
  families: Record<string, { taskDefinition: object; tags?: { key: string; value: string }[] } | undefined>,
) =>
  ecsMock.on(DescribeTaskDefinitionCommand).callsFake(async ({ taskDefinition }) => {
    const found = families[taskDefinition];
    if (!found) throw missing();
    return found;
  });

describe('pin-task-definition', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    ecsMock.reset();
    vi.stubEnv('BACKTEST_TASK_TEMPLATE', 'tradai-dev-backtest-template');
    vi.stubEnv('STRATEGY_TASK_FAMILY_PREFIX', 'tradai-dev-strategy-');
    ecsMock.on(RegisterTaskDefinitionCommand).resolves({
      taskDefinition: { taskDefinitionArn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/${FAMILY}:1` },
    });
  });

  it('registers a revision of the strategy family that runs exactly the validated digest', async () => {
    // Prepare
    describeFamilies({ 'tradai-dev-backtest-template': { taskDefinition: template } });

    // Act
    const pinned = await invoke(event);

    // Assess
    expect(pinned).toEqual({
      task_definition_arn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/${FAMILY}:1`,
      registered: true,
      image_uri: IMAGE,
    });
    expect(ecsMock).toReceiveCommandWith(RegisterTaskDefinitionCommand, {
      family: FAMILY,
      containerDefinitions: [
        { name: 'strategy', image: IMAGE, essential: true },
        { name: 'log-router', image: 'fluent-bit:2', essential: false },
      ],
      taskRoleArn: template.taskRoleArn,
      executionRoleArn: template.executionRoleArn,
      cpu: '1024',
      memory: '2048',
      tags: [
        { key: 'tradai:strategy', value: 'MomentumStrategy' },
        { key: 'tradai:strategy-version', value: '1.0.0' },
        { key: TEMPLATE_TAG, value: TEMPLATE_ARN },
      ],
    });
  });

  it('reuses the latest revision when it already runs this digest from this template', async () => {
    // Prepare
    const current = {
      taskDefinitionArn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/${FAMILY}:4`,
      containerDefinitions: [{ name: 'strategy', image: IMAGE }],
    };
    describeFamilies({
      'tradai-dev-backtest-template': { taskDefinition: template },
      [FAMILY]: { taskDefinition: current, tags: [{ key: TEMPLATE_TAG, value: TEMPLATE_ARN }] },
    });

    // Act
    const pinned = await invoke(event);

    // Assess
    expect(pinned).toMatchObject({ task_definition_arn: current.taskDefinitionArn, registered: false });
    expect(ecsMock).not.toReceiveCommand(RegisterTaskDefinitionCommand);
  });

  it('registers again when the template changed since the latest revision', async () => {
    // Prepare
    describeFamilies({
      'tradai-dev-backtest-template': { taskDefinition: template },
      [FAMILY]: {
        taskDefinition: {
          taskDefinitionArn: 'arn:old',
          containerDefinitions: [{ name: 'strategy', image: IMAGE }],
        },
        tags: [{ key: TEMPLATE_TAG, value: TEMPLATE_ARN.replace(':7', ':6') }],
      },
    });

    // Act
    const pinned = await invoke(event);

    // Assess
    expect(pinned.registered).toBe(true);
  });

  it.each([
    ['the template does not exist', {}],
    [
      'the template has no strategy container',
      {
        'tradai-dev-backtest-template': {
          taskDefinition: { ...template, containerDefinitions: [{ name: 'app', image: 'x' }] },
        },
      },
    ],
  ])('reports a ConfigurationError when %s', async (_, families) => {
    // Prepare
    describeFamilies(families);

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({ name: 'ConfigurationError' });
    expect(ecsMock).not.toReceiveCommand(RegisterTaskDefinitionCommand);
  });

  it.each([
    ['a tag instead of a digest', IMAGE.replace(/@sha256:.*/, ':1.0.0')],
    ['another registry', `docker.io/library/momentum@sha256:${'ab'.repeat(32)}`],
    ['a short digest', `${IMAGE.slice(0, -2)}`],
  ])('refuses %s with a ValidationError naming image_uri, before any ECS call', async (_, image) => {
    // Act & Assess
    await expect(invoke({ ...event, image_uri: image })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('image_uri: must be an ECR image URI pinned by digest'),
    });
    expect(ecsMock.calls()).toHaveLength(0);
  });

  describe('a trading bot', () => {
    const API_SECRET = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:tradai/bot-api-x1Y2z3`;
    const EXCHANGE_SECRET = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:tradai/exchange/binance-main-AbCdEf`;
    const CONFIG = 's3://tradai-dev-backtest-runs/deployments/deploy-1/config.json';
    const tradingTemplate = {
      ...template,
      family: 'tradai-dev-trading-template',
      containerDefinitions: [
        {
          name: 'strategy',
          image: 'placeholder:latest',
          essential: true,
          mountPoints: [
            { sourceVolume: 'bot-db', containerPath: '/freqtrade/user_data/db', readOnly: false },
          ],
        },
      ],
      volumes: [{ name: 'bot-db', efsVolumeConfiguration: { fileSystemId: 'fs-0123456789abcdef0' } }],
    };
    const bot = (exchange_credentials: unknown = null) => ({
      config_uri: CONFIG,
      params_uri: '',
      exchange_credentials,
    });
    const strategyContainer = () =>
      (ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input.containerDefinitions ?? []).find(
        (c) => c.name === 'strategy',
      );

    beforeEach(() => {
      vi.stubEnv('TRADING_TASK_TEMPLATE', 'tradai-dev-trading-template');
      vi.stubEnv('TRADING_TASK_FAMILY_PREFIX', 'tradai-dev-trading-');
      vi.stubEnv('BOT_API_SECRET_ARN', API_SECRET);
    });

    it('pins a live bot in the family of its environment, its keys as ECS secrets by reference, and a health check that asks freqtrade', async () => {
      // Prepare
      describeFamilies({ 'tradai-dev-trading-template': { taskDefinition: tradingTemplate } });

      // Act
      await invoke({ ...event, purpose: 'live', bot: bot({ secret_arn: EXCHANGE_SECRET }) });

      // Assess
      expect(ecsMock).toReceiveCommandWith(RegisterTaskDefinitionCommand, {
        family: 'tradai-dev-trading-live-MomentumStrategy',
        volumes: tradingTemplate.volumes,
      });
      const container = strategyContainer();
      expect(container?.image).toBe(IMAGE);
      expect(container?.environment).toContainEqual({ name: 'TRADAI_BOT_CONFIG_URI', value: CONFIG });
      expect(container?.secrets).toEqual([
        { name: 'FREQTRADE__API_SERVER__USERNAME', valueFrom: `${API_SECRET}:username::` },
        { name: 'FREQTRADE__API_SERVER__PASSWORD', valueFrom: `${API_SECRET}:password::` },
        { name: 'FREQTRADE__API_SERVER__JWT_SECRET_KEY', valueFrom: `${API_SECRET}:jwt_secret_key::` },
        { name: 'FREQTRADE__EXCHANGE__KEY', valueFrom: `${EXCHANGE_SECRET}:key::` },
        { name: 'FREQTRADE__EXCHANGE__SECRET', valueFrom: `${EXCHANGE_SECRET}:secret::` },
      ]);
      expect(container?.healthCheck?.command?.[1]).toContain('http://localhost:8080/api/v1/ping');
      expect(container?.healthCheck?.command?.[1]).toContain('"state":"running"');
    });

    it('takes SSM keys by parameter name', async () => {
      // Prepare
      describeFamilies({ 'tradai-dev-trading-template': { taskDefinition: tradingTemplate } });

      // Act
      await invoke({ ...event, purpose: 'live', bot: bot({ ssm_path: '/tradai/exchange/main' }) });

      // Assess
      expect(strategyContainer()?.secrets).toContainEqual({
        name: 'FREQTRADE__EXCHANGE__KEY',
        valueFrom: '/tradai/exchange/main/key',
      });
    });

    it('reuses the latest revision when it already runs this bot, and registers one when its config differs', async () => {
      // Prepare: the first call registers; its definition becomes the family's latest.
      describeFamilies({ 'tradai-dev-trading-template': { taskDefinition: tradingTemplate } });
      await invoke({ ...event, purpose: 'dry-run', bot: bot() });
      const registered = ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input;
      const latest = {
        taskDefinition: {
          ...registered,
          taskDefinitionArn: `${TEMPLATE_ARN.replace('backtest-template:7', 'trading-dry-run-MomentumStrategy:4')}`,
        },
        tags: [{ key: TEMPLATE_TAG, value: TEMPLATE_ARN }],
      };
      ecsMock.reset();
      describeFamilies({
        'tradai-dev-trading-template': { taskDefinition: tradingTemplate },
        'tradai-dev-trading-dry-run-MomentumStrategy': latest,
      });
      ecsMock
        .on(RegisterTaskDefinitionCommand)
        .resolves({ taskDefinition: { taskDefinitionArn: 'arn:new' } });

      // Act
      const same = await invoke({ ...event, purpose: 'dry-run', bot: bot() });
      const other = await invoke({
        ...event,
        purpose: 'dry-run',
        bot: { ...bot(), config_uri: CONFIG.replace('deploy-1', 'deploy-2') },
      });

      // Assess
      expect(same).toMatchObject({ registered: false });
      expect(other).toMatchObject({ registered: true });
    });

    it.each([
      ['a template without the durable volume', { ...tradingTemplate, volumes: [] }, 'is not an EFS volume'],
      [
        'a template with no mount at the database directory',
        { ...tradingTemplate, containerDefinitions: [{ name: 'strategy', image: 'p:1' }] },
        'mounts no volume at /freqtrade/user_data/db',
      ],
      [
        'a template that sets FREQTRADE__DRY_RUN',
        {
          ...tradingTemplate,
          containerDefinitions: [
            {
              ...tradingTemplate.containerDefinitions[0],
              environment: [{ name: 'FREQTRADE__DRY_RUN', value: 'false' }],
            },
          ],
        },
        'sets FREQTRADE__DRY_RUN',
      ],
    ])('refuses %s with a ConfigurationError, registering nothing', async (_, definition, message) => {
      // Prepare
      describeFamilies({ 'tradai-dev-trading-template': { taskDefinition: definition } });

      // Act & Assess
      await expect(invoke({ ...event, purpose: 'live', bot: bot() })).rejects.toMatchObject({
        name: 'ConfigurationError',
        message: expect.stringContaining(message),
      });
      expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
    });

    it.each([
      [
        'a trading task without its bot',
        { ...event, purpose: 'live' },
        'bot: is required for a trading task',
      ],
      [
        'a backtest with a bot',
        { ...event, bot: bot() },
        'bot: is required for a trading task, and only for one',
      ],
      [
        'a dry-run bot with keys',
        { ...event, purpose: 'dry-run', bot: bot({ secret_arn: EXCHANGE_SECRET }) },
        'bot.exchange_credentials: a dry-run bot never holds exchange keys',
      ],
    ])('refuses %s with a ValidationError naming the field', async (_, input, message) => {
      await expect(invoke(input)).rejects.toMatchObject({
        name: 'ValidationError',
        message: expect.stringContaining(message),
      });
      expect(ecsMock.calls()).toHaveLength(0);
    });
  });

  it('reports a ConfigurationError for a trading task on a stage without a trading template', async () => {
    await expect(invoke({ ...event, purpose: 'dry-run' })).rejects.toMatchObject({
      name: 'ConfigurationError',
    });
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it('maps ECS throttling to TransientAwsError', async () => {
    // Prepare
    ecsMock.on(DescribeTaskDefinitionCommand).rejects(awsError('ThrottlingException', 400));

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({ name: 'TransientAwsError' });
  });
});
