import { readFileSync } from 'node:fs';
import path from 'node:path';
import './polyfills';
import {
  DEFAULT_REGION,
  localStack,
  type MachineName,
  note,
  notedBefore,
  REPO_ROOT,
  MACHINES as STACK_MACHINES,
  stampOf,
} from '@tradai/stack';
import { StateMachine } from 'aws-local-stepfunctions';

export { REPO_ROOT };
export const STATE_MACHINES_DIR = path.join(REPO_ROOT, 'state-machines');

/** The machines of the stack, by name (packages/stack/src/declaration.ts). */
export const MACHINES: readonly MachineName[] = STACK_MACHINES.map(({ file }) => file);
export type { MachineName };

/** The account, region and stage the local world plays. */
export const LOCAL = { accountId: '123456789012', region: DEFAULT_REGION, stage: 'local' } as const;

/** The stack in the local account: names, ARNs, environments and substitutions, as deployed there. */
export const LOCAL_STACK = localStack(LOCAL);

/**
 * What `DefinitionSubstitutions` puts into the ASL on AWS, resolved for the local account: every
 * machine's, from the stack. The Lambda ARNs name the functions whose real handlers answer in
 * process (handlers.ts).
 */
export const LOCAL_SUBSTITUTIONS: Record<string, string> = Object.assign(
  {},
  ...STACK_MACHINES.map((machine) => LOCAL_STACK.substitutionsOf(machine)),
);

/** The machine of a local state machine ARN, if the stack declares one. */
export const machineOfArn = (arn: string): MachineName | undefined =>
  STACK_MACHINES.find((machine) => LOCAL_STACK.stateMachineArn(machine) === arn)?.file;

export const aslPath = (machine: MachineName) => path.join(STATE_MACHINES_DIR, `${machine}.asl.json`);

/** The ASL file as committed, `${...}` placeholders included. */
export const readAsl = (machine: MachineName): AslDefinition =>
  JSON.parse(readFileSync(aslPath(machine), 'utf8'));

/** Placeholders in an ASL text, in order of first use. */
export const placeholdersOf = (text: string): string[] => [
  ...new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1] as string)),
];

export const substitute = (text: string, values: Record<string, string>): string =>
  text.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`No local value for placeholder \${${name}}`);
    return value;
  });

export const resolvedAsl = (machine: MachineName): AslDefinition =>
  JSON.parse(substitute(readFileSync(aslPath(machine), 'utf8'), LOCAL_SUBSTITUTIONS));

const cache = new Map<MachineName, StateMachine>();

/*
 * Validating a definition compiles the ASL's JSON schema, about 400 ms, once a process. The engine
 * notes each definition it has validated by its hash (the stack's local cache): one validated
 * before, unchanged since, is not validated again (an edited ASL is: its hash is new). The workflow
 * tests validate every machine with asl-validator on each run regardless (tests/asl.test.ts).
 */

/** One StateMachine per machine and process, its definition validated unless it was before. */
export const stateMachine = (
  machine: MachineName,
  prepare: (definition: AslDefinition) => AslDefinition = (definition) => definition,
): StateMachine => {
  let built = cache.get(machine);
  if (!built) {
    const definition = prepare(resolvedAsl(machine));
    const stamp = `${machine}-${stampOf(JSON.stringify(definition))}`;
    const skip = notedBefore(stamp);
    built = new StateMachine(definition as never, { validationOptions: { noValidate: skip } });
    if (!skip) note(stamp);
    cache.set(machine, built);
  }
  return built;
};

// --- a minimal ASL model, enough to walk a definition ---
export interface AslState {
  Type: string;
  Resource?: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Record<string, unknown>[];
  Catch?: { ErrorEquals: string[]; ResultPath?: string | null; Next: string }[];
  Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number }[];
  Branches?: AslDefinition[];
  [field: string]: unknown;
}
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
  Comment?: string;
}

/**
 * The definitions whose states run inside a state, in its execution: a Parallel state's branches,
 * an inline Map's iterator (ItemProcessor, or Iterator). A Distributed Map's ItemProcessor runs as
 * child executions, each with an event log of its own: not here.
 */
const innerDefinitions = (state: AslState): AslDefinition[] => {
  if (state.Type === 'Parallel') return state.Branches ?? [];
  if (state.Type !== 'Map') return [];
  const processor = (state.ItemProcessor ?? state.Iterator) as
    | (AslDefinition & { ProcessorConfig?: { Mode?: string } })
    | undefined;
  return processor && processor.ProcessorConfig?.Mode !== 'DISTRIBUTED' ? [processor] : [];
};

/**
 * Every state of a definition, Parallel branches and inline Maps' iterations included, with the
 * name it has in the event log.
 */
export const allStates = (definition: AslDefinition): [string, AslState][] =>
  Object.entries(definition.States).flatMap(([name, state]) => [
    [name, state] as [string, AslState],
    ...innerDefinitions(state).flatMap((inner) => allStates(inner)),
  ]);
