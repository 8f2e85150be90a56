/*
 * Backtests a deploy case rests on, seeded as the backtest machine leaves them (RecordCompleted):
 * the run's merged config and parameter file in the runs bucket, and its record with the image
 * digest and strategy hash it tested. The hash is lambda-kit's, computed over the files written
 * here, so a case tests the gate against what a real backtest would have recorded.
 */
import { strategyHash, strategyParameterFile } from '@tradai/lambda-kit';
import { LOCAL_BUCKETS } from './handlers';
import { loadSeed } from './seed';
import type { World } from './world';

/** A COMPLETED backtest of the seeded strategy (cases file, `world.tested_runs`). */
export interface TestedRunSeed {
  strategy_version?: string;
  status?: string;
  total_trades?: number;
  /** % of the account (the record's result `max_drawdown`). */
  max_drawdown?: number;
  /** freqtrade parameter spaces the run set, e.g. {"buy": {"rsi": 30}}. */
  parameters?: Record<string, Record<string, number>>;
}

export const seedTestedRun = (world: World, table: string, runId: string, seed: TestedRunSeed) => {
  const strategy = loadSeed().strategies[0] as ReturnType<typeof loadSeed>['strategies'][number];
  const config = {
    ...strategy.config,
    strategy: strategy.name,
    timeframe: '5m',
    timerange: '20240101-20240106',
    exchange: { ...(strategy.config.exchange as object), pair_whitelist: ['BTC/USDT'] },
  };
  const bucket = LOCAL_BUCKETS.runs;
  world.putObject(bucket, `runs/${runId}/config.json`, JSON.stringify(config, null, 2), false);
  const params = seed.parameters ?? {};
  const hasParams = Object.keys(params).length > 0;
  if (hasParams)
    world.putObject(
      bucket,
      `runs/${runId}/parameters.json`,
      JSON.stringify(strategyParameterFile(strategy.name, params, '2024-01-06T00:00:00Z')),
      false,
    );
  const { accountId, region } = world.settings;
  const repository = `tradai/strategies/${strategy.name.toLowerCase()}`;
  world.putRecord(table, runId, {
    status: seed.status ?? 'COMPLETED',
    workflow: 'backtest',
    strategy_name: strategy.name,
    strategy_version: seed.strategy_version ?? strategy.version,
    image_uri: `${accountId}.dkr.ecr.${region}.amazonaws.com/${repository}@${strategy.image_digest}`,
    strategy_hash: strategyHash(config, params),
    config_path: `s3://${bucket}/runs/${runId}/config.json`,
    params_path: hasParams ? `s3://${bucket}/runs/${runId}/parameters.json` : '',
    result: JSON.stringify({
      total_trades: seed.total_trades ?? 120,
      max_drawdown: seed.max_drawdown ?? 8.4,
    }),
    results_uri: `s3://${bucket}/runs/${runId}/results/`,
  });
};
