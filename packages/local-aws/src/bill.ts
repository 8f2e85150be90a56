/*
 * What a run costs on AWS: Step Functions transitions (nested executions included), Lambda
 * requests and GB-seconds, and Fargate vCPU- and GB-hours, Spot and on-demand. Every price is in
 * PRICES, with its region and the date it was read (docs/decisions/0036).
 */
import { PRICES } from '@tradai/lambda-kit';
import type { World } from './world';

/** The rates, one declaration with a sweep's estimate before it starts (lambda-kit prices.ts). */
export { PRICES };

export interface BillLine {
  service: 'Step Functions' | 'Lambda' | 'Fargate';
  item: string;
  quantity: number;
  unit: string;
  usd: number;
}

export interface Bill {
  lines: BillLine[];
  /** USD for the run. */
  total: number;
  byService: Record<BillLine['service'], number>;
}

/**
 * Lines that differ only by the execution they belong to, one line each: a sweep's 24 backtests
 * are "tradai-local-backtest: 24 executions", its 24 tasks "24 x <task>".
 */
const groupAlike = (lines: BillLine[]): BillLine[] => {
  const groups = new Map<string, BillLine[]>();
  for (const line of lines) {
    const key = `${line.service}|${line.service === 'Step Functions' ? line.item.replace(/ \(.*\)$/, '') : line.item}`;
    const group = groups.get(key);
    if (group) group.push(line);
    else groups.set(key, [line]);
  }
  return [...groups.values()].map((group) => {
    const [first] = group as [BillLine, ...BillLine[]];
    if (group.length === 1) return first;
    const quantity = group.reduce((sum, line) => sum + line.quantity, 0);
    const item =
      first.service === 'Step Functions'
        ? `${first.item.replace(/ \(.*\)$/, '')}: ${group.length} executions, ${quantity} transitions`
        : `${group.length} x ${first.item}`;
    return { ...first, item, quantity, usd: group.reduce((sum, line) => sum + line.usd, 0) };
  });
};

/** The bill of everything `world` recorded: one run, its nested executions and its functions. */
export const billOf = (world: World): Bill => {
  const lines: BillLine[] = [];
  const executions = world.usage.flatMap((c) => (c.kind === 'states:execution' ? [c] : []));
  for (const execution of executions) {
    const machine = execution.stateMachine.split(':').at(-1) ?? execution.stateMachine;
    lines.push({
      service: 'Step Functions',
      item: `${machine} (${execution.name})`,
      quantity: execution.transitions,
      unit: 'transitions',
      usd: execution.transitions * PRICES.stepFunctions.perTransition,
    });
  }

  const invocations = new Map<string, { count: number; gbSeconds: number }>();
  for (const change of world.usage) {
    if (change.kind !== 'lambda:invoke') continue;
    const entry = invocations.get(change.function) ?? { count: 0, gbSeconds: 0 };
    entry.count++;
    entry.gbSeconds += (change.memoryMb / 1024) * (change.billedMs / 1000);
    invocations.set(change.function, entry);
  }
  for (const [fn, { count, gbSeconds }] of invocations) {
    lines.push({
      service: 'Lambda',
      item: `${fn}: ${count} request${count === 1 ? '' : 's'}, ${gbSeconds.toFixed(3)} GB-s (arm64)`,
      quantity: count,
      unit: 'requests',
      usd: count * PRICES.lambda.perRequest + gbSeconds * PRICES.lambda.perGbSecondArm64,
    });
  }

  for (const change of world.changes) {
    if (change.kind !== 'ecs:run') continue;
    const seconds = Math.max(change.seconds ?? 0, PRICES.fargate.minimumSeconds);
    const hours = seconds / 3600;
    const vcpu = change.cpu / 1024;
    const gb = change.memory / 1024;
    const rate = change.capacityProvider === 'FARGATE_SPOT' ? PRICES.fargate.spot : PRICES.fargate.onDemand;
    const family = change.taskDefinition.split('/').at(-1) ?? change.taskDefinition;
    lines.push({
      service: 'Fargate',
      item: `${family} on ${change.capacityProvider}: ${vcpu} vCPU, ${gb} GB for ${Math.round(seconds / 60)} min`,
      quantity: hours,
      unit: 'task-hours',
      usd: vcpu * hours * rate.perVcpuHour + gb * hours * rate.perGbHour,
    });
  }

  const grouped = groupAlike(lines);
  const byService = { 'Step Functions': 0, Lambda: 0, Fargate: 0 };
  for (const line of grouped) byService[line.service] += line.usd;
  return { lines: grouped, total: grouped.reduce((sum, line) => sum + line.usd, 0), byService };
};
