import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsError, censusOfRejections, fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const ecsMock = mockClient(ECSClient);
const secretsMock = mockClient(SecretsManagerClient);
const invoke = (input: unknown) => handler(input, fakeContext('tradai-dev-snapshot-open-trades'));

const SERVICE = 'tradai-dev-live-momentumstrategy';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tradai-dev/bot-api-AbC123';
const NEW_TD =
  'arn:aws:ecs:eu-west-1:123456789012:task-definition/tradai-dev-trading-live-MomentumStrategy:3';
const OLD_TD =
  'arn:aws:ecs:eu-west-1:123456789012:task-definition/tradai-dev-trading-live-MomentumStrategy:2';
const TASK_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task/tradai-dev/0123456789abcdef';
const BOT = 'http://10.0.1.5:8080/api/v1';

const before = (policy: string) => ({ phase: 'before', service_name: SERVICE, policy });
const after = (trade_ids: number[], read = true) => ({
  phase: 'after',
  service_name: SERVICE,
  task_definition_arn: NEW_TD,
  before: { read, trade_ids },
});
const trade = (trade_id: number, pair = 'BTC/USDT:USDT') => ({
  trade_id,
  pair,
  open_date: '2026-01-04 10:00:00',
  is_open: true,
  amount: 0.01,
});

/** One RUNNING task of `taskDefinitionArn` at 10.0.1.5. */
const runningTask = (taskDefinitionArn = NEW_TD, lastStatus = 'RUNNING') => {
  ecsMock.on(ListTasksCommand).resolves({ taskArns: [TASK_ARN] });
  ecsMock.on(DescribeTasksCommand).resolves({
    tasks: [
      {
        taskArn: TASK_ARN,
        lastStatus,
        taskDefinitionArn,
        attachments: [
          {
            type: 'ElasticNetworkInterface',
            details: [
              { name: 'subnetId', value: 'subnet-0abc' },
              { name: 'privateIPv4Address', value: '10.0.1.5' },
            ],
          },
        ],
      },
    ],
  });
};

/** The bot's API: each path answers `[status, body]`, or throws what the network would. */
const bot = (routes: Record<string, [number, unknown] | Error>) => {
  const fetch = vi.fn(async (url: string | URL | Request, _init?: RequestInit) => {
    const route = routes[String(url).replace(BOT, '')];
    if (route === undefined) return new Response(JSON.stringify({ detail: 'Not Found' }), { status: 404 });
    if (route instanceof Error) throw route;
    const [status, body] = route;
    return new Response(JSON.stringify(body), { status });
  });
  vi.stubGlobal('fetch', fetch);
  return fetch;
};

