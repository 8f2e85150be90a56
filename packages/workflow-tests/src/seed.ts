import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type DatasetManifest,
  datasetManifestKey,
  s3Prefix,
  TIMEFRAME_SECONDS,
  type Timeframe,
} from '@tradai/lambda-kit';
import { datasetManifest } from '@tradai/lambda-kit/testing';
import { BACKTEST_TASK_TEMPLATE, LOCAL_BUCKETS } from './handlers';
import { LOCAL, REPO_ROOT } from './machines';
import { World } from './world';

export const FIXTURES_DIR = path.join(REPO_ROOT, 'fixtures');
export const FREQTRADE_RESULT_FIXTURE = path.join(FIXTURES_DIR, 'freqtrade/backtest-result.json');

export const readFixture = (file: string): Buffer => {
  try {
    return readFileSync(file);
  } catch {
    throw new Error(`Fixture ${path.relative(REPO_ROOT, file)} is missing (expected at ${file})`);
  }
};

/** What the default world holds: one strategy version, its image and config, and market data. */
export const SEEDED = {
  strategy: 'StrategyTestV3',
  version: '1.0.0',
  digest: `sha256:${'5e1f'.repeat(16)}`,
  exchange: 'binance',
  timeframe: '5m' as Timeframe,
  symbols: ['TRX/BTC', 'ADA/BTC', 'XLM/BTC', 'ETH/BTC'],
  coverage: { start: '2018-01-01T00:00:00Z', end: '2018-02-01T00:00:00Z' },
} as const;

export const manifestFor = (
  symbol: string,
  timeframe: Timeframe,
  coverage: { start: string; end: string },
): DatasetManifest => {
  const candles = Math.round(
    (Date.parse(coverage.end) - Date.parse(coverage.start)) / 1000 / TIMEFRAME_SECONDS[timeframe],
  );
  return datasetManifest({
    exchange: SEEDED.exchange,
    symbol,
    timeframe,
    coverage,
    candle_count: candles,
    expected_candle_count: candles,
    last_updated: coverage.end,
  });
};

export const writeManifests = (
  world: World,
  symbols: readonly string[],
  timeframe: Timeframe,
  coverage: { start: string; end: string },
  record = true,
) => {
  for (const symbol of symbols) {
    const key = datasetManifestKey(s3Prefix('datasets'), SEEDED.exchange, symbol, timeframe);
    world.putObject(
      LOCAL_BUCKETS.datasets,
      key,
      JSON.stringify(manifestFor(symbol, timeframe, coverage)),
      record,
    );
  }
};

/** A freqtrade config as a quant would store it for StrategyTestV3. */
const strategyConfig = {
  max_open_trades: 3,
  stake_currency: 'BTC',
  stake_amount: 0.001,
  dry_run: true,
  dry_run_wallet: 0.01,
  timeframe: '5m',
  exchange: { name: 'binance', pair_whitelist: [] },
  pairlists: [{ method: 'StaticPairList' }],
  entry_pricing: { price_side: 'same' },
  exit_pricing: { price_side: 'same' },
};

/** The world every scenario starts from (before its own `world` tweaks). */
export const seedWorld = (): World => {
  const world = new World({ ...LOCAL });
  world.putObject(
    LOCAL_BUCKETS.strategies,
    `strategies/${SEEDED.strategy}/${SEEDED.version}/config.json`,
    JSON.stringify(strategyConfig, null, 2),
    false,
  );
  world.putImage(`tradai/strategies/${SEEDED.strategy.toLowerCase()}`, SEEDED.version, SEEDED.digest);
  world.registerTaskDefinition(
    BACKTEST_TASK_TEMPLATE,
    {
      containerDefinitions: [
        {
          name: 'strategy',
          image: `${LOCAL.accountId}.dkr.ecr.${LOCAL.region}.amazonaws.com/tradai/strategies/placeholder:latest`,
        },
      ],
      taskRoleArn: `arn:aws:iam::${LOCAL.accountId}:role/tradai-${LOCAL.stage}-backtest-task`,
      executionRoleArn: `arn:aws:iam::${LOCAL.accountId}:role/tradai-${LOCAL.stage}-backtest-execution`,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '2048',
    },
    [],
    false,
  );
  writeManifests(world, SEEDED.symbols, SEEDED.timeframe, SEEDED.coverage, false);
  return world;
};
