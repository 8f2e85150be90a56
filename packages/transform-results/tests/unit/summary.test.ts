import { describe, expect, it } from 'vitest';
import { freqtradeCalmar, freqtradeMaxDrawdown, freqtradeSharpe, freqtradeSortino } from '../../src';

const DAY = 86_400_000;
const trade = (profit_abs: number, day: number) => ({
  profit_abs,
  close_date: new Date(Date.UTC(2024, 0, 1 + day)).toISOString(),
});
/** Four trades of a 100 balance over 10 days: +2, -1, +3, -2. */
const TRADES = [trade(2, 1), trade(-1, 2), trade(3, 3), trade(-2, 4)];
const PERIOD = { start: Date.UTC(2024, 0, 1), end: Date.UTC(2024, 0, 1) + 10 * DAY, startingBalance: 100 };

describe("freqtrade's ratio definitions", () => {
  it('computes sharpe as freqtrade does: summed returns per day over the population deviation', () => {
    // Prepare: returns .02 -.01 .03 -.02; mean per day .02 / 10; population std
    const returns = [0.02, -0.01, 0.03, -0.02];
    const mean = returns.reduce((a, b) => a + b) / returns.length;
    const std = Math.sqrt(returns.reduce((a, r) => a + (r - mean) ** 2, 0) / returns.length);

    // Act & Assess
    expect(freqtradeSharpe(TRADES, PERIOD).value).toBeCloseTo((0.002 / std) * Math.sqrt(365), 12);
  });

  it('computes sortino over the losing trades only', () => {
    const downside = Math.sqrt(((-0.01 + 0.015) ** 2 + (-0.02 + 0.015) ** 2) / 2);
    expect(freqtradeSortino(TRADES, PERIOD).value).toBeCloseTo((0.002 / downside) * Math.sqrt(365), 12);
  });

  it('computes calmar from the deepest fall measured against the balance at its peak', () => {
    // Prepare: cumulative 2, 1, 4, 2 -> deepest absolute fall 2 from a 104 peak
    const drawdown = freqtradeMaxDrawdown(TRADES, 100);

    // Act & Assess
    expect(drawdown.abs).toBeCloseTo(2, 12);
    expect(drawdown.account).toBeCloseTo(2 / 104, 12);
    expect(freqtradeCalmar(TRADES, PERIOD).value).toBeCloseTo(
      (((0.02 / 10) * 100) / (2 / 104)) * Math.sqrt(365),
      9,
    );
  });

  it('uses the drawdown freqtrade wrote, when the file has it', () => {
    expect(freqtradeCalmar(TRADES, { ...PERIOD, maxDrawdownAccount: 0.05 }).value).toBeCloseTo(
      (0.2 / 0.05) * Math.sqrt(365),
      9,
    );
  });

  it.each([
    ['no trades', [], 'no trades'],
    ['trades that all return the same', [trade(1, 1), trade(1, 2)], 'no deviation'],
  ])('gives no sharpe for %s, where freqtrade prints a sentinel', (_, trades, reason) => {
    expect(freqtradeSharpe(trades, PERIOD)).toEqual({ value: null, reason: expect.stringContaining(reason) });
  });

  it('gives no sortino without losing trades and no calmar without a drawdown', () => {
    const winners = [trade(1, 1), trade(2, 2)];
    expect(freqtradeSortino(winners, PERIOD)).toEqual({
      value: null,
      reason: expect.stringContaining('no losing'),
    });
    expect(freqtradeCalmar(winners, PERIOD)).toEqual({ value: null, reason: 'no drawdown' });
  });

  it('gives no ratio for an empty backtest period', () => {
    expect(freqtradeSharpe(TRADES, { ...PERIOD, end: PERIOD.start })).toEqual({
      value: null,
      reason: 'the backtest period is empty',
    });
  });
});
