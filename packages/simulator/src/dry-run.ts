/*
 * `tradai-sim backtest-sweep --dry-run`: what a sweep will cost before it starts, checked as the
 * sweep machine's first state checks it, with the stage's limits the local stack declares (and
 * the TRADAI_* settings of the shell). Nothing runs.
 */
import { expandSweep, PRICES, readSweepLimits, ValidationError } from '@tradai/lambda-kit';
import { applyLocalEnvironment } from '@tradai/local-aws';
import type { Palette } from './format';

const thousands = (value: number) => value.toLocaleString('en-US');

/** The lines of the dry run, and whether the sweep would start. */
export const dryRunLines = (input: unknown, c: Palette): { lines: string[]; ok: boolean } => {
  applyLocalEnvironment();
  const limits = readSweepLimits();
  let sweep: ReturnType<typeof expandSweep>;
  try {
    sweep = expandSweep(input, limits);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { lines: [c.red(`Refused before it starts: ${error.message}`)], ok: false };
  }
  const { cost, batching } = sweep;
  const waves = Math.ceil(sweep.variants.length / sweep.max_concurrency);
  return {
    ok: true,
    lines: [
      c.bold(
        `Sweep ${sweep.sweep_id}: ${thousands(sweep.variants.length)} variants, before it starts (nothing runs)`,
      ),
      `  ${thousands(cost.backtest_executions)} backtest executions${sweep.out_of_sample ? ` (${sweep.out_of_sample.top_n} of them on the held-out tail)` : ''}, ` +
        `as ${thousands(cost.child_executions)} child executions of ${batching.items_per_batch} variants each, ${batching.max_concurrency} at once (${sweep.max_concurrency} variants)`,
      `  ${waves} waves of up to ${(limits.timing?.waveSeconds ?? 5_400) / 60} min; ${thousands(cost.state_transitions)} state transitions`,
      `  Fargate Spot: ${thousands(cost.fargate_vcpu_hours)} vCPU-hours at most`,
      `  Bill at most: $${cost.usd.total.toFixed(2)} (Step Functions $${cost.usd.step_functions.toFixed(2)}, Fargate Spot $${cost.usd.fargate_spot.toFixed(2)}); ` +
        `$${(cost.usd.fargate_on_demand + cost.usd.step_functions).toFixed(2)} if every variant falls back to on-demand`,
      c.dim(
        `  Within this stage's limits: ${thousands(limits.maxVariants)} variants, ${limits.maxConcurrency} at once, $${limits.budgetUsd ?? '-'} a sweep (${PRICES.region} prices of ${PRICES.asOf})`,
      ),
    ],
  };
};
