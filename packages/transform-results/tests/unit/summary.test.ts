import { describe, expect, it } from 'vitest';
import { ratiosFromDailyProfit } from '../../src';

describe('ratiosFromDailyProfit', () => {
  it('computes sharpe, sortino and calmar by the documented formulas', () => {
    // Prepare: daily returns 2 %, -1 %, 2 %, -1 % of a 100 balance
    const daily = [
      ['d1', 2],
      ['d2', -1],
      ['d3', 2],
      ['d4', -1],
    ] as const;

    // Act
    const ratios = ratiosFromDailyProfit(daily, 100, 0.05);

    // Assess: mean 0.005; sample stdev sqrt(4 * 0.015^2 / 3); downside sqrt(2 * 0.01^2 / 4)
    const mean = 0.005;
    const stdev = Math.sqrt((4 * 0.015 ** 2) / 3);
    const downside = Math.sqrt((2 * 0.01 ** 2) / 4);
    expect(ratios.sharpe).toBeCloseTo((mean / stdev) * Math.sqrt(365), 10);
    expect(ratios.sortino).toBeCloseTo((mean / downside) * Math.sqrt(365), 10);
    expect(ratios.calmar).toBeCloseTo((mean * 365) / 0.05, 10);
  });

  it('reports a ratio absent when its formula would divide by zero or has too little data', () => {
    expect(ratiosFromDailyProfit([['d1', 5]], 100, 0.1)).toEqual({
      sharpe: null,
      sortino: null,
      calmar: null,
    });
    expect(
      ratiosFromDailyProfit(
        [
          ['d1', 1],
          ['d2', 1],
        ],
        100,
        0,
      ),
    ).toEqual({ sharpe: null, sortino: null, calmar: null });
  });
});
