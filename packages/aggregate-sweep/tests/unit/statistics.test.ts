import { describe, expect, it } from 'vitest';
import {
  expectedMaxSharpe,
  normalCdf,
  normalQuantile,
  probabilisticSharpe,
  sharpePerTrade,
} from '../../src/statistics';

describe('the normal distribution', () => {
  it.each([
    // Φ and Φ⁻¹ at the points printed in every table (scipy.stats.norm: cdf(1.96), ppf(0.975), ppf(0.99)).
    [1.96, 0.9750021048517795],
    [0, 0.5],
    [-1, 0.15865525393145707],
  ])('Φ(%d) is %d to 1e-7', (x, p) => {
    expect(normalCdf(x)).toBeCloseTo(p, 7);
  });

  it.each([
    [0.975, 1.959963984540054],
    [0.99, 2.3263478740408408],
    [0.01, -2.3263478740408408],
    [0.5, 0],
    [1e-6, -4.753424308822899],
  ])("Φ⁻¹(%d) is %d within Acklam's relative error, 1.15e-9", (p, x) => {
    expect(Math.abs(normalQuantile(p) - x)).toBeLessThanOrEqual(1.15e-9 * Math.abs(x) + 1e-15);
  });

  it('refuses a probability outside (0, 1) with a RangeError', () => {
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });
});

describe('the deflated Sharpe ratio (Bailey and López de Prado 2014, "A numerical example")', () => {
  // The paper: 100 trials whose annualised Sharpe ratios vary by 1/2, five years of daily returns
  // (T = 1,250), skewness -3, kurtosis 10, and a best annualised Sharpe ratio of 2.5. Published:
  // SR0 ≈ 0.1132 and DSR ≈ 0.9004 (not significant at 95 %); with 46 trials, DSR ≈ 0.9505.
  const perDay = (annual: number) => annual / Math.sqrt(250);
  const variance = 0.5 / 250;

  it('gives the expected maximum Sharpe ratio of 100 skill-less trials: 0.1132', () => {
    expect(expectedMaxSharpe(100, variance)).toBeCloseTo(0.1132, 4);
  });

  it('gives the DSR of the paper: 0.9004 for 100 trials, 0.9505 for 46', () => {
    for (const [trials, published] of [
      [100, 0.9004],
      [46, 0.9505],
    ] as const) {
      const dsr = probabilisticSharpe(perDay(2.5), expectedMaxSharpe(trials, variance), 1_250, -3, 10);
      expect(Math.abs((dsr ?? 0) - published)).toBeLessThan(5e-5);
    }
  });

  it('has no selection to deflate with one trial, and no answer with one observation', () => {
    expect(expectedMaxSharpe(1, variance)).toBe(0);
    expect(probabilisticSharpe(0.1, 0, 1)).toBeNull();
  });
});

describe('sharpePerTrade', () => {
  it("turns freqtrade's annualised calculate_sharpe back into mean over std of the trade returns", () => {
    // Arrange: 4 trades over 10 days, returns 0.01, 0.02, -0.01, 0.02 of the starting balance.
    const returns = [0.01, 0.02, -0.01, 0.02];
    const mean = returns.reduce((a, b) => a + b) / returns.length;
    const std = Math.sqrt(returns.reduce((a, r) => a + (r - mean) ** 2, 0) / returns.length);
    // freqtrade/data/metrics.py calculate_sharpe: (sum / days) / np.std(returns) * sqrt(365)
    const freqtradeSharpe = (returns.reduce((a, b) => a + b) / 10 / std) * Math.sqrt(365);

    // Act + Assess
    expect(sharpePerTrade(freqtradeSharpe, 10, returns.length)).toBeCloseTo(mean / std, 12);
  });
});
