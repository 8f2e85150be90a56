import { readFileSync } from 'node:fs';
import {
  DLQ_URL,
  LOCAL,
  LOCAL_BUCKETS,
  MACHINES,
  readCases,
  readMockConfig,
  runWorkflow,
  SEEDED,
} from '@tradai/local-aws';
import { backtestMetrics } from '@tradai/transform-results';
import { describe, expect, it, vi } from 'vitest';

const SAMPLE_BACKTEST = JSON.parse(
  readFileSync(new URL('../../../events/backtest.json', import.meta.url), 'utf8'),
);

describe.each(MACHINES)('%s scenarios', (machine) => {
  const all = Object.entries(readCases(machine).cases);
  // A heavy case (Sweep1000) runs in `npm run bench`, which fails unless it ends as the case says.
  const cases = all.filter(([, definition]) => !definition.heavy);

  it('has a MockConfigFile test case for every scenario, and no other', () => {
    // Prepare
    const testCases = readMockConfig(machine).StateMachines[machine]?.TestCases ?? {};

    // Assess
    expect(Object.keys(testCases).sort()).toEqual(all.map(([name]) => name).sort());
  });

  it.each(cases)('%s ends as expected', async (caseName, { expect: expected }) => {
    // Act
    const run = await runWorkflow({ machine, caseName });

    // Assess
    expect({ status: run.status, error: run.error?.Error }).toEqual({
      status: expected.status,
      error: expected.error,
    });
    expect(run.states).toEqual(expected.states);
    if (expected.record === null) expect(run.record).toBeUndefined();
    else expect(run.record).toMatchObject(expected.record);
    expect(run.world.published.map((message) => message.attributes.status)).toEqual(expected.notifications);
    expect(run.world.queued.filter((message) => message.queueUrl === DLQ_URL)).toHaveLength(expected.dlq);
    if (run.status === 'SUCCEEDED') {
      const expected = {
        backtest: { run_id: run.runId, status: 'COMPLETED' },
        'backtest-simplified': { run_id: run.runId, status: 'COMPLETED' },
        'data-sync': { sync_id: expect.any(String), status: 'COMPLETED' },
        deploy: { deployment_id: expect.any(String), status: 'DEPLOYED' },
        'backtest-sweep': { sweep_id: run.runId, status: 'COMPLETED' },
      }[machine];
      expect(run.output).toMatchObject(expected);
    } else if (run.status !== 'ABORTED') {
      expect(run.error?.Cause.length).toBeGreaterThan(0);
    }
    // Whatever the machine wrote as JSON text, AWS's intrinsics keep it JSON: it parses.
    if (typeof run.record?.error_info === 'string')
      expect(() => JSON.parse(String(run.record?.error_info))).not.toThrow();
  });
});

describe('what a run leaves behind', () => {
  it('runs exactly the image digest ValidateStrategy resolved, and records the summary of the file the container wrote', async () => {
    // Act
    const run = await runWorkflow({ machine: 'backtest', caseName: 'HappyPath' });

    // Assess
    const launched = run.world.changes.find((change) => change.kind === 'ecs:run');
    const definition =
      launched?.kind === 'ecs:run' ? run.world.findTaskDefinition(launched.taskDefinition) : undefined;
    const image = definition?.definition.containerDefinitions.find((c) => c.name === 'strategy')?.image;
    expect(image).toBe(
      `${LOCAL.accountId}.dkr.ecr.${LOCAL.region}.amazonaws.com/tradai/strategies/strategytestv3@${SEEDED.digest}`,
    );
    const result = JSON.parse(String(run.record?.result));
    expect(result).toMatchObject({ strategy: 'StrategyTestV3', total_trades: 179, total_return: 10.41903 });
    expect(run.output).toMatchObject({ result });
  });

  it("deletes the run's scratch files and keeps its config and results", async () => {
    // Act
    const run = await runWorkflow({ machine: 'backtest', caseName: 'HappyPath' });

    // Assess
    const keys = run.world.keys(LOCAL_BUCKETS.runs, `runs/${run.runId}/`);
    expect(keys.some((key) => key.includes('/tmp/'))).toBe(false);
    expect(keys).toEqual(
      expect.arrayContaining([
        `runs/${run.runId}/config.json`,
        `runs/${run.runId}/results/.last_result.json`,
      ]),
    );
    expect(run.world.changes.filter((change) => change.kind === 's3:delete')).toHaveLength(2);
  });

  it('starts the nested data sync once, named after the run, for the stale symbols', async () => {
    // Act
    const run = await runWorkflow({ machine: 'backtest', caseName: 'StaleDataAutoSyncOn' });

    // Assess
    expect(run.output).toMatchObject({ status: 'COMPLETED' });
    const started = run.world.changes.filter((change) => change.kind === 'states:start');
    expect(started).toEqual([
      {
        kind: 'states:start',
        stateMachineArn: expect.stringMatching(/:stateMachine:tradai-local-data-sync$/),
        name: `${run.runId}-data-sync`,
        input: expect.objectContaining({ symbols: SEEDED.symbols, timeframe: '5m', end_date: '2018-03-01' }),
      },
    ]);
    const manifests = run.world.changes.filter(
      (change) => change.kind === 's3:put' && change.uri.endsWith('manifest.json'),
    );
    expect(manifests).toHaveLength(4);
  });

  it('notifies a sync with its id and, when a backtest asked for it, the backtest run id', async () => {
    // Act
    const direct = await runWorkflow({ machine: 'data-sync', caseName: 'HappyPath' });
    const nested = await runWorkflow({ machine: 'data-sync', caseName: 'RequestedByBacktest' });

    // Assess
    expect(direct.world.published[0]?.attributes).toEqual({
      status: 'COMPLETED',
      workflow: 'data-sync',
      strategy: 'unknown',
      sync_id: 'sync-20260105-btc-eth-1h',
    });
    expect(nested.world.published[0]?.attributes).toMatchObject({
      run_id: 'bt-42',
      sync_id: 'RequestedByBacktest',
    });
    expect(nested.world.published[0]?.message).toContain('Requested by:  backtest run bt-42');
  });

  it('reports every quality issue of a failed sync in the error', async () => {
    // Act
    const run = await runWorkflow({ machine: 'data-sync', caseName: 'GapsAboveThreshold' });

    // Assess
    // (aws-local-stepfunctions does not escape a string nested by States.JsonToString twice; AWS does.)
    const cause = run.error?.Cause ?? '';
    expect(run.error?.Error).toBe('DataQualityError');
    expect(cause).toMatch(
      /"symbol":"BTC\/USDT:USDT","passed":false,"issues":\["73 missing candles in 1 gaps \(2\.001 %, above 0\.500 %\)"\]/,
    );
    expect(cause).toMatch(/"symbol":"ETH\/USDT:USDT","passed":false/);
  });

  it('publishes an unknown error to the DLQ with the run, the error and the execution', async () => {
    // Act
    const run = await runWorkflow({ machine: 'backtest', caseName: 'UnknownErrorToDLQ' });

    // Assess
    expect(run.world.queued[0]?.body).toMatchObject({
      workflow: 'backtest',
      run_id: run.runId,
      strategy_name: 'StrategyTestV3',
      error: { Error: 'TypeError' },
      execution_arn: expect.stringContaining(`:execution:tradai-local-backtest:${run.runId}`),
    });
  });
});