describe('snapshot-open-trades', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    ecsMock.reset();
    secretsMock.reset();
    vi.stubEnv('ECS_CLUSTER', 'tradai-dev');
    vi.stubEnv('BOT_API_SECRET_ARN', SECRET_ARN);
    secretsMock
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ username: 'tradai', password: 's3cret' }) });
  });

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("reads the old bot's open trades before a keep deploy, logging in with the stage's API secret", async () => {
    // Prepare
    runningTask(OLD_TD);
    const fetch = bot({ '/status': [200, [trade(7), trade(9, 'ETH/USDT:USDT')]] });

    // Act
    const snapshot = await invoke(before('keep'));

    // Assess
    expect(snapshot).toEqual({
      read: true,
      reason: '',
      task_arn: TASK_ARN,
      trade_ids: [7, 9],
      trades: [
        { trade_id: 7, pair: 'BTC/USDT:USDT', open_date: '2026-01-04 10:00:00' },
        { trade_id: 9, pair: 'ETH/USDT:USDT', open_date: '2026-01-04 10:00:00' },
      ],
      closed_since: [],
    });
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(fetch).toHaveBeenCalledWith(
      `${BOT}/status`,
      expect.objectContaining({
        headers: { authorization: `Basic ${Buffer.from('tradai:s3cret').toString('base64')}` },
      }),
    );
    expect(ecsMock).toReceiveCommandWith(ListTasksCommand, {
      cluster: 'tradai-dev',
      serviceName: SERVICE,
      desiredStatus: 'RUNNING',
    });
    expect(ecsMock).toReceiveCommandWith(DescribeTasksCommand, { cluster: 'tradai-dev', tasks: [TASK_ARN] });
    expect(secretsMock).toReceiveCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
  });

  it('skips entries of the status list that are not trades', async () => {
    // Prepare
    runningTask(OLD_TD);
    bot({ '/status': [200, [trade(7), null, { pair: 'X/Y' }, { trade_id: '8' }]] });

    // Act & Assess
    await expect(invoke(before('keep'))).resolves.toMatchObject({ read: true, trade_ids: [7] });
  });

  it('refuses a refuse-policy deploy while the bot holds open trades, naming them', async () => {
    // Prepare
    runningTask(OLD_TD);
    bot({ '/status': [200, [trade(7), trade(9, 'ETH/USDT:USDT')]] });

    // Act & Assess
    await expect(invoke(before('refuse'))).rejects.toMatchObject({
      name: 'TradesOpenError',
      message: expect.stringContaining('has 2 open trade(s) (#7 BTC/USDT:USDT, #9 ETH/USDT:USDT)'),
    });
  });

  it('lets a refuse-policy deploy go on when the bot holds no open trade', async () => {
    // Prepare
    runningTask(OLD_TD);
    bot({ '/status': [200, []] });

    // Act & Assess
    await expect(invoke(before('refuse'))).resolves.toMatchObject({ read: true, trade_ids: [] });
  });

  it.each([
    ['no task at all', () => ecsMock.on(ListTasksCommand).resolves({ taskArns: [] })],
    ['a task still starting', () => runningTask(OLD_TD, 'PROVISIONING')],
    [
      'a task without a private address',
      () => {
        ecsMock.on(ListTasksCommand).resolves({ taskArns: [TASK_ARN] });
        ecsMock.on(DescribeTasksCommand).resolves({
          tasks: [{ taskArn: TASK_ARN, lastStatus: 'RUNNING', taskDefinitionArn: OLD_TD, attachments: [] }],
        });
      },
    ],
  ])(
    'answers read:false for a keep deploy of a service running %s, asking the bot nothing',
    async (_, arrange) => {
      // Prepare
      arrange();
      const fetch = bot({ '/status': [200, [trade(7)]] });

      // Act
      const snapshot = await invoke(before('keep'));

      // Assess
      expect(snapshot).toMatchObject({
        read: false,
        reason: expect.stringContaining('no RUNNING task'),
        trade_ids: [],
      });
      expect(fetch).not.toHaveBeenCalled();
      expect(secretsMock).not.toReceiveCommand(GetSecretValueCommand);
    },
  );

  it('refuses a refuse-policy deploy of a service running no task: its trades cannot be read', async () => {
    // Prepare
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
    const fetch = bot({});

    // Act & Assess
    await expect(invoke(before('refuse'))).rejects.toMatchObject({
      name: 'TradesOpenError',
      message: expect.stringContaining('runs no task'),
    });
    expect(fetch).not.toHaveBeenCalled();
  });

  it.each([
    ['does not answer', new TypeError('fetch failed'), 'fetch failed'],
    ['answers 503', [503, { detail: 'unavailable' }] as [number, unknown], 'answered 503'],
    [
      'answers something other than a list',
      [200, { detail: 'starting' }] as [number, unknown],
      'did not answer a list',
    ],
  ])('answers read:false for a keep deploy when the bot %s', async (_, status, reason) => {
    // Prepare
    runningTask(OLD_TD);
    bot({ '/status': status });

    // Act
    const snapshot = await invoke(before('keep'));

    // Assess
    expect(snapshot).toEqual({
      read: false,
      reason: expect.stringContaining(reason),
      task_arn: TASK_ARN,
      trade_ids: [],
      trades: [],
      closed_since: [],
    });
  });

  it('refuses a refuse-policy deploy when the bot does not answer', async () => {
    // Prepare
    runningTask(OLD_TD);
    bot({ '/status': new TypeError('fetch failed') });

    // Act & Assess
    await expect(invoke(before('refuse'))).rejects.toMatchObject({
      name: 'TradesOpenError',
      message: expect.stringContaining('fetch failed'),
    });
  });

  it('proves after the deploy that the new bot still holds every trade the old one had open', async () => {
    // Prepare
    runningTask(NEW_TD);
    const fetch = bot({ '/status': [200, [trade(7), trade(9), trade(12)]] });

    // Act
    const snapshot = await invoke(after([7, 9]));

    // Assess
    expect(snapshot).toMatchObject({
      read: true,
      task_arn: TASK_ARN,
      trade_ids: [7, 9, 12],
      closed_since: [],
    });
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('accepts a trade the new bot closed since it started, as closed_since', async () => {
    // Prepare
    runningTask(NEW_TD);
    const fetch = bot({ '/status': [200, [trade(7)]], '/trade/9': [200, { ...trade(9), is_open: false }] });

    // Act
    const snapshot = await invoke(after([7, 9]));

    // Assess
    expect(snapshot).toMatchObject({ read: true, trade_ids: [7], closed_since: [9] });
    expect(fetch).toHaveBeenCalledWith(`${BOT}/trade/9`, expect.anything());
  });

  it('throws OpenTradesLostError when the new bot does not know a trade the old one had open', async () => {
    // Prepare
    runningTask(NEW_TD);
    bot({
      '/status': [200, [trade(7)]],
      '/trade/9': [200, { ...trade(9), is_open: false }],
      '/trade/11': [404, { detail: 'Trade not found.' }],
    });

    // Act & Assess
    await expect(invoke(after([7, 9, 11]))).rejects.toMatchObject({
      name: 'OpenTradesLostError',
      message: expect.stringMatching(/does not know trade\(s\) #11 that/),
    });
  });

  it.each([
    ['the status call', { '/status': new TypeError('fetch failed') }],
    ['the status call (503)', { '/status': [503, {}] as [number, unknown] }],
    [
      'the trade lookup',
      { '/status': [200, []] as [number, unknown], '/trade/9': new TypeError('fetch failed') },
    ],
    [
      'the trade lookup (500)',
      { '/status': [200, []] as [number, unknown], '/trade/9': [500, {}] as [number, unknown] },
    ],
  ])('throws BotNotAnsweringError when the new bot fails %s', async (_, routes) => {
    // Prepare
    runningTask(NEW_TD);
    bot(routes);

    // Act & Assess
    await expect(invoke(after([9]))).rejects.toMatchObject({
      name: 'BotNotAnsweringError',
      message: expect.stringContaining(SERVICE),
    });
  });

  it('throws BotNotAnsweringError when no task of the new revision runs', async () => {
    // Prepare: only the old revision's task
    runningTask(OLD_TD);
    const fetch = bot({ '/status': [200, [trade(7)]] });

    // Act & Assess
    await expect(invoke(after([7]))).rejects.toMatchObject({
      name: 'BotNotAnsweringError',
      message: expect.stringContaining(`no RUNNING task of ${NEW_TD}`),
    });
    expect(fetch).not.toHaveBeenCalled();
  });

  it.each([
    ['before', before('keep'), 401],
    ['before', before('keep'), 403],
    ['after', after([7]), 401],
  ])('reports a login the bot refuses (%s, %i) as a ConfigurationError', async (_, input, status) => {
    // Prepare
    runningTask((input as { phase: string }).phase === 'after' ? NEW_TD : OLD_TD);
    bot({ '/status': [status, { detail: 'Unauthorized' }] });

    // Act & Assess
    await expect(invoke(input)).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining(`refused the login (${status})`),
    });
  });

  it("answers read:false after the deploy, asking the new bot nothing, when the old bot's trades were not read", async () => {
    // Prepare
    runningTask(NEW_TD);
    const fetch = bot({ '/status': [200, []] });

    // Act
    const snapshot = await invoke(after([], false));

    // Assess
    expect(snapshot).toMatchObject({ read: false, trade_ids: [], closed_since: [] });
    expect(fetch).not.toHaveBeenCalled();
  });

  it.each([
    ['not JSON', 'tradai:s3cret'],
    ['without a password', JSON.stringify({ username: 'tradai' })],
    ['null', 'null'],
  ])('reports an API secret %s as a ConfigurationError, asking the bot nothing', async (_, secret) => {
    // Prepare
    runningTask(OLD_TD);
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: secret });
    const fetch = bot({ '/status': [200, []] });

    // Act & Assess
    await expect(invoke(before('keep'))).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining('username and password'),
    });
    expect(fetch).not.toHaveBeenCalled();
  });

  it.each([
    ['an unknown policy', { ...before('close'), policy: 'close' }, 'policy: must be one of keep, refuse'],
    ['an unknown phase', { ...before('keep'), phase: 'during' }, 'phase'],
    [
      'a task definition that is not a revision ARN',
      { ...after([]), task_definition_arn: 'family:3' },
      'task_definition_arn',
    ],
    ['a trade id that is not an integer', after([1.5]), 'before.trade_ids'],
    ['a service name with spaces', { ...before('keep'), service_name: 'bad name' }, 'service_name'],
  ])('refuses %s with a ValidationError naming the field, before any call', async (_, input, field) => {
    // Prepare
    const fetch = bot({});

    // Act & Assess
    await expect(invoke(input)).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining(field),
    });
    expect(ecsMock.calls()).toHaveLength(0);
    expect(fetch).not.toHaveBeenCalled();
  });

  it('reports a bot API timeout out of range as a ConfigurationError', async () => {
    // Prepare
    vi.stubEnv('BOT_API_TIMEOUT_MS', '60000');

    // Act & Assess
    await expect(invoke(before('keep'))).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining('BOT_API_TIMEOUT_MS'),
    });
  });

  it.each([
    ['ECS', () => ecsMock.on(ListTasksCommand).rejects(awsError('ThrottlingException', 400))],
    [
      'Secrets Manager',
      () => {
        runningTask(OLD_TD);
        secretsMock.on(GetSecretValueCommand).rejects(awsError('InternalServiceError', 500));
      },
    ],
  ])('maps %s failing transiently to TransientAwsError', async (_, arrange) => {
    // Prepare
    arrange();
    bot({ '/status': [200, []] });

    // Act & Assess
    await expect(invoke(before('keep'))).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('answers any input with a snapshot or a named error, never a TypeError', async () => {
    // Prepare
    runningTask(NEW_TD);
    bot({
      '/status': [200, [trade(7)]],
      '/trade/9': [200, trade(9)],
      '/trade/11': [404, { detail: 'Trade not found.' }],
    });
    const events = fc.oneof(
      fc.record({
        phase: fc.constantFrom('before', 'after', 'during'),
        service_name: fc.constantFrom(SERVICE, 'bad name'),
        policy: fc.constantFrom('keep', 'refuse', 'close'),
      }),
      fc.record({
        phase: fc.constantFrom('after', 'before'),
        service_name: fc.constantFrom(SERVICE, 'bad name'),
        task_definition_arn: fc.constantFrom(NEW_TD, OLD_TD, 'not-an-arn'),
        before: fc.record({
          read: fc.boolean(),
          trade_ids: fc.constantFrom([], [7], [7, 9], [11], [1.5]),
        }),
      }),
      fc.anything(),
    );

    // Act
    const census = await censusOfRejections(handler, events, {
      allowedErrors: ['ValidationError', 'TradesOpenError', 'OpenTradesLostError', 'BotNotAnsweringError'],
      numRuns: 300,
    });

    // Assess
    expect(census.answered).toBeGreaterThan(0);
    expect(census.byName.ValidationError).toBeGreaterThan(0);
    // Which named errors a random sample reaches varies by seed; each has its own test above.
  });
});
