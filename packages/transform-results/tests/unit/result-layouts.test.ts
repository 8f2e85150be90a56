import { readFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { strategyParameterFile } from '@tradai/lambda-kit';
import { fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';
import { serveBucket } from '../bucket';

/**
 * The result files of real freqtrade releases: the 2024.x JSON (freqtrade's own test data) and the
 * 2025.1+ zip (fixtures/freqtrade/backtest-result-2025-10-29_09-42-00.zip, built by
 * scripts/freqtrade-2025-zip.mjs from freqtrade's bt_storage.py), with the parameters it stored.
 */
const s3Mock = mockClient(S3Client);
const fixture = (name: string) =>
  readFileSync(new URL(`../../../../fixtures/freqtrade/${name}`, import.meta.url));
const ZIP_2025 = 'backtest-result-2025-10-29_09-42-00.zip';
const RESULTS = 'runs/run-42/results/';
const PARAMETERS = 'runs/run-42/parameters.json';
const PARAMS_PATH = `s3://tradai-dev-backtest-runs/${PARAMETERS}`;
const event = {
  run_id: 'run-42',
  strategy_name: 'StrategyTestV3',
  task: { started_at: 1_736_067_600_000, stopped_at: 1_736_070_120_000 },
};
const invoke = (input: unknown) =>
  handler(input, fakeContext('tradai-dev-transform-results')).catch((error: unknown) => error as Error);
/** What prepare-config wrote for a run that asked for these parameters. */
const asked = (params: object) => JSON.stringify(strategyParameterFile('StrategyTestV3', params, 'now'));

describe('transform-results: the result files freqtrade writes', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    s3Mock.reset();
    vi.stubEnv('RUNS_BUCKET', 'tradai-dev-backtest-runs');
  });

  it("reads freqtrade 2025's zip: the result is <stem>.json among its config, parameter file and source", async () => {
    // Arrange
    serveBucket(s3Mock, {
      [`${RESULTS}${ZIP_2025}`]: fixture(ZIP_2025),
      [`${RESULTS}.last_result.json`]: JSON.stringify({ latest_backtest: ZIP_2025 }),
    });

    // Act
    const summary = await invoke(event);

    // Assess
    expect(Object.keys(unzipSync(fixture(ZIP_2025))).filter((name) => name.endsWith('.json'))).toHaveLength(
      3,
    );
    expect(summary).toMatchObject({ total_trades: 179, total_return: 10.41903, parameters_verified: null });
  });

  it('verifies the parameters freqtrade stored against the ones the run asked for', async () => {
    // Arrange
    serveBucket(s3Mock, {
      [PARAMETERS]: asked({ buy: { buy_rsi: 35 }, max_open_trades: { max_open_trades: 3 } }),
      [`${RESULTS}${ZIP_2025}`]: fixture(ZIP_2025),
    });

    // Act
    const summary = await invoke({ ...event, params_path: PARAMS_PATH });

    // Assess
    expect(summary).toMatchObject({ total_trades: 179, parameters_verified: true });
  });

  it("fails a setting that ran otherwise, as freqtrade's own result records it (its config won)", async () => {
    // Arrange: freqtrade's result says the strategy ran with stoploss 0.1 (its test config's)
    serveBucket(s3Mock, {
      [PARAMETERS]: asked({ stoploss: { stoploss: -0.1 } }),
      [`${RESULTS}${ZIP_2025}`]: fixture(ZIP_2025),
    });

    // Act
    const failure = await invoke({ ...event, params_path: PARAMS_PATH });

    // Assess
    expect(failure).toMatchObject({
      name: 'BacktestResultError',
      message: expect.stringContaining('stoploss.stoploss: asked -0.1, ran 0.1'),
    });
  });

  it('fails a 2025 zip that stored no parameter file: freqtrade ran without ours', async () => {
    // Arrange: the fixture's members but the parameter file
    const members = unzipSync(fixture(ZIP_2025), {
      filter: (file) => !file.name.endsWith('_StrategyTestV3.json'),
    });
    serveBucket(s3Mock, {
      [PARAMETERS]: asked({ buy: { buy_rsi: 35 } }),
      [`${RESULTS}${ZIP_2025}`]: zipSync(members),
    });

    // Act
    const failure = await invoke({ ...event, params_path: PARAMS_PATH });

    // Assess
    expect(failure).toMatchObject({
      name: 'BacktestResultError',
      message: expect.stringContaining('freqtrade stored no parameter file'),
    });
  });

  it('refuses a result member that would inflate past the size limit, before inflating it', async () => {
    // Arrange: 100 MB and one byte of zeros, a zip of about 100 KB
    const bomb = zipSync(
      { 'backtest-result-bomb.json': new Uint8Array(100 * 1024 * 1024 + 1) },
      { level: 1 },
    );
    serveBucket(s3Mock, { [`${RESULTS}backtest-result-bomb.zip`]: bomb });

    // Act
    const failure = await invoke(event);

    // Assess
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(failure).toMatchObject({
      name: 'BacktestResultError',
      message: expect.stringContaining('inflates to 104857601 bytes, above the 104857600 limit'),
    });
  });

  it('fails a run that freqtrade ran with other parameters than asked, naming each difference', async () => {
    // Arrange
    serveBucket(s3Mock, {
      [PARAMETERS]: asked({ buy: { buy_rsi: 20 }, sell: { sell_rsi: 74 } }),
      [`${RESULTS}${ZIP_2025}`]: fixture(ZIP_2025),
    });

    // Act
    const failure = await invoke({ ...event, params_path: PARAMS_PATH });

    // Assess
    expect(failure).toMatchObject({
      name: 'BacktestResultError',
      message: expect.stringContaining('buy.buy_rsi: asked 20, ran 35'),
    });
    expect((failure as Error).message).not.toContain('sell_rsi');
  });

  it('fails a zip without the member freqtrade reads, naming it and what the zip holds', async () => {
    // Arrange: a renamed zip (freqtrade itself would not load it: bt_fileutils.load_file_from_zip)
    serveBucket(s3Mock, { [`${RESULTS}backtest-result-renamed.zip`]: fixture(ZIP_2025) });

    // Act
    const failure = await invoke(event);

    // Assess
    expect(failure).toMatchObject({
      name: 'BacktestResultError',
      message: expect.stringContaining('holds no backtest-result-renamed.json, the member freqtrade reads'),
    });
  });

  it('says it could not verify parameters against a 2024 result, which keeps no copy of them', async () => {
    // Arrange
    serveBucket(s3Mock, {
      [PARAMETERS]: asked({ buy: { buy_rsi: 35 } }),
      [`${RESULTS}backtest-result-2024.json`]: fixture('backtest-result.json'),
    });

    // Act
    const summary = await invoke({ ...event, params_path: PARAMS_PATH });

    // Assess
    expect(summary).toMatchObject({ total_trades: 179, parameters_verified: false });
  });

  it("refuses a params_path that is not the run's own parameter file, reading nothing", async () => {
    // Arrange
    serveBucket(s3Mock, { [`${RESULTS}${ZIP_2025}`]: zipSync({ x: strToU8('{}') }) });

    // Act
    const failure = await invoke({
      ...event,
      params_path: 's3://tradai-dev-backtest-runs/runs/other/parameters.json',
    });

    // Assess
    expect(failure).toMatchObject({ name: 'ValidationError', issues: [{ field: 'params_path' }] });
  });
});
