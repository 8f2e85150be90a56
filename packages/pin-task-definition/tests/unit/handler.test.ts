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

  it('pins a trading task from the trading template, in the family of its environment', async () => {
    // Prepare
    vi.stubEnv('TRADING_TASK_TEMPLATE', 'tradai-dev-trading-template');
    vi.stubEnv('TRADING_TASK_FAMILY_PREFIX', 'tradai-dev-trading-');
    describeFamilies({ 'tradai-dev-trading-template': { taskDefinition: template } });

    // Act
    await invoke({ ...event, purpose: 'live' });

    // Assess
    expect(ecsMock).toReceiveCommandWith(DescribeTaskDefinitionCommand, {
      taskDefinition: 'tradai-dev-trading-template',
    });
    expect(ecsMock).toReceiveCommandWith(RegisterTaskDefinitionCommand, {
      family: 'tradai-dev-trading-live-MomentumStrategy',
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