describe('hostile requests end at the first state', () => {
  const deep = (levels: number) => JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`);

  it.each([
    ['exchange', { exchange: { name: 'kraken' } }, 'config_overrides.exchange: is not a setting'],
    ['datadir', { datadir: '/data/elsewhere' }, 'config_overrides.datadir: is not a setting'],
    ['add_config_files', { add_config_files: ['/etc/passwd'] }, 'config_overrides.add_config_files: is not'],
    ['export', { export: 'none' }, 'config_overrides.export: is not a setting'],
    [
      'api_server',
      { api_server: { enabled: true, listen_ip_address: '0.0.0.0' } },
      'config_overrides.api_server',
    ],
    ['5,000 levels', { stoploss: deep(5_000) }, 'config_overrides.stoploss: must nest at most 32 levels'],
  ])(
    'refuses overrides with %s: FAILED ValidationError naming the field, nothing written or run',
    async (_, overrides, message) => {
      // Prepare
      const input = { ...SAMPLE_BACKTEST, config_overrides: overrides };

      // Act
      const run = await runWorkflow({ machine: 'backtest', caseName: 'HappyPath', input });

      // Assess
      expect(run.status).toBe('FAILED');
      expect(run.error?.Error).toBe('ValidationError');
      expect(run.error?.Cause).toContain(message);
      expect(run.states.slice(0, 2)).toEqual(['ValidateRequest', 'RequestRejected']);
      expect(run.world.changes.filter((change) => change.kind !== 'sns:publish')).toEqual([]);
      expect(run.realMs).toBeLessThan(1_000);
    },
  );

  it.each([
    ['an end date in the future', { end_date: '2099-01-01' }, 'end_date: must not be in the future'],
    [
      'a range longer than a sync may fetch',
      { start_date: '2018-01-01', end_date: '2025-01-01' },
      'at most 1827 days',
    ],
  ])('refuses %s before any work, with one notification', async (_, change, message) => {
    const run = await runWorkflow({
      machine: 'backtest',
      caseName: 'HappyPath',
      input: { ...SAMPLE_BACKTEST, ...change, auto_sync: true },
    });
    expect(run.error?.Error).toBe('ValidationError');
    expect(run.error?.Cause).toContain(message);
    expect(run.world.published.map((message) => message.attributes.status)).toEqual(['FAILED']);
    expect(run.world.changes.filter((change) => change.kind === 'states:start')).toEqual([]);
  });
});

describe('BacktestDuration', () => {
  it.each(['backtest', 'backtest-simplified'] as const)(
    'is emitted by a %s run, from the task it ran',
    async (machine) => {
      // Prepare
      const added = vi.spyOn(backtestMetrics, 'addMetric');

      // Act
      await runWorkflow({ machine, caseName: 'HappyPath' });

      // Assess
      expect(added).toHaveBeenCalledWith('BacktestDuration', 'Seconds', 42 * 60);
    },
  );
});
