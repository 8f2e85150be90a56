/*
 * What a sweep will cost before it starts (docs/decisions/0045): its child executions, state
 * transitions, Fargate vCPU-hours and dollars, at PRICES. The entry points and the machine's first
 * state refuse a sweep over the stage's budget; `tradai-sim backtest-sweep --dry-run` prints it.
 */
import { PRICES } from './prices';

/**
 * State transitions of one backtest execution that succeeds, the path a variant takes: counted on
 * the simulated happy path (workflow-tests pins this figure to the engine's count).
 */
export const BACKTEST_TRANSITIONS = 15;

/**
 * The sweep machine's own transitions on its happy path: ValidateSweep to SweepCompleted (11), and
 * the 4 more a held-out stage adds (NextStage, RunVariants, AggregateSweep, EvaluateLeaderboard).
 */
const SWEEP_TRANSITIONS = 11;
const HOLDOUT_TRANSITIONS = 4;

/**
 * The task a variant runs: the platform's backtest template, `tradai-<stage>-backtest-template`,
 * 1 vCPU and 2 GB (fixtures/world/seed.json holds it as deployed), which pin-task-definition copies.
 */
export const STRATEGY_TASK = { vcpu: 1, memoryGb: 2 } as const;

export interface SweepCostInput {
  variants: number;
  itemsPerBatch: number;
  /** Leaders re-run on the held-out tail (0 without one). */
  holdoutVariants: number;
  /** How long one variant's backtest may take: the stage's wave time (the spec's 70 min and start-up). */
  variantSeconds: number;
}

export interface SweepCost {
  /** Executions of the backtest machine: one per variant, and one per held-out leader. */
  backtest_executions: number;
  /** Child executions the Distributed Map starts: one per batch. */
  child_executions: number;
  state_transitions: number;
  fargate_vcpu_hours: number;
  usd: {
    step_functions: number;
    /** Every variant on Fargate Spot, as the backtest machine runs it first. */
    fargate_spot: number;
    /** The ceiling: every variant falls back to on-demand. */
    fargate_on_demand: number;
    /** Step Functions and Fargate Spot. */
    total: number;
  };
}

const cents = (usd: number) => Math.round(usd * 100) / 100;

export const sweepCost = ({
  variants,
  itemsPerBatch,
  holdoutVariants,
  variantSeconds,
}: SweepCostInput): SweepCost => {
  const backtests = variants + holdoutVariants;
  const children = Math.ceil(variants / itemsPerBatch) + Math.ceil(holdoutVariants / itemsPerBatch);
  // A child: the Map's transition that starts it, its inline Map, and one RunVariant per item.
  const transitions =
    SWEEP_TRANSITIONS +
    (holdoutVariants > 0 ? HOLDOUT_TRANSITIONS : 0) +
    children * 2 +
    backtests * (1 + BACKTEST_TRANSITIONS);
  const hours = (backtests * variantSeconds) / 3_600;
  const fargate = (rate: { perVcpuHour: number; perGbHour: number }) =>
    hours * (STRATEGY_TASK.vcpu * rate.perVcpuHour + STRATEGY_TASK.memoryGb * rate.perGbHour);
  const stepFunctions = transitions * PRICES.stepFunctions.perTransition;
  return {
    backtest_executions: backtests,
    child_executions: children,
    state_transitions: transitions,
    fargate_vcpu_hours: Math.round(hours * STRATEGY_TASK.vcpu * 10) / 10,
    usd: {
      step_functions: cents(stepFunctions),
      fargate_spot: cents(fargate(PRICES.fargate.spot)),
      fargate_on_demand: cents(fargate(PRICES.fargate.onDemand)),
      total: cents(stepFunctions + fargate(PRICES.fargate.spot)),
    },
  };
};
