import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  caseDefinition,
  checkFixtures,
  MACHINES,
  type MachineName,
  readCases,
  runWorkflow,
  type StateEvent,
  TABLE,
  type WorkflowRun,
} from '@tradai/local-aws';
import { colourWanted, type Palette, palette, simulated, TRANSITION_PRICE_USD, usd } from './format';

const DEFAULT_CASE: Record<MachineName, string> = {
  backtest: 'HappyPath',
  'backtest-simplified': 'HappyPath',
  'data-sync': 'HappyPath',
  deploy: 'DryRunHappyPath',
};

const USAGE = `Usage: tradai-sim <workflow> [--case <name>] [--input <file.json>] [--json] [--per-month <n>]
       tradai-sim <workflow> --list
       tradai-sim --list

Runs a TradAI workflow end to end on its real state machine (state-machines/<workflow>.asl.json) and
its real Lambda handlers, against an in-memory AWS: no account, no Docker, no credentials.

  <workflow>        ${MACHINES.join(' | ')}
  --case <name>     a case of state-machines/<workflow>.cases.json (default: the happy path)
  --input <file>    the execution input (default: the case's input, built on events/<workflow>.json)
  --list            list the workflows, or a workflow's cases
  --json            one JSON document on stdout instead of the trace
  --per-month <n>   executions a month, for the cost estimate (default 50)

Exit code: 0 when the run ends as the case expects, 1 when it does not, 2 on a usage error.`;

class UsageError extends Error {}

