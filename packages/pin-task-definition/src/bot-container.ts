import type { ContainerDefinition, TaskDefinition } from '@aws-sdk/client-ecs';
import {
  BOT_API_PORT,
  BOT_DB_DIRECTORY,
  ConfigurationError,
  type ExchangeCredentials,
} from '@tradai/lambda-kit';

/** What a trading bot's container gets beyond the template's: its rendered files and its secrets. */
export interface BotContainer {
  config_uri: string;
  params_uri: string;
  exchange_credentials: ExchangeCredentials | null;
}

/**
 * freqtrade reads `FREQTRADE__<SECTION>__<KEY>` from its environment and merges it over the config
 * file (freqtrade@c9ae5e1e configuration/configuration.py: `deep_merge_dicts(env_data, config)`),
 * so a template that set one could turn a dry-run bot live, or give it keys.
 */
const FREQTRADE_ENV_PREFIX = 'FREQTRADE__';

/**
 * ECS secrets (valueFrom) for the exchange keys: a Secrets Manager JSON key (`<arn>:<json-key>::`,
 * ECS's "specifying sensitive data" format) or an SSM parameter name in the task's region.
 */
const exchangeSecrets = (credentials: ExchangeCredentials | null) => {
  if (!credentials) return [];
  const from = (field: 'key' | 'secret') =>
    'secret_arn' in credentials ? `${credentials.secret_arn}:${field}::` : `${credentials.ssm_path}/${field}`;
  return [
    { name: 'FREQTRADE__EXCHANGE__KEY', valueFrom: from('key') },
    { name: 'FREQTRADE__EXCHANGE__SECRET', valueFrom: from('secret') },
  ];
};

/** The REST API's login, from the stage's bot API secret (JSON: username, password, jwt_secret_key). */
const apiSecrets = (apiSecretArn: string) =>
  (['username', 'password', 'jwt_secret_key'] as const).map((field) => ({
    name: `FREQTRADE__API_SERVER__${field.toUpperCase()}`,
    valueFrom: `${apiSecretArn}:${field}::`,
  }));

/**
 * Healthy means freqtrade answers: `/api/v1/ping` (public) and `/api/v1/show_config` with
 * `state` "running" (freqtrade@c9ae5e1e rpc/api_server/api_v1.py, api_schemas.py ShowConfig;
 * rpc.py `"state": str(botstate)`, enums/state.py lower-cases it). curl is in freqtrade's image
 * (its Dockerfile installs it).
 */
export const BOT_HEALTH_CHECK = {
  command: [
    'CMD-SHELL',
    `curl -fsS http://localhost:${BOT_API_PORT}/api/v1/ping && curl -fsS -u "$FREQTRADE__API_SERVER__USERNAME:$FREQTRADE__API_SERVER__PASSWORD" http://localhost:${BOT_API_PORT}/api/v1/show_config | grep -q '"state":"running"'`,
  ],
  interval: 30,
  timeout: 5,
  retries: 3,
  startPeriod: 120,
};

/**
 * The template must keep the bot's database on a durable volume: an EFS volume mounted at
 * BOT_DB_DIRECTORY, which the rendered `db_url` points into (docs/decisions/0046).
 */
export const durableDbIssue = (
  template: TaskDefinition,
  container: ContainerDefinition,
): string | undefined => {
  const mount = container.mountPoints?.find((m) => m.containerPath === BOT_DB_DIRECTORY);
  if (!mount) return `mounts no volume at ${BOT_DB_DIRECTORY}: the bot's open trades would die with its task`;
  const volume = template.volumes?.find((v) => v.name === mount.sourceVolume);
  if (!volume?.efsVolumeConfiguration?.fileSystemId)
    return `mounts ${mount.sourceVolume} at ${BOT_DB_DIRECTORY}, which is not an EFS volume: the bot's open trades would die with its task`;
  if (mount.readOnly) return `mounts ${BOT_DB_DIRECTORY} read-only`;
  return undefined;
};

/** The template's strategy container, made the bot's: its files, its secrets and its health check. */
export const botContainer = (
  template: TaskDefinition,
  container: ContainerDefinition,
  bot: BotContainer,
  apiSecretArn: string,
): ContainerDefinition => {
  const overriding = [
    ...(container.environment ?? []).map((e) => e.name),
    ...(container.secrets ?? []).map((s) => s.name),
  ].filter((name) => name?.startsWith(FREQTRADE_ENV_PREFIX));
  if (overriding.length > 0)
    throw new ConfigurationError(
      `Trading template ${template.family} sets ${overriding.join(', ')}: freqtrade would take it over the rendered config`,
    );
  const dbIssue = durableDbIssue(template, container);
  if (dbIssue) throw new ConfigurationError(`Trading template ${template.family} ${dbIssue}`);
  return {
    ...container,
    environment: [
      ...(container.environment ?? []),
      { name: 'TRADAI_BOT_CONFIG_URI', value: bot.config_uri },
      { name: 'TRADAI_BOT_PARAMS_URI', value: bot.params_uri },
    ],
    secrets: [
      ...(container.secrets ?? []),
      ...apiSecrets(apiSecretArn),
      ...exchangeSecrets(bot.exchange_credentials),
    ],
    healthCheck: BOT_HEALTH_CHECK,
  };
};
