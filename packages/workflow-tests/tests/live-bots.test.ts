import { parseS3Uri } from '@tradai/lambda-kit';
import {
  LOCAL_SUBSTITUTIONS,
  runWorkflow as run,
  type runWorkflow,
  unmarshall,
  type World,
} from '@tradai/local-aws';
import { describe, expect, it } from 'vitest';

/*
 * Live bots as freqtrade needs them (docs/decisions/0046): what each named deploy case leaves in
 * the world beyond its path — the rendered config, the task definition, the bot's trades, the
 * service's restarts and the leases.
 */

type Run = Awaited<ReturnType<typeof runWorkflow>>;
const DEPLOYMENTS = String(LOCAL_SUBSTITUTIONS.DeploymentsTable);
const LEASES = String(LOCAL_SUBSTITUTIONS.DeployLeasesTable);
const DRY_RUN_SERVICE = 'tradai-local-dry-run-strategytestv3';

const deploy = (caseName: string) => run({ machine: 'deploy', caseName });
const record = (world: World, id: string) => {
  const item = world.item(DEPLOYMENTS, { deployment_id: { S: id } });
  return item && unmarshall(item);
};
const json = (world: World, uri: string) => {
  const { bucket, key } = parseS3Uri(uri, 'uri');
  const object = world.getObject(bucket, key);
  if (!object) throw new Error(`${uri} was not written`);
  return JSON.parse(new TextDecoder().decode(object.body));
};
/** The output of the first `state` that exited. */
const output = (result: Run, state: string) =>
  result.events.find((event) => event.state === state && event.event === 'exited')?.data as Record<
    string,
    unknown
  >;
const pinnedDefinition = (result: Run) => {
  const arn = String(
    (output(result, 'RegisterTaskDefinition').pinned as { task_definition_arn: string }).task_definition_arn,
  );
  return result.world.findTaskDefinition(arn)?.definition as {
    containerDefinitions: {
      name: string;
      secrets?: { name: string; valueFrom: string }[];
      environment?: { name: string; value: string }[];
      healthCheck?: { command: string[] };
    }[];
  };
};
const updates = (result: Run, service: string) =>
  result.world.changes.filter((change) => change.kind === 'ecs:update-service' && change.service === service);

describe('a rendered, checked bot config', () => {
  it('DryRunHappyPath: the bot config says dry_run with a wallet, keeps its trades on the durable volume, and holds no key', async () => {
    // Act
    const result = await deploy('DryRunHappyPath');

    // Assess
    const bot = output(result, 'RenderBotConfig').bot as { config_uri: string; exchange_account: string };
    const config = json(result.world, bot.config_uri);
    expect(config).toMatchObject({
      dry_run: true,
      dry_run_wallet: 1000,
      db_url: `sqlite:////freqtrade/user_data/db/${DRY_RUN_SERVICE}.sqlite`,
      initial_state: 'running',
      api_server: { enabled: true, listen_port: 8080 },
    });
    expect(config.exchange).not.toHaveProperty('key');
    expect(config.exchange).not.toHaveProperty('secret');
    expect(bot.exchange_account).toBe('');
    const container = pinnedDefinition(result).containerDefinitions[0];
    expect(container?.secrets?.map((s) => s.name)).toEqual([
      'FREQTRADE__API_SERVER__USERNAME',
      'FREQTRADE__API_SERVER__PASSWORD',
      'FREQTRADE__API_SERVER__JWT_SECRET_KEY',
    ]);
    expect(container?.environment).toContainEqual({ name: 'TRADAI_BOT_CONFIG_URI', value: bot.config_uri });
    expect(container?.healthCheck?.command.join(' ')).toContain('/api/v1/ping');
  });

  it('LiveWithCompletedBacktest: the live bot says dry_run false and gets its keys from the secret, by reference only', async () => {
    // Act
    const result = await deploy('LiveWithCompletedBacktest');

    // Assess
    const bot = output(result, 'RenderBotConfig').bot as { config_uri: string };
    const config = json(result.world, bot.config_uri);
    expect(config.dry_run).toBe(false);
    expect(config).not.toHaveProperty('dry_run_wallet');
    const secrets = pinnedDefinition(result).containerDefinitions[0]?.secrets ?? [];
    const secretArn =
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:tradai/exchange/binance-main-AbCdEf';
    expect(secrets).toContainEqual({ name: 'FREQTRADE__EXCHANGE__KEY', valueFrom: `${secretArn}:key::` });
    expect(secrets).toContainEqual({
      name: 'FREQTRADE__EXCHANGE__SECRET',
      valueFrom: `${secretArn}:secret::`,
    });
    // Who deployed what, and on what evidence.
    expect(record(result.world, 'deploy-live-1')).toMatchObject({
      status: 'DEPLOYED',
      requested_by: 'StartExecution (not through the API)',
      tested_by: 'backtest bt-ok',
      strategy_hash: result.world.record(String(LOCAL_SUBSTITUTIONS.WorkflowStateTable), 'bt-ok')
        ?.strategy_hash,
    });
    // The account is bound to this service from now on.
    expect(
      unmarshall(
        result.world.item(LEASES, { service_name: { S: 'account#binance:tradai/exchange/binance-main' } }) ??
          {},
      ),
    ).toMatchObject({
      holder_service: 'tradai-local-live-strategytestv3',
    });
  });

  it('LiveWithoutKeysRefused and DryRunWithKeysRefused: refused by name before anything is touched', async () => {
    for (const caseName of ['LiveWithoutKeysRefused', 'DryRunWithKeysRefused']) {
      // Act
      const result = await deploy(caseName);

      // Assess
      expect(result.error?.Cause).toContain('exchange_credentials');
      expect(result.world.changes.filter((c) => c.kind.startsWith('ecs:'))).toEqual([]);
    }
  });
});

