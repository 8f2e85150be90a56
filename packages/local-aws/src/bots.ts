/*
 * The trading bots of the local world: each service's tasks as ECS lists them, their health as
 * the container health check reports it, and freqtrade's REST API as the deploy calls it, answered
 * from the bot's database. The database belongs to the service (the durable volume), not to a
 * task, so a restarted bot sees the trades its predecessor opened, as on AWS.
 */
import { BOT_API_PORT } from '@tradai/lambda-kit';
import type { Service, World } from './world';

/** How the bots behave in one scenario (cases file, `world.bot`). */
export interface BotBehaviour {
  /** Trades each bot holds open before the run (freqtrade trade ids). */
  open_trades?: number[];
  /** false: a bot this run deployed never answers (its health check fails, its API times out). */
  new_bot_answers?: boolean;
  /** true: a bot this run deployed starts on an empty database (its predecessor's trades are unknown to it). */
  new_bot_database_lost?: boolean;
}

/** The stage's bot API login, as its Secrets Manager secret holds it (JSON). */
export const LOCAL_BOT_LOGIN = { username: 'tradai', password: 'local-bot-api', jwt_secret_key: 'local' };

interface OpenTradeRow {
  trade_id: number;
  pair: string;
  open_date: string;
}

/** Each service's database: the open trades on its durable volume. */
const databases = new WeakMap<World, Map<string, OpenTradeRow[]>>();
const databaseOf = (world: World, service: string, behaviour: BotBehaviour): OpenTradeRow[] => {
  const all = databases.get(world) ?? new Map<string, OpenTradeRow[]>();
  databases.set(world, all);
  let rows = all.get(service);
  if (!rows) {
    rows = (behaviour.open_trades ?? []).map((trade_id, i) => ({
      trade_id,
      pair: ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'][i % 3] as string,
      open_date: new Date(world.now - (i + 1) * 3_600_000).toISOString().replace('T', ' ').slice(0, 19),
    }));
    all.set(service, rows);
  }
  return rows;
};

export interface ServiceTask {
  arn: string;
  taskDefinition: string;
  ip: string;
  healthStatus: 'HEALTHY' | 'UNHEALTHY';
  /** The task runs a revision this run registered: the bot a deploy started. */
  deployed: boolean;
}

/** The revision the service's tasks run now: the PRIMARY's once rolled out, else the one still running. */
const runningRevision = (service: Service) => {
  const primary = service.deployments.find((d) => d.status === 'PRIMARY');
  if (primary?.rolloutState === 'COMPLETED') return primary.taskDefinition;
  return service.deployments.find((d) => d.runningCount > 0)?.taskDefinition ?? service.taskDefinition;
};

/** The service's RUNNING tasks, as ListTasks and DescribeTasks report them. */
export const serviceTasks = (world: World, service: Service, behaviour: BotBehaviour): ServiceTask[] => {
  const count = service.runningTasks.at(-1) ?? 0;
  const taskDefinition = runningRevision(service);
  const deployed = world.changes.some((c) => c.kind === 'ecs:register' && c.arn === taskDefinition);
  const index = [...world.services.keys()].indexOf(service.name);
  const { accountId, region } = world.settings;
  const revision = taskDefinition.split(':').at(-1);
  return Array.from({ length: count }, (_, n) => ({
    arn: `arn:aws:ecs:${region}:${accountId}:task/local/${service.name}-${revision}-${n}`,
    taskDefinition,
    ip: `10.0.${index}.${10 + n}`,
    healthStatus: deployed && behaviour.new_bot_answers === false ? 'UNHEALTHY' : 'HEALTHY',
    deployed,
  }));
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** Whether `url` is a bot's API in the local VPC (10.0.0.0/16, freqtrade's port). */
export const isBotApi = (url: URL) =>
  /^10\.0\.\d+\.\d+$/.test(url.hostname) && url.port === String(BOT_API_PORT);

/**
 * freqtrade's answer to one call (freqtrade@c9ae5e1e rpc/api_server/api_v1.py): `/ping`, `/status`
 * (the open trades), `/trade/{id}` (404 "Trade not found."). A bot that does not answer fails the
 * call as undici does (TypeError "fetch failed").
 */
export const answerBotApi = (
  world: World,
  behaviour: BotBehaviour,
  url: URL,
  authorization: string | null,
) => {
  for (const service of world.services.values()) {
    const task = serviceTasks(world, service, behaviour).find((t) => t.ip === url.hostname);
    if (!task) continue;
    if (task.deployed && behaviour.new_bot_answers === false) throw new TypeError('fetch failed');
    const path = url.pathname.replace(/^\/api\/v1\//, '');
    if (path === 'ping') return json(200, { status: 'pong' });
    const { username, password } = LOCAL_BOT_LOGIN;
    if (authorization !== `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`)
      return json(401, { detail: 'Unauthorized' });
    const rows =
      task.deployed && behaviour.new_bot_database_lost ? [] : databaseOf(world, service.name, behaviour);
    if (path === 'status')
      return json(
        200,
        rows.map((row) => ({ ...row, is_open: true, exchange: 'binance', strategy: 'StrategyTestV3' })),
      );
    const trade = /^trade\/(\d+)$/.exec(path);
    if (trade) {
      const row = rows.find((r) => r.trade_id === Number(trade[1]));
      return row ? json(200, { ...row, is_open: true }) : json(404, { detail: 'Trade not found.' });
    }
    return json(404, { detail: 'Not Found' });
  }
  throw new TypeError('fetch failed');
};
