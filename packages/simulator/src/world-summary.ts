import { LOCAL_SUBSTITUTIONS, TABLE, unmarshall, type WorkflowRun } from '@tradai/local-aws';
import type { Palette } from './format';

const DEPLOYMENTS_TABLE = LOCAL_SUBSTITUTIONS.DeploymentsTable as string;
const LEASES_TABLE = LOCAL_SUBSTITUTIONS.DeployLeasesTable as string;

/** A deploy's lease on its service: what it wrote, and who released it, if anyone did. */
export interface Lease {
  service_name: string;
  taken: Record<string, unknown>;
  released: string | null;
}

/** The records of `table` the run updated, read from the table as the run left them. */
const recordsUpdated = (run: WorkflowRun, table: string): Record<string, unknown>[] => {
  const attribute = run.world.tableKeys.get(table);
  if (!attribute) return [];
  const keys = new Set(
    run.world.changes.flatMap((c) => (c.kind === 'dynamodb:update' && c.table === table ? [c.key] : [])),
  );
  return [...keys].flatMap((key) => {
    const item = run.world.item(table, { [attribute]: { S: key } });
    return item ? [unmarshall(item)] : [];
  });
};

/**
 * The leases the run took (its machine's PutItem on the leases table) and how each ended: released
 * by the machine (its DeleteItem), gone when the run ended without one (reconcile-run releases the
 * lease of a deploy that was stopped or timed out), or still held.
 */
const leasesTaken = (run: WorkflowRun): Lease[] => {
  const { world } = run;
  const attribute = world.tableKeys.get(LEASES_TABLE) ?? 'service_name';
  const leases = new Map<string, Lease>();
  for (const change of world.changes) {
    if (change.kind === 'dynamodb:put' && change.table === LEASES_TABLE) {
      const taken = Object.fromEntries(Object.entries(change.item).filter(([name]) => name !== attribute));
      leases.set(change.key, { service_name: change.key, taken, released: null });
    }
    if (change.kind === 'dynamodb:delete' && change.table === LEASES_TABLE) {
      const lease = leases.get(change.key);
      if (lease) lease.released = `by the ${run.machine}`;
    }
  }
  for (const lease of leases.values()) {
    const held = world.item(LEASES_TABLE, { [attribute]: { S: lease.service_name } });
    if (!lease.released && !held) lease.released = 'after the execution ended (reconcile-run)';
  }
  return [...leases.values()];
};

/** What the run changed in the world, for --json: every object, task and record. */
export const worldSummary = (run: WorkflowRun) => {
  const changes = run.world.changes;
  return {
    record: run.runId ? (run.world.record(TABLE, run.runId) ?? null) : null,
    deployments: recordsUpdated(run, DEPLOYMENTS_TABLE),
    leases: leasesTaken(run),
    s3_written: changes.flatMap((c) => (c.kind === 's3:put' ? [c.uri] : [])),
    s3_deleted: changes.flatMap((c) => (c.kind === 's3:delete' ? [c.uri] : [])),
    ecs_tasks: changes.flatMap((c) =>
      c.kind === 'ecs:run' ? [`${c.taskDefinition} on ${c.capacityProvider}`] : [],
    ),
    task_definitions_registered: changes.flatMap((c) => (c.kind === 'ecs:register' ? [c.arn] : [])),
    services_updated: changes.flatMap((c) =>
      c.kind === 'ecs:update-service' ? [`${c.service} -> ${c.taskDefinition}`] : [],
    ),
    nested_executions: changes.flatMap((c) => (c.kind === 'states:start' ? [c.name] : [])),
    notifications: run.world.published.map((m) => ({ subject: m.subject, attributes: m.attributes })),
    dead_letters: run.world.queued.map((m) => m.body),
  };
};
export type WorldSummary = ReturnType<typeof worldSummary>;

/** A list longer than this is one line without --verbose. */
const LISTED = 3;

/** The longest `s3://bucket/...` folder every URI is in, or none across buckets. */
const commonFolder = (uris: readonly string[]) => {
  let prefix = uris[0] ?? '';
  for (const uri of uris) while (!uri.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  return /^s3:\/\/[^/]+\//.test(folder) ? folder : undefined;
};

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** Identical lines once, counted: `24 x <task definition> on FARGATE_SPOT`. */
const counted = (lines: readonly string[]) => {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts].map(([line, count]) => (count > 1 ? `${count} x ${line}` : line));
};

/**
 * "What changed in the world", for people: the run's record, a deploy's record and lease, then what
 * it wrote and started. Without `verbose`, a long list of S3 objects or nested runs is one line.
 */
export const whatChangedLines = (
  run: WorkflowRun,
  summary: WorldSummary,
  verbose: boolean,
  c: Palette,
): string[] => {
  const lines: string[] = [];
  const write = (label: string, text: string) => lines.push(`  ${label.padEnd(12)} ${text}`);
  if (summary.record)
    lines.push(
      `  workflow-state record ${run.runId}: ${JSON.stringify({ ...summary.record, result: summary.record.result ? '(summary)' : undefined })}`,
    );
  for (const record of summary.deployments)
    lines.push(`  deployments record ${String(record.deployment_id)}: ${JSON.stringify(record)}`);
  for (const lease of summary.leases) {
    write('lease', `${lease.service_name} taken: ${JSON.stringify(lease.taken)}`);
    write(
      'lease',
      lease.released
        ? `${lease.service_name} released ${lease.released}`
        : c.yellow(`${lease.service_name} still held, until ${String(lease.taken.expires_at)}`),
    );
  }
  const { s3_written: written, s3_deleted: deleted } = summary;
  if (verbose || written.length + deleted.length <= LISTED) {
    for (const uri of written) write('s3 written', uri);
    for (const uri of deleted) write('s3 deleted', uri);
  } else {
    const folder = commonFolder([...written, ...deleted]);
    write(
      's3',
      `${plural(written.length, 'object')} written${deleted.length > 0 ? `, ${deleted.length} deleted` : ''}${folder ? `, under ${folder}` : ''} (--verbose lists them)`,
    );
  }
  for (const task of verbose ? summary.ecs_tasks : counted(summary.ecs_tasks)) write('ecs task', task);
  for (const arn of summary.task_definitions_registered) write('registered', arn);
  for (const update of summary.services_updated) write('service', update);
  const nested = summary.nested_executions;
  if (verbose || nested.length <= LISTED) for (const name of nested) write('nested run', name);
  else
    write(
      'nested run',
      `${nested.length} executions, ${nested[0]} to ${nested.at(-1)} (--verbose lists them)`,
    );
  for (const n of summary.notifications) write('sns', String(n.subject));
  for (const body of summary.dead_letters)
    lines.push(`  ${c.yellow('dlq')}          ${JSON.stringify(body).slice(0, 160)}`);
  return lines;
};
