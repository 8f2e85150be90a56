import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backtestRequestSchema, check, isoDateToMillis } from '../../src';

/** Mostly `good`, sometimes anything: enough valid requests to exercise the date logic. */
const mostly = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: good, weight: 6 }, { arbitrary: fc.jsonValue(), weight: 1 });
const date = mostly(fc.constantFrom('2024-01-01', '2024-06-01', '2024-02-30', '2025-01-01T00:00Z'));

/** Requests with the right keys and any values, and the override form of the dates. */
const requests = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      run_id: mostly(fc.constantFrom('test-001', '../x')),
      strategy_name: mostly(fc.constant('MomentumStrategy')),
      strategy_version: mostly(fc.constant('1.0.0')),
      experiment_name: mostly(fc.constant('exp')),
      symbols: mostly(fc.constant(['BTC/USDT:USDT'])),
      timeframe: mostly(fc.constant('1h')),
      start_date: date,
      end_date: date,
      config_overrides: mostly(
        fc.record({ backtester: fc.record({ START_DATE: date, END_DATE: date }, { requiredKeys: [] }) }),
      ),
    },
    {
      requiredKeys: [
        'run_id',
        'strategy_name',
        'strategy_version',
        'experiment_name',
        'symbols',
        'timeframe',
      ],
    },
  ),
);

describe('backtestRequestSchema with arbitrary JSON', () => {
  it('never throws, and whatever it accepts has ordered top-level dates', () => {
    let accepted = 0;
    fc.assert(
      fc.property(requests, (value) => {
        const result = check(backtestRequestSchema, value);
        if (!result.ok) {
          expect(result.issues.length).toBeGreaterThan(0);
          return;
        }
        accepted++;
        expect(isoDateToMillis(result.data.start_date)).toBeLessThan(isoDateToMillis(result.data.end_date));
      }),
      { numRuns: 5_000 },
    );
    expect(accepted).toBeGreaterThan(0);
  });
});
