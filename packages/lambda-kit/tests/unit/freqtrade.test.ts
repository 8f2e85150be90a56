import { describe, expect, it } from 'vitest';
import {
  freqtradeLoadsParameterFile,
  parameterDifferences,
  resultZipMembers,
  strategyManifestKey,
  strategyParameterFile,
  strategyParametersSchema,
} from '../../src/freqtrade';
import { expandSweep } from '../../src/sweep';
import { SPEC_TEST_INPUT } from '../../src/testing';

const limits = { maxVariants: 1_000, maxConcurrency: 50 };
const { run_id: _, ...base } = SPEC_TEST_INPUT;

describe('the freqtrade contract (read from freqtrade 2024.10 and 2025.10)', () => {
  it('a sweep whose two variants differ only in buy.rsi_low renders two parameter files freqtrade loads', () => {
    // Arrange: a grid over one parameter, over a base that sets another of the same space
    const expanded = expandSweep(
      {
        ...base,
        sweep_id: 'sw-rsi',
        config_overrides: {
          ...base.config_overrides,
          strategy_parameters: { buy: { rsi_high: 70 }, stoploss: { stoploss: -0.1 } },
        },
        grid: { 'buy.rsi_low': [20, 30] },
      },
      limits,
    );

    // Act: the files prepare-config writes for each variant
    const files = expanded.variants.map((variant) =>
      strategyParameterFile(
        variant.strategy_name,
        variant.config_overrides?.strategy_parameters ?? {},
        '2026-01-05 09:00:00',
      ),
    );

    // Assess: deep-merged, different where the grid differs, accepted by freqtrade's own rule
    expect(files.map((f) => f.params)).toEqual([
      { buy: { rsi_high: 70, rsi_low: 20 }, stoploss: { stoploss: -0.1 } },
      { buy: { rsi_high: 70, rsi_low: 30 }, stoploss: { stoploss: -0.1 } },
    ]);
    expect(JSON.stringify(files[0])).not.toBe(JSON.stringify(files[1]));
    for (const file of files) {
      expect(file).toMatchObject({ strategy_name: 'MomentumStrategy', ft_stratparam_v: 1 });
      expect(freqtradeLoadsParameterFile(JSON.parse(JSON.stringify(file)), 'MomentumStrategy')).toBe(true);
    }
  });

  it("freqtrade drops a parameter file whose strategy_name is another class's (hyper.py load_params_from_file)", () => {
    // Arrange
    const file = strategyParameterFile('OtherStrategy', { buy: { rsi_low: 20 } }, 'now');

    // Assess
    expect(freqtradeLoadsParameterFile(file, 'MomentumStrategy')).toBe(false);
    expect(freqtradeLoadsParameterFile(null, 'MomentumStrategy')).toBe(false);
  });

  it('addresses roi, stoploss and trailing by path too; a path outside the spaces is refused, naming it', () => {
    // Act
    const expanded = expandSweep(
      { ...base, sweep_id: 'sw-2', grid: { 'roi.30': [0.01, 0.02], 'stoploss.stoploss': [-0.05] } },
      limits,
    );
    const refused = (() => {
      try {
        return expandSweep({ ...base, sweep_id: 'sw-3', grid: { 'bye.rsi_low': [1] } }, limits);
      } catch (error) {
        return error;
      }
    })();

    // Assess
    expect(expanded.variants[1]?.config_overrides?.strategy_parameters).toEqual({
      roi: { '30': 0.02 },
      stoploss: { stoploss: -0.05 },
    });
    expect(refused).toMatchObject({ name: 'ValidationError', issues: [{ field: 'grid.bye.rsi_low' }] });
    for (const path of ['buy.__proto__', 'buy.constructor', 'sell.prototype'])
      expect(() => expandSweep({ ...base, sweep_id: 'sw-4', grid: { [path]: [1] } }, limits)).toThrow(/grid/);
  });

  it("takes parameters only in freqtrade's spaces and shapes", () => {
    // Assess
    expect(
      strategyParametersSchema.safeParse({ buy: { rsi_low: 20 }, max_open_trades: { max_open_trades: 3 } })
        .success,
    ).toBe(true);
    expect(strategyParametersSchema.safeParse({ entry: { rsi_low: 20 } }).success).toBe(false);
    expect(strategyParametersSchema.safeParse({ roi: { '30.5': 0.01 } }).success).toBe(false);
    expect(strategyParametersSchema.safeParse({ stoploss: -0.1 }).success).toBe(false);
    // int() would merge "30" and "030"; names JavaScript objects answer to are no parameters
    expect(strategyParametersSchema.safeParse({ roi: { '030': 0.01 } }).success).toBe(false);
    expect(strategyParametersSchema.safeParse({ buy: { constructor: 1 } }).success).toBe(false);
  });

  it("names a result zip's members by freqtrade's rule: <stem>.json, not the only .json (bt_fileutils.load_backtest_stats)", () => {
    // Assess
    const members = resultZipMembers('runs/r/results/backtest-result-2025-01-05_09-42-00.zip');
    expect(members.result).toBe('backtest-result-2025-01-05_09-42-00.json');
    expect(members.config).toBe('backtest-result-2025-01-05_09-42-00_config.json');
    expect(members.parameters('MomentumStrategy')).toBe(
      'backtest-result-2025-01-05_09-42-00_MomentumStrategy.json',
    );
  });

  it('names each parameter that ran otherwise than asked, and only the asked spaces', () => {
    // Assess
    expect(
      parameterDifferences(
        { buy: { rsi_low: 20 }, stoploss: { stoploss: -0.1 } },
        { buy: { rsi_low: 30, rsi_high: 70 }, stoploss: { stoploss: -0.1 }, sell: { x: 1 } },
      ),
    ).toEqual(['buy.rsi_low: asked 20, ran 30']);
    expect(strategyManifestKey('strategies/M/1.0.0/config.json')).toBe('strategies/M/1.0.0/strategy.json');
  });
});
