import { MAX_SYMBOLS_PER_REQUEST } from '@tradai/lambda-kit';
import {
  caseDefinition,
  caseInput,
  MACHINES,
  type MachineName,
  readCases,
  runWorkflow,
  type WorkflowRun,
} from '@tradai/local-aws';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

/** AWS's limits on what a failure leaves behind (Step Functions, DynamoDB, SNS and SQS quotas pages). */
const LIMITS = {
  /** An execution's failure cause (the Fail state's Cause, ExecutionFailed's `cause`). */
  cause: 32_768,
  /** A DynamoDB item: attribute names and values, UTF-8. */
  item: 400 * 1024,
  /** An SNS message, body and attributes. */
  notification: 256 * 1024,
  /** An SQS message, body and attributes; the 1 MiB raise of 2025 is not counted on. */
  dlqMessage: 256 * 1024,
} as const;

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
const itemBytes = (item: Record<string, unknown>) =>
  Object.entries(item).reduce(
    (sum, [name, value]) =>
      sum + bytes(name) + bytes(typeof value === 'string' ? value : JSON.stringify(value)),
    0,
  );

/** The sizes a run's failure left behind, each against its AWS limit. */
const measure = (run: WorkflowRun) => ({
  cause: run.error?.Cause.length ?? 0,
  item: Math.max(0, ...[...run.world.tables.values()].flatMap((table) => [...table.values()]).map(itemBytes)),
  notification: Math.max(
    0,
    ...run.world.published.map(
      (m) =>
        bytes(m.message) + Object.entries(m.attributes).reduce((n, [k, v]) => n + bytes(k) + bytes(v), 0),
    ),
  ),
  dlqMessage: Math.max(
    0,
    ...run.world.queued.map((m) => bytes(typeof m.body === 'string' ? m.body : JSON.stringify(m.body))),
  ),
});

// The longest a ccxt symbol may be (24/24:24-YYMMDD, 81 characters), each one different.
const longestSymbol = fc
  .tuple(
    fc.stringMatching(/^[A-Z0-9]{24}$/),
    fc.stringMatching(/^[A-Z0-9]{24}$/),
    fc.stringMatching(/^[A-Z0-9]{24}$/),
  )
  .map(([base, quote, settle]) => `${base}/${quote}:${settle}-261225`);
const longestSymbols = fc.uniqueArray(longestSymbol, {
  minLength: MAX_SYMBOLS_PER_REQUEST,
  maxLength: MAX_SYMBOLS_PER_REQUEST,
});
const longestId = (length: number) => fc.stringMatching(new RegExp(`^[a-z0-9][a-z0-9_-]{${length - 1}}$`));

/** The case's own input, with the longest names the contracts allow and 50 of the longest symbols. */
const longestInput = (
  machine: MachineName,
  caseName: string,
  symbols: string[],
  id: string,
  experiment: string,
) => {
  const input = caseInput(machine, caseDefinition(machine, caseName));
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const longest: Record<string, unknown> = { ...input };
  if ('symbols' in longest) longest.symbols = symbols;
  if ('run_id' in longest) longest.run_id = id;
  if ('sync_id' in longest) longest.sync_id = id;
  if ('experiment_name' in longest) longest.experiment_name = experiment;
  return longest;
};

const failureCases = MACHINES.flatMap((machine) =>
  Object.entries(readCases(machine).cases)
    .filter(([, { expect: expected }]) => expected.status !== 'SUCCEEDED')
    .map(([caseName]) => ({ machine, caseName })),
);

describe('what a failure leaves behind fits within AWS limits', () => {
  const largest = { cause: 0, item: 0, notification: 0, dlqMessage: 0 };
  const where: Record<string, string> = {};

  it.each(failureCases)(
    '$machine/$caseName, with 50 of the longest symbols and the longest names',
    async ({ machine, caseName }) => {
      await fc.assert(
        fc.asyncProperty(longestSymbols, longestId(64), longestId(128), async (symbols, id, experiment) => {
          // Act
          const run = await runWorkflow({
            machine,
            caseName,
            input: longestInput(machine, caseName, symbols, id, experiment),
          });

          // Assess
          const sizes = measure(run);
          for (const key of Object.keys(LIMITS) as (keyof typeof LIMITS)[]) {
            expect(sizes[key], `${machine}/${caseName} ${key}`).toBeLessThanOrEqual(LIMITS[key]);
            if (sizes[key] > largest[key]) {
              largest[key] = sizes[key];
              where[key] = `${machine}/${caseName} (${run.states.at(-1)})`;
            }
          }
        }),
        { numRuns: 2 },
      );
    },
  );

  // The record of what was measured, not a test: printed once every case above has run.
  afterAll(() => {
    console.info(
      Object.entries(largest)
        .map(
          ([key, size]) => `largest ${key}: ${size} of ${LIMITS[key as keyof typeof LIMITS]}, ${where[key]}`,
        )
        .join('\n'),
    );
  });
});
