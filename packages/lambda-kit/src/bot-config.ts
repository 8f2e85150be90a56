import { createHash } from 'node:crypto';
import type { DeployEnvironment } from './deploy';
import { isPlainObject } from './merge';
import { canonicalJson } from './validation';

/*
 * What a trading bot runs, and the hash that proves it is what was tested (docs/decisions/0046).
 *
 * A backtest's merged config (runs/<run_id>/config.json) holds the strategy's settings and a few
 * keys that only say where and when that run happened. The *strategy hash* is taken over the rest,
 * with the parameter file's `params`: a backtest records it (prepare-config), and a deploy
 * recomputes it from the same files before a bot may run them.
 */

/**
 * Keys that describe one run or one bot, not the strategy: left out of the hash, and set (or
 * removed) by the deploy. Names as freqtrade@c9ae5e1e reads them (constants.py CONF_SCHEMA).
 */
export const RUN_ONLY_KEYS = [
  'timerange',
  'backtest_directory',
  'backtest_breakdown',
  'backtest_cache',
  'export',
  'exportfilename',
  'datadir',
  'user_data_dir',
  'dry_run',
  'dry_run_wallet',
  'db_url',
  'api_server',
  'bot_name',
  'initial_state',
  'telegram',
  'webhook',
] as const;

/** Exchange keys: a bot gets them from its environment (ECS secrets), never from a file. */
export const EXCHANGE_KEY_FIELDS = [
  'key',
  'secret',
  'password',
  'uid',
  'walletAddress',
  'privateKey',
] as const;

/** The config without its run-only keys and without any exchange key. */
export const strategyPartOf = (config: Record<string, unknown>): Record<string, unknown> => {
  const part: Record<string, unknown> = { ...config };
  for (const key of RUN_ONLY_KEYS) delete part[key];
  if (isPlainObject(part.exchange)) {
    const exchange: Record<string, unknown> = { ...part.exchange };
    for (const key of EXCHANGE_KEY_FIELDS) delete exchange[key];
    part.exchange = exchange;
  }
  return part;
};

/**
 * `sha256:<hex>` of the strategy's part of `config` and the parameters it runs with (`{}` when
 * the run set none): key order does not matter, every value does.
 */
export const strategyHash = (config: Record<string, unknown>, params: Record<string, unknown> = {}): string =>
  `sha256:${createHash('sha256')
    .update(canonicalJson({ config: strategyPartOf(config), params }))
    .digest('hex')}`;

/** The exchange keys a config file holds (non-empty), as `exchange.<field>`: a bot's config must hold none. */
export const exchangeKeysIn = (config: Record<string, unknown>): string[] => {
  const exchange = isPlainObject(config.exchange) ? config.exchange : {};
  return EXCHANGE_KEY_FIELDS.filter((field) => {
    const value = exchange[field];
    return typeof value === 'string' ? value.length > 0 : value !== undefined && value !== null;
  }).map((field) => `exchange.${field}`);
};

/** Where a bot's database lives in its container: a durable volume (the trading task template's). */
export const BOT_DB_DIRECTORY = '/freqtrade/user_data/db';

/** freqtrade's REST API port in the bot's container (freqtrade's documented default, 8080). */
export const BOT_API_PORT = 8080;

export interface BotSettings {
  environment: DeployEnvironment;
  /** The ECS service: it names the database file, so every task of the service opens the same one. */
  service_name: string;
  dry_run_wallet: number;
}

/**
 * The config a trading bot runs: the tested strategy part, and this bot's own settings.
 * - `dry_run` says what the deploy says; a dry-run bot trades a simulated `dry_run_wallet`.
 * - `db_url`: a SQLite file on the durable volume, one per service, so open trades outlive
 *   tasks and deploys (freqtrade's default is a file in the working directory:
 *   constants.py DEFAULT_DB_PROD_URL "sqlite:///tradesv3.sqlite", lost with the task).
 * - The REST API listens for the health check and the deploy's open-trade checks; its username,
 *   password and JWT secret come from the environment (ECS secrets), as do the exchange keys.
 */
export const renderBotConfig = (
  tested: Record<string, unknown>,
  settings: BotSettings,
): Record<string, unknown> => {
  const live = settings.environment === 'live';
  return {
    ...strategyPartOf(tested),
    bot_name: settings.service_name,
    initial_state: 'running',
    dry_run: !live,
    ...(live ? {} : { dry_run_wallet: settings.dry_run_wallet }),
    db_url: `sqlite:///${BOT_DB_DIRECTORY}/${settings.service_name}.sqlite`,
    api_server: {
      enabled: true,
      listen_ip_address: '0.0.0.0',
      listen_port: BOT_API_PORT,
      verbosity: 'error',
      enable_openapi: false,
      CORS_origins: [],
    },
  };
};
