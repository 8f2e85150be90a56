import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  applyWorldFile,
  billOf,
  caseDefinition,
  caseInput,
  checkFixtures,
  MACHINES,
  type MachineName,
  PRICES,
  readCases,
  runWorkflow,
  type StateEvent,
  seedWorld,
  TABLE,
  type WorkflowRun,
  type World,
} from '@tradai/local-aws';
import { dryRunLines } from './dry-run';
import { colourWanted, type Palette, palette, simulated, usd } from './format';
import { readJsonFile } from './json-file';
import { type Leaderboard, leaderboardLines, leaderboardOf } from './leaderboard';
import { renderReport } from './report';
import { closest } from './suggest';
import { whatChangedLines, worldSummary } from './world-summary';

const DEFAULT_CASE: Record<MachineName, string> = {
  backtest: 'HappyPath',
  'backtest-simplified': 'HappyPath',
  'data-sync': 'HappyPath',
  deploy: 'DryRunHappyPath',
  'backtest-sweep': 'HappyPath',
};

const USAGE = `Usage: tradai-sim <workflow> [--case <name>] [--input <file.json>] [--world <file.json>]
                  [--report <file.html>] [--json] [--per-month <n>] [--top <n>] [--verbose]
       tradai-sim backtest-sweep [--case <name>] [--input <file.json>] --dry-run
       tradai-sim <workflow> --list
       tradai-sim --list

Runs a TradAI workflow end to end on its real state machine (state-machines/<workflow>.asl.json) and
its real Lambda handlers, against an in-memory AWS: no account, no Docker, no credentials.

  <workflow>        ${MACHINES.join(' | ')}
  --case <name>     a case of state-machines/<workflow>.cases.json: its input, world and faults
  --input <file>    your own execution input. Without --case, the world is given what it needs
                    (the strategy's image and config, fresh market data, a simulated freqtrade
                    result) and no expectation applies. With --case, it replaces the case's input.
  --world <file>    start from this world: records, objects, images, services over the seed
  --report <file>   also write the run as one self-contained HTML page (graph, timeline, bill)
  --list            list the workflows, or a workflow's cases
  --json            one JSON document on stdout instead of the trace: every object and record, and a
                    sweep's whole leaderboard
  --per-month <n>   executions a month, for the bill (default 50)
  --top <n>         a sweep's leaderboard: the best n variants (default 10)
  --dry-run         a sweep's bill before it starts (child executions, state transitions, Fargate
                    vCPU-hours, dollars), checked against the stage's limits and budget; runs nothing
  --verbose         list every S3 object written or deleted, every ECS task and nested run, and a
                    sweep's whole output; without it a long list is one line

With neither --case nor --input, the workflow's happy-path case runs.
Exit code: with a case, 0 when the run ends as the case expects and 1 when it does not; without
one, 0 when the run SUCCEEDED and 1 when it FAILED, TIMED_OUT or was ABORTED; 2 on a usage error.`;

/** A mistake in the command line: said in one line (with a suggestion where there is one), exit 2. */
class UsageError extends Error {}

const OPTIONS = {
  case: { type: 'string' },
  input: { type: 'string' },
  world: { type: 'string' },
  report: { type: 'string' },
  list: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  'per-month': { type: 'string', default: '50' },
  top: { type: 'string', default: '10' },
  verbose: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** `unknown workflow "backtset": did you mean "backtest"? (--help lists them)` */
const unknown = (what: string, typed: string, known: readonly string[], lister: string) => {
  const near = closest(typed, known);
  return new UsageError(`unknown ${what}${near ? `: did you mean "${near}"?` : ''} (${lister} lists them)`);
};

const parse = (argv: string[]) => {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    const { code, message } = error as Error & { code?: string };
    const option = /^Unknown option '(-{1,2}[^']*)'/.exec(message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) {
      const near = closest(option.replace(/^-+/, ''), Object.keys(OPTIONS));
      throw new UsageError(
        `unknown option ${option}${near ? `: did you mean --${near}?` : ''} (--help lists them)`,
      );
    }
    const missing = /^Option '(-{1,2}[^ ']+)[^']*' argument missing/.exec(message)?.[1];
    const valued = /^Option '(-{1,2}[^ ']+)[^']*' does not take an argument/.exec(message)?.[1];
    throw new UsageError(
      missing
        ? `${missing} needs a value (--help)`
        : valued
          ? `${valued} takes no value (--help)`
          : `${message.split('. ')[0]} (--help)`,
    );
  }
};

/** The JSON of the file the user named, or a usage error that names it and says why not. */
const readJson = (what: string, file: string): unknown => {
  const read = readJsonFile(file);
  if (read.ok) return read.value;
  throw new UsageError(
    read.unreadable
      ? `cannot read the ${what} file ${file}: ${read.reason}`
      : `the ${what} file ${file} is ${read.reason}`,
  );
};

