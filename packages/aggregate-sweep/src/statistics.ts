/*
 * Multiple-testing honesty for a sweep's winner: the deflated Sharpe ratio of Bailey and López de
 * Prado, "The Deflated Sharpe Ratio: Correcting for Selection Bias, Backtest Overfitting and
 * Non-Normality", Journal of Portfolio Management 40(5), 2014, equations (2) and the expected
 * maximum of N Sharpe ratios under the null. The normal distribution's CDF and quantile are written
 * here rather than imported (docs/decisions/0045 says why).
 */

/** The Euler-Mascheroni constant. */
const EULER_GAMMA = 0.5772156649015329;

/**
 * The complementary error function, Numerical Recipes' Chebyshev fit (`erfcc`): fractional error
 * below 1.2e-7 everywhere.
 */
const erfc = (x: number): number => {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
};

/** The standard normal CDF. */
export const normalCdf = (x: number): number => 0.5 * erfc(-x / Math.SQRT2);

// Acklam's rational approximation of the normal quantile (relative error below 1.15e-9).
const A = [
  -39.69683028665376, 220.9460984245205, -275.928510446969, 138.357751867269, -30.66479806614716,
  2.506628277459239,
];
const B = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const C = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

const poly = (coefficients: readonly number[], x: number) => coefficients.reduce((acc, c) => acc * x + c, 0);

/** The standard normal quantile, for 0 < p < 1. */
export const normalQuantile = (p: number): number => {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), not ${p}`);
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(C, q) / (poly(D, q) * q + 1);
  }
  if (p > 1 - P_LOW) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -poly(C, q) / (poly(D, q) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (poly(A, r) * q) / (poly(B, r) * r + 1);
};

/**
 * The Sharpe ratio the best of `trials` independent strategies with no skill would show, given the
 * variance of their Sharpe ratios: SR0 = sqrt(V) ((1 - g) Z^-1(1 - 1/N) + g Z^-1(1 - 1/(N e))).
 * One trial has no selection: 0.
 */
export const expectedMaxSharpe = (trials: number, variance: number): number => {
  if (trials <= 1 || !(variance > 0)) return 0;
  return (
    Math.sqrt(variance) *
    ((1 - EULER_GAMMA) * normalQuantile(1 - 1 / trials) +
      EULER_GAMMA * normalQuantile(1 - 1 / (trials * Math.E)))
  );
};

/**
 * The probability that the true Sharpe ratio exceeds `benchmark` (the probabilistic Sharpe ratio),
 * given an observed per-period Sharpe ratio over `observations` periods whose returns have the
 * given skewness and (non-excess) kurtosis. With the expected maximum as the benchmark it is the
 * deflated Sharpe ratio. Null when it cannot be computed (fewer than 2 observations, or a
 * non-positive variance term).
 */
export const probabilisticSharpe = (
  sharpe: number,
  benchmark: number,
  observations: number,
  skewness = 0,
  kurtosis = 3,
): number | null => {
  const denominator = 1 - skewness * sharpe + ((kurtosis - 1) / 4) * sharpe * sharpe;
  if (observations < 2 || !(denominator > 0)) return null;
  return normalCdf(((sharpe - benchmark) * Math.sqrt(observations - 1)) / Math.sqrt(denominator));
};

/** The sample variance (n - 1), or 0 below two values. */
export const variance = (values: readonly number[]): number => {
  if (values.length < 2) return 0;
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  return values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (values.length - 1);
};

/**
 * A variant's Sharpe ratio per trade, from freqtrade's annualised figure. freqtrade's
 * calculate_sharpe (freqtrade/data/metrics.py) is (sum of trade returns / days) / std(trade returns)
 * x sqrt(365); times days / (sqrt(365) x trades) it is mean / std of the trade returns: the
 * per-observation Sharpe ratio the deflated Sharpe ratio takes, with one observation per trade.
 */
export const sharpePerTrade = (sharpe: number, days: number, trades: number): number =>
  (sharpe * days) / (Math.sqrt(365) * trades);