describe('only what was tested goes live', () => {
  it('LiveTagRepushed: refused with both digests named, and the service never touched', async () => {
    // Act
    const result = await deploy('LiveTagRepushed');

    // Assess
    expect(result.error?.Cause).toContain(`sha256:${'ab'.repeat(32)}`);
    expect(result.error?.Cause).toContain('sha256:5e1f5e1f');
    expect(result.world.changes.filter((c) => c.kind.startsWith('ecs:'))).toEqual([]);
  });

  it("SweepWinnerPromoted: the bot runs the winning variant's parameter file and hash", async () => {
    // Act
    const result = await deploy('SweepWinnerPromoted');

    // Assess
    const bot = output(result, 'RenderBotConfig').bot as { params_uri: string; strategy_hash: string };
    expect(json(result.world, bot.params_uri)).toMatchObject({
      strategy_name: 'StrategyTestV3',
      params: { buy: { buy_rsi: 28 } },
    });
    const variant = result.world.record(String(LOCAL_SUBSTITUTIONS.WorkflowStateTable), 'sw-1-3');
    expect(bot.strategy_hash).toBe(variant?.strategy_hash);
    expect(record(result.world, 'deploy-live-1')).toMatchObject({ tested_by: 'sweep sw-1 variant 3' });
  });
});

describe('open trades survive', () => {
  it('OpenTradesKept: the same trade ids before and after the deploy', async () => {
    // Act
    const result = await deploy('OpenTradesKept');

    // Assess
    const before = output(result, 'SnapshotOpenTrades').open_trades_before as { trade_ids: number[] };
    const after = output(result, 'CheckOpenTrades').open_trades_after as { trade_ids: number[] };
    expect(before.trade_ids).toEqual([101, 102, 103]);
    expect(after.trade_ids).toEqual(before.trade_ids);
    expect(record(result.world, 'deploy-20260105-strategytestv3-dry-run')).toMatchObject({
      open_trades_kept: 3,
    });
  });

  it('OpenTradesLost: rolled back to the revision whose database holds them', async () => {
    // Act
    const result = await deploy('OpenTradesLost');

    // Assess
    const service = result.world.services.get(DRY_RUN_SERVICE);
    expect(service?.taskDefinition).toMatch(/StrategyTestV3:1$/);
    expect(result.error?.Cause).toContain('#101, #102');
  });

  it('OpenTradesRefused: the bot is never stopped', async () => {
    // Act
    const result = await deploy('OpenTradesRefused');

    // Assess
    expect(updates(result, DRY_RUN_SERVICE)).toEqual([]);
    expect(result.world.services.get(DRY_RUN_SERVICE)?.runningTasks).toEqual([1]);
  });
});

describe('every side effect once, whatever the retries', () => {
  it('RedriveFindsLeaseTakenOver: the redriven deploy stops without touching the service, and the other lease stays', async () => {
    // Act
    const result = await deploy('RedriveFindsLeaseTakenOver');

    // Assess
    expect(result.end.redriveCount).toBe(1);
    expect(updates(result, DRY_RUN_SERVICE)).toEqual([]);
    expect(
      unmarshall(result.world.item(LEASES, { service_name: { S: DRY_RUN_SERVICE } }) ?? {}),
    ).toMatchObject({
      execution_arn: 'arn:aws:states:us-east-1:123456789012:execution:tradai-local-deploy:deploy-other',
    });
  });

  it('UpdateServiceReplyLost: the retried update restarts the bot once', async () => {
    // Act
    const result = await deploy('UpdateServiceReplyLost');

    // Assess
    expect(result.events.filter((e) => e.state === 'UpdateService' && e.event === 'retried')).toHaveLength(1);
    expect(updates(result, DRY_RUN_SERVICE)).toHaveLength(1);
    // One stop, one start: 1 task, then 0 while the new one starts, then 1.
    expect(result.world.services.get(DRY_RUN_SERVICE)?.runningTasks).toEqual([1, 0, 1]);
  });
});

describe('one bot per exchange account', () => {
  it('SecondServiceOnOneAccount: refused naming the service that trades it; the binding is unchanged', async () => {
    // Act
    const result = await deploy('SecondServiceOnOneAccount');

    // Assess
    expect(result.error?.Cause).toContain('tradai-local-live-otherstrategy');
    expect(result.world.changes.filter((c) => c.kind.startsWith('ecs:'))).toEqual([]);
  });
});

describe('healthy means freqtrade answers', () => {
  it('BotNeverAnswers: ECS runs the task, freqtrade never answers, the service goes back to the bot that did', async () => {
    // Act
    const result = await deploy('BotNeverAnswers');

    // Assess: our revision (2) went on, and the previous one (1) came back
    expect(
      updates(result, DRY_RUN_SERVICE).map((u) => (u as { taskDefinition: string }).taskDefinition),
    ).toEqual([expect.stringMatching(/StrategyTestV3:2$/), expect.stringMatching(/StrategyTestV3:1$/)]);
    expect(result.world.services.get(DRY_RUN_SERVICE)?.taskDefinition).toMatch(/StrategyTestV3:1$/);
  });
});