const parse = (argv: string[]) => {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        case: { type: 'string' },
        input: { type: 'string' },
        list: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'per-month': { type: 'string', default: '50' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
};

const readInput = (file: string): unknown => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`Cannot read the input file ${file}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`The input file ${file} is not valid JSON: ${(error as Error).message}`);
  }
};

interface Options {
  workflow: MachineName;
  caseName: string;
  input?: unknown;
  json: boolean;
  perMonth: number;
}

const options = (argv: string[]): Options | { list: string } | { help: true } => {
  const { values, positionals } = parse(argv);
  if (values.help) return { help: true };
  const [workflow, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`Unexpected argument ${extra[0]}`);
  if (workflow === undefined) {
    if (values.list) return { list: `Workflows: ${MACHINES.join(', ')}` };
    throw new UsageError(`Which workflow? One of: ${MACHINES.join(', ')}`);
  }
  if (!(MACHINES as readonly string[]).includes(workflow)) {
    throw new UsageError(`Unknown workflow ${workflow}. Workflows: ${MACHINES.join(', ')}`);
  }
  const machine = workflow as MachineName;
  const cases = readCases(machine).cases;
  if (values.list) {
    const width = Math.max(...Object.keys(cases).map((name) => name.length));
    return {
      list: Object.entries(cases)
        .map(([name, c]) => `${name.padEnd(width)}  ${c.expect.status.padEnd(9)} ${c.description}`)
        .join('\n'),
    };
  }
  const caseName = values.case ?? DEFAULT_CASE[machine];
  if (!(caseName in cases)) {
    throw new UsageError(`Unknown case ${caseName} for ${machine}. Cases: ${Object.keys(cases).join(', ')}`);
  }
  const perMonth = Number(values['per-month']);
  if (!Number.isInteger(perMonth) || perMonth < 0) throw new UsageError('--per-month must be a whole number');
  return {
    workflow: machine,
    caseName,
    ...(values.input === undefined ? {} : { input: readInput(values.input) }),
    json: values.json,
    perMonth,
  };
};

/** One line per state as it ends: name, type, outcome, retries, simulated and real time. */
const liveTrace = (write: (line: string) => void, c: Palette) => {
  const open = new Map<string, { event: StateEvent; retries: number; error?: string }>();
  const line = (state: string, outcome: string, ended: StateEvent) => {
    const started = open.get(state);
    if (!started) return;
    open.delete(state);
    const retries = started.retries > 0 ? c.yellow(`retried ${started.retries}x`) : '';
    const sim = simulated(ended.simulatedMs ?? 0);
    const real = `${(ended.at - started.event.at).toFixed(0)} ms`;
    write(
      `  ${state.padEnd(32)} ${started.event.type.padEnd(8)} ${outcome.padEnd(38)} ${retries.padEnd(retries ? 20 : 12)} ${c.dim(`sim ${sim.padStart(6)}  real ${real.padStart(6)}`)}`,
    );
  };
  const onEvent = (event: StateEvent) => {
    if (event.event === 'entered') open.set(event.state, { event, retries: 0 });
    if (event.event === 'retried') {
      const entry = open.get(event.state);
      if (entry) entry.retries++;
    }
    if (event.event === 'failed') {
      const entry = open.get(event.state);
      if (entry && event.error) entry.error = event.error;
    }
    if (event.event === 'exited') line(event.state, c.green('ok'), event);
    if (event.event === 'caught')
      line(event.state, c.yellow(`caught ${open.get(event.state)?.error ?? ''}`.trim()), event);
  };
  const flush = (last: StateEvent | undefined) => {
    for (const [state, entry] of open) {
      line(
        state,
        c.red(
          entry.event.type === 'Fail'
            ? `failed ${entry.error ?? ''}`.trim()
            : `failed ${entry.error ?? ''}`.trim(),
        ),
        last ?? entry.event,
      );
    }
  };
  return { onEvent, flush };
};

const worldSummary = (run: WorkflowRun) => {
  const changes = run.world.changes;
  return {
    record: run.runId ? (run.world.record(TABLE, run.runId) ?? null) : null,
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

const matches = (run: WorkflowRun, options: Options) => {
  const expected = caseDefinition(options.workflow, options.caseName).expect;
  const sameEnd = run.status === expected.status && (run.error?.Error ?? undefined) === expected.error;
  // With the case's own input the path is part of the expectation; with another input, only the end.
  const samePath =
    options.input !== undefined || JSON.stringify(run.states) === JSON.stringify(expected.states);
  return { expected, ok: sameEnd && samePath };
};

export const main = async (
  argv: string[],
  out: NodeJS.WriteStream = process.stdout,
  err: NodeJS.WriteStream = process.stderr,
): Promise<number> => {
  const c = palette(colourWanted(out, process.env));
  const write = (line: string) => out.write(`${line}\n`);
  let parsed: ReturnType<typeof options>;
  try {
    parsed = options(argv);
    checkFixtures();
  } catch (error) {
    err.write(`tradai-sim: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if ('help' in parsed) {
    write(USAGE);
    return 0;
  }
  if ('list' in parsed) {
    write(parsed.list);
    return 0;
  }

  const trace = liveTrace(write, c);
  if (!parsed.json) {
    write(
      c.bold(`${parsed.workflow} / ${parsed.caseName}`) +
        c.dim(`  (${path.join('state-machines', `${parsed.workflow}.asl.json`)}, in-memory AWS)`),
    );
    write(c.dim(`  ${caseDefinition(parsed.workflow, parsed.caseName).description}`));
    write('');
  }
  const run = await runWorkflow({
    machine: parsed.workflow,
    caseName: parsed.caseName,
    ...(parsed.input === undefined ? {} : { input: parsed.input }),
    ...(parsed.json ? {} : { onEvent: trace.onEvent }),
  });
  const { expected, ok } = matches(run, parsed);
  const perExecution = run.transitions * TRANSITION_PRICE_USD;
  const world = worldSummary(run);

  if (parsed.json) {
    write(
      JSON.stringify(
        {
          workflow: parsed.workflow,
          case: parsed.caseName,
          status: run.status,
          ...(run.error ? { error: run.error } : { output: run.output }),
          expected: { status: expected.status, error: expected.error ?? null },
          as_expected: ok,
          states: run.states,
          transitions: run.transitions,
          cost_usd: {
            per_execution: perExecution,
            per_month: perExecution * parsed.perMonth,
            executions_per_month: parsed.perMonth,
          },
          world,
          simulated_ms: run.simulatedMs,
          real_ms: Math.round(run.realMs),
        },
        null,
        2,
      ),
    );
    return ok ? 0 : 1;
  }

  trace.flush(run.events.at(-1));
  write('');
  if (run.status === 'SUCCEEDED') {
    write(`${c.green('SUCCEEDED')}  output:`);
    write(JSON.stringify(run.output, null, 2).replace(/^/gm, '  '));
  } else if (run.status === 'ABORTED') {
    write(`${c.red('ABORTED')}  stopped outside the workflow; the reconciler recorded and reported it`);
  } else {
    write(`${c.red(run.status)}  ${c.bold(run.error?.Error ?? '')}`);
    write(`  ${(run.error?.Cause ?? '').slice(0, 600)}`);
  }
  write('');
  write(c.bold('What changed in the world'));
  if (world.record)
    write(
      `  workflow-state record ${run.runId}: ${JSON.stringify({ ...world.record, result: world.record.result ? '(summary)' : undefined })}`,
    );
  for (const uri of world.s3_written) write(`  s3 written   ${uri}`);
  for (const uri of world.s3_deleted) write(`  s3 deleted   ${uri}`);
  for (const task of world.ecs_tasks) write(`  ecs task     ${task}`);
  for (const arn of world.task_definitions_registered) write(`  registered   ${arn}`);
  for (const update of world.services_updated) write(`  service      ${update}`);
  for (const name of world.nested_executions) write(`  nested run   ${name}`);
  for (const n of world.notifications) write(`  sns          ${n.subject}`);
  for (const body of world.dead_letters)
    write(`  ${c.yellow('dlq')}          ${JSON.stringify(body).slice(0, 160)}`);
  write('');
  write(
    `${run.transitions} state transitions: ${usd(perExecution)} per execution, ${usd(perExecution * parsed.perMonth)} a month at ${parsed.perMonth} executions ($0.025 per 1,000 transitions). Simulated ${simulated(run.simulatedMs)} in ${Math.round(run.realMs)} ms.`,
  );
  write(
    ok
      ? c.green(`As the case expects (${expected.status}${expected.error ? ` ${expected.error}` : ''}).`)
      : c.red(
          `NOT as the case expects: expected ${expected.status}${expected.error ? ` ${expected.error}` : ''}.`,
        ),
  );
  return ok ? 0 : 1;
};
