import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SPEC_TEST_INPUT } from '@tradai/lambda-kit/testing';
import { describe, expect, it } from 'vitest';
import { main } from '../src';

/** The CLI in-process with --json, its document parsed. */
const simulate = async (args: string[]) => {
  let out = '';
  let err = '';
  const stream = (append: (text: string) => void) =>
    ({ write: (text: string) => append(text), isTTY: false }) as unknown as NodeJS.WriteStream;
  const code = await main(
    [...args, '--json'],
    stream((t) => {
      out += t;
    }),
    stream((t) => {
      err += t;
    }),
  );
  return { code, err, report: out ? JSON.parse(out) : undefined };
};

const file = (name: string, content: unknown) => {
  const target = path.join(mkdtempSync(path.join(tmpdir(), 'tradai-sim-')), name);
  writeFileSync(target, typeof content === 'string' ? content : JSON.stringify(content));
  return target;
};

/** The spec's "Expected Flow (Happy Path)", in our machine's state names. */
const SPEC_FLOW = [
  'ParallelValidation',
  'ValidateStrategy',
  'CheckDataFreshness',
  'EvaluateChecks',
  'PrepareConfig',
  'RunBacktest',
  'TransformResults',
  'RecordCompleted',
  'CleanupResources',
  'NotifyCompletion',
];
const isSubsequence = (needle: readonly string[], haystack: readonly string[]) => {
  let at = 0;
  for (const item of haystack) if (item === needle[at]) at++;
  return at === needle.length;
};