const wholeNumber = (flag: string, text: string, least: number) => {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < least)
    throw new UsageError(
      `${flag} must be a whole number${least > 0 ? ` above ${least - 1}` : ''}, not "${text}"`,
    );
  return value;
};

interface Options {
  workflow: MachineName;
  /** The case whose expectation judges the run; none for a request of the user's own. */
  caseName?: string;
  input?: unknown;
  worldFile?: unknown;
  report?: string;
  json: boolean;
  perMonth: number;
  /** How many of a sweep's ranked variants the leaderboard shows. */
  top: number;
  verbose: boolean;
  /** A sweep's bill before it starts; nothing runs. */
  dryRun: boolean;
}

const options = (argv: string[]): Options | { list: string } | { help: true } => {
  const { values, positionals } = parse(argv);
  if (values.help) return { help: true };
  const [workflow, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" after the workflow (--help)`);
  if (workflow === undefined) {
    if (values.list) return { list: `Workflows: ${MACHINES.join(', ')}` };
    throw new UsageError(`which workflow? One of ${MACHINES.join(', ')} (--help)`);
  }
  if (!(MACHINES as readonly string[]).includes(workflow))
    throw unknown(`workflow "${workflow}"`, workflow, MACHINES, '--help');
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
  const caseName = values.case ?? (values.input === undefined ? DEFAULT_CASE[machine] : undefined);
  if (caseName !== undefined && !(caseName in cases))
    throw unknown(`case "${caseName}" of ${machine}`, caseName, Object.keys(cases), `${machine} --list`);
  if (values['dry-run'] && machine !== 'backtest-sweep')
    throw new UsageError(
      `--dry-run prices a sweep before it starts: it is for backtest-sweep, not ${machine}`,
    );
  const perMonth = wholeNumber('--per-month', values['per-month'], 0);
  const top = wholeNumber('--top', values.top, 1);
  return {
    workflow: machine,
    ...(caseName === undefined ? {} : { caseName }),
    ...(values.input === undefined ? {} : { input: readJson('input', values.input) }),
    ...(values.world === undefined ? {} : { worldFile: readJson('world', values.world) }),
    ...(values.report === undefined ? {} : { report: values.report }),
    json: values.json,
    perMonth,
    top,
    verbose: values.verbose,
    dryRun: values['dry-run'],
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

/**
 * The run's output for people: a sweep's ranked variants are the leaderboard's table (printed
 * below it), not 100 lines of JSON; --verbose and --json keep them.
 */
const outputForPeople = (output: unknown, board: Leaderboard | undefined): unknown => {
  const leaderboard = (output as { leaderboard?: { top?: unknown } } | null | undefined)?.leaderboard;
  if (!board || !leaderboard || !Array.isArray(leaderboard.top)) return output;
  const top = `(the best ${leaderboard.top.length}: the leaderboard below)`;
  // The verdicts (winner, held-out check, deflated Sharpe) are read below the table, in words.
  const {
    multiple_testing: _testing,
    out_of_sample: _oos,
    winner,
    next_stage: _next,
    tolerance_exceeded: _exceeded,
    // Said by the leaderboard's title.
    sweep_id: _sweep,
    rank_by: _rankBy,
    attempt: _attempt,
    ...rest
  } = leaderboard as Record<string, unknown>;
  const winnerId = (winner as { run_id?: string } | null | undefined)?.run_id ?? null;
  // Counts of nothing, and an empty list of failures, say nothing the title does not.
  const said = Object.fromEntries(
    Object.entries(rest).filter(
      ([key, value]) =>
        !(['failed', 'ineligible', 'not_run'].includes(key) && value === 0) &&
        !(key === 'failures' && Array.isArray(value) && value.length === 0),
    ),
  );
  return { ...(output as object), leaderboard: { ...said, winner: winnerId, top } };
};

/** The verdict: against the case's expectation, or, without a case, whether the run succeeded. */
const matches = (run: WorkflowRun, options: Options) => {
  if (options.caseName === undefined) return { expected: undefined, ok: run.status === 'SUCCEEDED' };
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
  if (argv.length === 0) {
    err.write(`${USAGE}\n`);
    return 2;
  }
  let parsed: ReturnType<typeof options>;
  try {
    parsed = options(argv);
    checkFixtures();
  } catch (error) {
    // One line: the mistake, and a suggestion where there is one; --help prints the usage.
    err.write(`tradai-sim: ${(error as Error).message}\n`);
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

  if (parsed.dryRun) {
    const input =
      parsed.input ??
      caseInput(
        parsed.workflow,
        caseDefinition(parsed.workflow, parsed.caseName ?? DEFAULT_CASE[parsed.workflow]),
      );
    const dry = dryRunLines(input, c);
    for (const line of dry.lines) write(line);
    return dry.ok ? 0 : 1;
  }

  let world: World | undefined;
  if (parsed.worldFile !== undefined) {
    world = seedWorld();
    try {
      applyWorldFile(world, parsed.worldFile, TABLE);
    } catch (error) {
      err.write(`tradai-sim: ${(error as Error).message}\n`);
      return 2;
    }
  }

  const trace = liveTrace(write, c);
  const title = parsed.caseName ?? 'your input';
  if (!parsed.json) {
    write(
      c.bold(`${parsed.workflow} / ${title}`) +
        c.dim(`  (${path.join('state-machines', `${parsed.workflow}.asl.json`)}, in-memory AWS)`),
    );
    if (parsed.caseName) write(c.dim(`  ${caseDefinition(parsed.workflow, parsed.caseName).description}`));
    write('');
  }
  const run = await runWorkflow({
    machine: parsed.workflow,
    ...(parsed.caseName === undefined ? {} : { caseName: parsed.caseName }),
    ...(parsed.input === undefined ? {} : { input: parsed.input }),
    ...(world ? { world } : {}),
    ...(parsed.json ? {} : { onEvent: trace.onEvent }),
  });
  const { expected, ok } = matches(run, parsed);
  const bill = billOf(run.world);
  const summary = worldSummary(run);
  const board = leaderboardOf(run);
  const verdict = expected
    ? { expected: { status: expected.status, error: expected.error ?? null }, as_expected: ok }
    : { expected: null, succeeded: ok };
  if (parsed.report) {
    writeFileSync(parsed.report, await renderReport({ run, bill, perMonth: parsed.perMonth, title }));
  }

  if (parsed.json) {
    write(
      JSON.stringify(
        {
          workflow: parsed.workflow,
          case: parsed.caseName ?? null,
          status: run.status,
          ...(run.error ? { error: run.error } : { output: run.output }),
          ...verdict,
          provisioned: run.provisioned,
          states: run.states,
          transitions: run.transitions,
          bill: {
            prices: { region: PRICES.region, as_of: PRICES.asOf },
            lines: bill.lines,
            per_execution_usd: bill.total,
            per_month_usd: bill.total * parsed.perMonth,
            executions_per_month: parsed.perMonth,
          },
          world: summary,
          ...(board ? { leaderboard: board } : {}),
          simulated_ms: run.simulatedMs,
          real_ms: Math.round(run.realMs),
          ...(parsed.report ? { report: parsed.report } : {}),
        },
        null,
        2,
      ),
    );
    return ok ? 0 : 1;
  }

  trace.flush(run.events.at(-1));
  write('');
  if (run.provisioned.length > 0) {
    write(c.bold('Given to the world for this request'));
    for (const p of run.provisioned) write(`  ${p.kind.padEnd(17)} ${p.detail}`);
    write('');
  }
  if (run.status === 'SUCCEEDED') {
    write(`${c.green('SUCCEEDED')}  output:`);
    const output = parsed.verbose ? run.output : outputForPeople(run.output, board);
    write(JSON.stringify(output, null, 2).replace(/^/gm, '  '));
  } else if (run.status === 'ABORTED') {
    write(`${c.red('ABORTED')}  stopped outside the workflow; the reconciler recorded and reported it`);
  } else {
    write(`${c.red(run.status)}  ${c.bold(run.error?.Error ?? '')}`);
    write(`  ${(run.error?.Cause ?? '').slice(0, 600)}`);
  }
  write('');
  if (board) {
    for (const line of leaderboardLines(board, parsed.top, c)) write(line);
    write('');
  }
  write(c.bold('What changed in the world'));
  for (const line of whatChangedLines(run, summary, parsed.verbose, c)) write(line);
  write('');
  write(c.bold(`The bill (${PRICES.region} prices of ${PRICES.asOf})`));
  for (const line of bill.lines)
    write(`  ${line.service.padEnd(15)} ${line.item.padEnd(78)} ${usd(line.usd)}`);
  write(
    `  ${c.bold(usd(bill.total))} per execution (Step Functions ${usd(bill.byService['Step Functions'])}, Lambda ${usd(bill.byService.Lambda)}, Fargate ${usd(bill.byService.Fargate)}); ${usd(bill.total * parsed.perMonth)} a month at ${parsed.perMonth} executions.`,
  );
  write(
    c.dim(
      `  ${run.transitions} state transitions at the top level. Simulated ${simulated(run.simulatedMs)} in ${Math.round(run.realMs)} ms.`,
    ),
  );
  if (parsed.report) write(`Report: ${parsed.report}`);
  if (!expected) {
    write(ok ? c.green('SUCCEEDED.') : c.red(`${run.status}.`));
    return ok ? 0 : 1;
  }
  write(
    ok
      ? c.green(`As the case expects (${expected.status}${expected.error ? ` ${expected.error}` : ''}).`)
      : c.red(
          `NOT as the case expects: expected ${expected.status}${expected.error ? ` ${expected.error}` : ''}.`,
        ),
  );
  return ok ? 0 : 1;
};
