import { readFileSync } from 'node:fs';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { awsError, fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import { strToU8, zipSync } from 'fflate';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { backtestMetrics, handler } from '../../src';
import { serveBucket as serveRuns } from '../bucket';

const s3Mock = mockClient(S3Client);
const FIXTURE = readFileSync(new URL('../../../../fixtures/freqtrade/backtest-result.json', import.meta.url));
const RESULTS = 'runs/run-42/results/';

const event = {
  run_id: 'run-42',
  strategy_name: 'StrategyTestV3',
  task: { started_at: 1_736_067_600_000, stopped_at: 1_736_070_120_000 },
};
const invoke = (input: unknown) => handler(input, fakeContext('tradai-dev-transform-results'));

/** A results folder in the runs bucket: key -> body (modified in insertion order). */
const serveBucket = (objects: Record<string, Uint8Array | string>) => serveRuns(s3Mock, objects);

const withStrategies = (strategies: Record<string, object>) => {
  const result = JSON.parse(FIXTURE.toString());
  return JSON.stringify({ ...result, strategy: strategies });
};
const fixtureStats = () => JSON.parse(FIXTURE.toString()).strategy.StrategyTestV3;

describe('transform-results', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    s3Mock.reset();
    vi.stubEnv('RUNS_BUCKET', 'tradai-dev-backtest-runs');
  });

  it("summarises freqtrade's real result file, computing the ratios it lacks as freqtrade defines them", async () => {
    // Prepare
    serveBucket({ [`${RESULTS}backtest-result-2026-01-05.json`]: FIXTURE });

    // Act
    const summary = await invoke(event);

    // Assess
    expect(summary).toMatchObject({
      strategy: 'StrategyTestV3',
      timeframe: '5m',
      start: '2018-01-10T07:15:00.000Z',
      end: '2018-01-30T04:45:00.000Z',
      total_trades: 179,
      total_return: 10.41903,
      max_drawdown: 1.874031,
      profit_factor: 2.422329,
      win_rate: Math.round((48 / 179) * 100 * 1e6) / 1e6,
      // freqtrade's backtest_days (19), not the 21 calendar days its daily_profit spans
      backtest_days: 19,
      winning_days: 19,
      draw_days: 0,
      losing_days: 2,
      ratio_source: {
        sharpe: 'trades',
        sortino: 'trades',
        calmar: 'trades',
        sqn: 'trades',
        cagr: 'freqtrade',
      },
      ratio_notes: {},
      results_uri: `s3://tradai-dev-backtest-runs/${RESULTS}backtest-result-2026-01-05.json`,
      duration_seconds: 2520,
    });
    // freqtrade's calculate_sharpe / calculate_sortino / calculate_calmar over the file's 179 trades
    // (19 days, population deviations, max_drawdown_account 0.01874), worked out independently.
    expect(summary.sharpe_ratio).toBeCloseTo(44.507867, 5);
    expect(summary.sortino_ratio).toBeCloseTo(35.177224, 5);
    expect(summary.calmar_ratio).toBeCloseTo(559.040508, 5);
  });

  it.each([
    ['sharpe', -100, 'no deviation'],
    ['sortino', -100, 'no losing trades'],
    ['calmar', -100, 'no drawdown'],
  ])("reports freqtrade's %s sentinel %i as null, with the reason", async (ratio, sentinel, reason) => {
    // Prepare
    const stats = { ...fixtureStats(), sharpe: 1.5, sortino: 2.5, calmar: 3.5, [ratio]: sentinel };
    serveBucket({ [`${RESULTS}backtest-result.json`]: withStrategies({ StrategyTestV3: stats }) });

    // Act
    const summary = await invoke(event);

    // Assess
    expect(summary[`${ratio}_ratio` as 'sharpe_ratio']).toBeNull();
    expect(summary.ratio_notes[ratio as 'sharpe']).toContain(reason);
    expect(summary.ratio_source[ratio as 'sharpe']).toBe('freqtrade');
  });

  it('reports the zero ratios of a run without trades as null, not as a measured 0', async () => {
    // Prepare
    const stats = {
      ...fixtureStats(),
      total_trades: 0,
      wins: 0,
      trades: [],
      sharpe: 0,
      sortino: 0,
      calmar: 0,
    };
    serveBucket({ [`${RESULTS}backtest-result.json`]: withStrategies({ StrategyTestV3: stats }) });

    // Act
    const summary = await invoke(event);

    // Assess
    expect([summary.sharpe_ratio, summary.sortino_ratio, summary.calmar_ratio]).toEqual([null, null, null]);
    expect(summary.ratio_notes).toMatchObject({
      sharpe: 'no trades',
      sortino: 'no trades',
      calmar: 'no trades',
    });
  });

  it('returns a summary of a few hundred bytes from a 132 KB file', async () => {
    // Prepare
    serveBucket({ [`${RESULTS}backtest-result.json`]: FIXTURE });

    // Act
    const summary = await invoke(event);

    // Assess
    expect(FIXTURE.length).toBeGreaterThan(100_000);
    expect(JSON.stringify(summary).length).toBeLessThan(1_024);
  });

  it("prefers freqtrade's own sharpe, sortino and calmar when the file has them", async () => {
    // Prepare
    const stats = { ...fixtureStats(), sharpe: 1.25, sortino: 2.5, calmar: 3.75 };
    serveBucket({ [`${RESULTS}backtest-result.json`]: withStrategies({ StrategyTestV3: stats }) });

    // Act
    const summary = await invoke(event);

    // Assess
    expect(summary).toMatchObject({
      sharpe_ratio: 1.25,
      sortino_ratio: 2.5,
      calmar_ratio: 3.75,
      ratio_source: { sharpe: 'freqtrade', sortino: 'freqtrade', calmar: 'freqtrade' },
    });
  });

  it('reports ratios absent, never invented, when the file has neither them nor its trades', async () => {
    // Prepare
    const { trades: _dropped, ...stats } = fixtureStats();
    serveBucket({ [`${RESULTS}backtest-result.json`]: withStrategies({ StrategyTestV3: stats }) });

    // Act
    const summary = await invoke(event);

    // Assess
    expect(summary).toMatchObject({
      sharpe_ratio: null,
      sortino_ratio: null,
      calmar_ratio: null,
      ratio_source: { sharpe: 'absent', sortino: 'absent', calmar: 'absent' },
    });
  });

  it.each([
    ['null', 'null', 'must be an object naming latest_backtest'],
    ['truncated', '{"latest_backtest": "backtest-res', 'is not valid JSON'],
    ['another shape', '["backtest-result.json"]', 'must be an object naming latest_backtest'],
  ])('names a %s .last_result.json a BacktestResultError', async (_, pointer, message) => {
    // Prepare
    serveBucket({ [`${RESULTS}backtest-result.json`]: FIXTURE, [`${RESULTS}.last_result.json`]: pointer });

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({
      name: 'BacktestResultError',
      message: expect.stringContaining(message),
    });
  });

  it("summarises the run's strategy even when another strategy's entry in the file is malformed", async () => {
    // Prepare
    const file = withStrategies({ Broken: { total_trades: 'many' }, StrategyTestV3: fixtureStats() });
    serveBucket({ [`${RESULTS}backtest-result.json`]: file });

    // Act
    const summary = await invoke(event);

    // Assess
    expect(summary).toMatchObject({ strategy: 'StrategyTestV3', total_trades: 179 });
  });

  it("names the field when the run's own strategy entry is malformed", async () => {
    // Prepare
    const file = withStrategies({ StrategyTestV3: { ...fixtureStats(), total_trades: 'many' } });
    serveBucket({ [`${RESULTS}backtest-result.json`]: file });

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({
      name: 'BacktestResultError',
      message: expect.stringContaining('strategy.StrategyTestV3.total_trades'),
    });
  });

  it('reads the result inside a zip, as newer freqtrade versions write it', async () => {
    // Prepare
    const zip = zipSync({
      'backtest-result-2026-01-05.json': new Uint8Array(FIXTURE),
      'backtest-result-2026-01-05_config.json': strToU8('{"strategy":"StrategyTestV3"}'),
      'backtest-result-2026-01-05_StrategyTestV3.py': strToU8('class StrategyTestV3: ...'),
    });
    serveBucket({ [`${RESULTS}backtest-result-2026-01-05.zip`]: zip });

    // Act
    const summary = await invoke(event);

    // Assess
    expect(summary).toMatchObject({ total_trades: 179, total_return: 10.41903 });
  });

  it('picks the run strategy out of a multi-strategy file', async () => {
    // Prepare
    const other = { ...fixtureStats(), total_trades: 3, profit_total: -0.5 };
    serveBucket({
      [`${RESULTS}backtest-result.json`]: withStrategies({
        OtherStrategy: other,
        StrategyTestV3: fixtureStats(),
      }),
    });

    // Act
    const summary = await invoke(event);

    // Assess
    expect(summary).toMatchObject({ strategy: 'StrategyTestV3', total_trades: 179 });
  });

  it('reads the file .last_result.json names, not merely the newest one', async () => {
    // Prepare
    serveBucket({
      [`${RESULTS}backtest-result-old.json`]: FIXTURE,
      [`${RESULTS}backtest-result-newer-but-partial.json`]: '{"strategy":{}}',
      [`${RESULTS}.last_result.json`]: '{"latest_backtest":"backtest-result-old.json"}',
    });

    // Act
    const summary = await invoke(event);

    // Assess
    expect(summary.results_uri).toBe(`s3://tradai-dev-backtest-runs/${RESULTS}backtest-result-old.json`);
  });

  it('raises BacktestResultError naming the strategies found when the run strategy is not in the file', async () => {
    // Prepare
    serveBucket({ [`${RESULTS}backtest-result.json`]: withStrategies({ OtherStrategy: fixtureStats() }) });

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({
      name: 'BacktestResultError',
      message: expect.stringContaining(
        'no result for StrategyTestV3 (strategies in the file: OtherStrategy)',
      ),
    });
  });

  it('raises BacktestResultError when the container wrote no result', async () => {
    // Prepare
    serveBucket({ 'runs/run-42/tmp/freqtrade.log': 'done', [`${RESULTS}backtest-result.meta.json`]: '{}' });

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({
      name: 'BacktestResultError',
      message: expect.stringContaining(`No freqtrade result file under ${RESULTS}`),
    });
  });

  it('raises BacktestResultError for a file that is not a freqtrade result', async () => {
    // Prepare
    serveBucket({
      [`${RESULTS}backtest-result.json`]: '{"strategy":{"StrategyTestV3":{"total_trades":"many"}}}',
    });

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({ name: 'BacktestResultError' });
  });

  it('emits BacktestDuration in TradAI/Backtest with the Strategy dimension, from the ECS task times', async () => {
    // Prepare
    serveBucket({ [`${RESULTS}backtest-result.json`]: FIXTURE });
    const addDimension = vi.spyOn(backtestMetrics, 'addDimension');
    const addMetric = vi.spyOn(backtestMetrics, 'addMetric');
    const publish = vi.spyOn(backtestMetrics, 'publishStoredMetrics');

    // Act
    await invoke({
      ...event,
      task: { started_at: '2026-01-05T09:00:00Z', stopped_at: '2026-01-05T09:42:30Z' },
    });

    // Assess
    expect(addDimension).toHaveBeenCalledWith('Strategy', 'StrategyTestV3');
    expect(addMetric).toHaveBeenCalledWith('BacktestDuration', MetricUnit.Seconds, 2550);
    expect(publish).toHaveBeenCalledOnce();
  });

  it('records BacktestDuration even when the container left no usable result', async () => {
    // Prepare
    serveBucket({});
    const addMetric = vi.spyOn(backtestMetrics, 'addMetric');

    // Act
    await expect(invoke(event)).rejects.toMatchObject({ name: 'BacktestResultError' });

    // Assess
    expect(addMetric).toHaveBeenCalledWith('BacktestDuration', MetricUnit.Seconds, 2520);
  });

  it('refuses a run id that could leave the run prefix, before any S3 call', async () => {
    // Act & Assess
    await expect(invoke({ ...event, run_id: '../x' })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('run_id:'),
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('refuses a task that stopped before it started', async () => {
    // Act & Assess
    await expect(invoke({ ...event, task: { started_at: 2_000, stopped_at: 1_000 } })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('task.stopped_at: must not be before started_at'),
    });
  });

  it('maps S3 throttling to the retryable TransientAwsError', async () => {
    // Prepare
    s3Mock.on(ListObjectsV2Command).rejects(awsError('SlowDown', 503));

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({ name: 'TransientAwsError' });
  });
});