describe('tradai-sim with a request of your own', () => {
  it("runs the spec's test input through the full machine: SUCCEEDED along the spec's expected flow, exit 0", async () => {
    // Act
    const { code, report } = await simulate(['backtest', '--input', file('spec.json', SPEC_TEST_INPUT)]);

    // Assess
    expect(code).toBe(0);
    expect(report).toMatchObject({ case: null, status: 'SUCCEEDED', expected: null, succeeded: true });
    expect(isSubsequence(SPEC_FLOW, report.states)).toBe(true);
    expect(report.output.result).toMatchObject({
      strategy: 'MomentumStrategy',
      timeframe: '1h',
      start: '2024-01-01T00:00:00.000Z',
      end: '2024-06-01T00:00:00.000Z',
    });
    expect(report.provisioned.map((p: { kind: string }) => p.kind)).toEqual([
      'image',
      'config',
      'market-data',
      'freqtrade-result',
    ]);
    expect(report.provisioned[3].detail).toContain('not a real backtest');
  });

  it.each([
    ['MeanReversionV2', '2.3.1', ['ETH/USDT:USDT', 'SOL/USDT:USDT'], '4h', 'backtest'],
    ['BreakoutScalper', '0.9.0', ['XRP/USDT'], '15m', 'backtest-simplified'],
    ['TrendRider', '3.0.0', ['BTC/USDT', 'ETH/USDT', 'ADA/USDT'], '1d', 'backtest'],
  ])(
    'runs %s %s on %j %s through %s: SUCCEEDED on its own simulated result',
    async (strategy, version, symbols, timeframe, workflow) => {
      // Prepare
      const request = {
        run_id: `${strategy.toLowerCase()}-${timeframe}`,
        strategy_name: strategy,
        strategy_version: version,
        experiment_name: 'sweep-by-hand',
        symbols,
        timeframe,
        start_date: '2023-03-01',
        end_date: '2024-03-01',
      };

      // Act
      const { code, report } = await simulate([workflow, '--input', file('request.json', request)]);

      // Assess
      expect(code).toBe(0);
      expect(report.status).toBe('SUCCEEDED');
      expect(report.output.result).toMatchObject({ strategy, timeframe, start: '2023-03-01T00:00:00.000Z' });
      expect(report.output.result.total_trades).toBeGreaterThan(0);
    },
  );

  it('fails a request freqtrade would refuse, spot and futures pairs in other currencies, naming each pair', async () => {
    // Prepare
    const request = {
      run_id: 'mixed-pairs',
      strategy_name: 'TrendRider',
      strategy_version: '3.0.0',
      experiment_name: 'sweep-by-hand',
      symbols: ['BTC/USDT', 'ETH/BTC', 'ADA/USDT:USDT'],
      timeframe: '1d',
      start_date: '2023-03-01',
      end_date: '2024-03-01',
    };

    // Act
    const { code, report } = await simulate(['backtest', '--input', file('mixed.json', request)]);

    // Assess: the world gave a spot config staking USDT, which ETH/BTC and ADA/USDT:USDT do not fit
    expect(code).toBe(1);
    expect(report.status).toBe('FAILED');
    expect(report.error.Error).toBe('ValidationError');
    expect(report.error.Cause).toContain('symbols[1]: ETH/BTC is quoted in BTC; the strategy stakes USDT');
    expect(report.error.Cause).toContain(
      "symbols[2]: ADA/USDT:USDT is a futures pair; the strategy's trading_mode is spot",
    );
  });

  it('gives one request one result, and another request another', async () => {
    // Prepare
    const input = file('spec.json', SPEC_TEST_INPUT);
    const other = file('other.json', { ...SPEC_TEST_INPUT, symbols: ['ETH/USDT:USDT'] });

    // Act
    const [first, again, changed] = await Promise.all([
      simulate(['backtest', '--input', input]),
      simulate(['backtest', '--input', input]),
      simulate(['backtest', '--input', other]),
    ]);

    // Assess
    expect(again.report.output.result).toEqual(first.report.output.result);
    expect(changed.report.output.result.total_trades).not.toBe(first.report.output.result.total_trades);
  });

  it('ends FAILED with exit 1 when the request cannot run, naming the field', async () => {
    // Act
    const { code, report } = await simulate([
      'backtest',
      '--input',
      file('bad.json', { ...SPEC_TEST_INPUT, timeframe: '7m' }),
    ]);

    // Assess
    expect(code).toBe(1);
    expect(report).toMatchObject({ status: 'FAILED', error: { Error: 'ValidationError' }, succeeded: false });
    expect(report.error.Cause).toContain('timeframe');
  });

  it('shows the duplicate guard with --world: the run already COMPLETED, so this one changes nothing', async () => {
    // Prepare
    const world = {
      records: {
        'test-001': {
          status: 'COMPLETED',
          execution_arn: 'arn:aws:states:us-east-1:123456789012:execution:tradai-local-backtest:earlier',
        },
      },
    };

    // Act
    const { code, report } = await simulate([
      'backtest',
      '--input',
      file('spec.json', SPEC_TEST_INPUT),
      '--world',
      file('world.json', world),
    ]);

    // Assess
    expect(code).toBe(1);
    expect(report).toMatchObject({ status: 'FAILED', error: { Error: 'DuplicateRunError' } });
    expect(report.world.record).toMatchObject({
      status: 'COMPLETED',
      execution_arn: world.records['test-001'].execution_arn,
    });
    expect(report.world.ecs_tasks).toEqual([]);
  });

  it('refuses a world file that does not describe a world, naming the field, with exit 2', async () => {
    // Act
    const { code, err } = await simulate([
      'backtest',
      '--world',
      file('world.json', { images: { 'tradai/strategies/x:1.0': 'latest' } }),
    ]);

    // Assess
    expect(code).toBe(2);
    expect(err).toContain('Invalid world file: images.tradai/strategies/x:1.0');
  });

  it("bills the whole run: the nested data sync's transitions, every Lambda, and both Fargate tasks", async () => {
    // Act
    const { report } = await simulate(['backtest', '--case', 'StaleDataAutoSyncOn', '--per-month', '1000']);

    // Assess
    const services = report.bill.lines.map(
      (line: { service: string; item: string }) => `${line.service}: ${line.item}`,
    );
    expect(services).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^Step Functions: tradai-local-data-sync \(bt-20260105-strategytestv3-001-data-sync\)$/,
        ),
        expect.stringMatching(/^Step Functions: tradai-local-backtest \(bt-20260105-strategytestv3-001\)$/),
        expect.stringMatching(/^Lambda: validate-data-quality: 1 request/),
        expect.stringMatching(
          /^Fargate: tradai-local-data-collection:1 on FARGATE: 0\.5 vCPU, 1 GB for 12 min$/,
        ),
        expect.stringMatching(
          /^Fargate: tradai-local-strategy-StrategyTestV3:1 on FARGATE_SPOT: 1 vCPU, 2 GB for 42 min$/,
        ),
      ]),
    );
    const fargate = report.bill.lines
      .filter((line: { service: string }) => line.service === 'Fargate')
      .reduce((sum: number, line: { usd: number }) => sum + line.usd, 0);
    // 42 min of 1 vCPU + 2 GB at the Spot rate, 12 min of 0.5 vCPU + 1 GB on demand (us-east-1, 2026-03).
    expect(fargate).toBeCloseTo(0.7 * (0.012144 + 2 * 0.0013335) + 0.2 * (0.5 * 0.04048 + 0.004445), 6);
    expect(report.bill.per_month_usd).toBeCloseTo(report.bill.per_execution_usd * 1000, 9);
  });

  it('writes a self-contained report with every state of the path on the graph', async () => {
    // Prepare
    const target = path.join(mkdtempSync(path.join(tmpdir(), 'tradai-sim-')), 'run.html');

    // Act
    const { report } = await simulate(['backtest', '--case', 'StaleDataAutoSyncOn', '--report', target]);

    // Assess
    const html = readFileSync(target, 'utf8');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
    for (const state of report.states) {
      expect(html).toMatch(
        new RegExp(`<g class="state[^"]* visited [^"]*" data-state="${state}" data-machine="backtest"`),
      );
    }
    expect(html).toContain('data-machine="data-sync"');
    expect(html).toContain('Nested execution bt-20260105-strategytestv3-001-data-sync');
  });
});
