import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { EcsBehaviour } from './aws';
import type { BotBehaviour } from './bots';
import { type MachineName, REPO_ROOT, STATE_MACHINES_DIR } from './machines';
import type { ContainerBehaviour, DataCollectionBehaviour, RolloutBehaviour } from './tasks';
import type { TestedRunSeed } from './tested-runs';

/**
 * Step Functions Local's MockConfigFile (`<machine>.mock.json`, beside the ASL):
 *   StateMachines.<machine>.TestCases.<case>.<State> = <MockName>
 *   MockedResponses.<MockName>.<"0" | "1-2"> = { Return: ... } | { Throw: { Error, Cause } }
 * One difference: an invocation no response covers runs the real thing (handler or world), so
 * "fails twice, then succeeds" exercises the real handler on the third attempt.
 */
export interface MockedResponse {
  Return?: unknown;
  Throw?: { Error: string; Cause?: string };
}
export interface MockConfigFile {
  StateMachines: Record<string, { TestCases: Record<string, Record<string, string>> }>;
  MockedResponses: Record<string, Record<string, MockedResponse>>;
}

/** What a case expects and sets up (`<machine>.cases.json`): the part MockConfigFile has no place for. */
export interface CaseDefinition {
  description: string;
  /**
   * A case too large to replay in every suite (Sweep1000): `npm run bench` runs and times it, and
   * fails unless it ends as the case expects; the test suites leave it out.
   */
  heavy?: boolean;
  /** Merged over the sample input (events/<machine>.json); a null value removes the field. */
  input?: Record<string, unknown>;
  /** Replaces the sample input entirely (e.g. a non-object). */
  raw_input?: unknown;
  world?: {
    container?: ContainerBehaviour;
    data_collection?: DataCollectionBehaviour;
    rollout?: RolloutBehaviour;
    /** Trading services to remove from the seeded world. */
    missing_services?: string[];
    /** Workflow-state records that exist before the run: run_id -> attributes (strings). */
    records?: Record<string, Record<string, string>>;
    /** The execution ends outside its ASL when this Task state starts (what AWS does, not the machine). */
    end_outside_asl?: EndOutsideAsl;
    /** The trading bots (bots.ts): their open trades, and whether a deployed bot answers. */
    bot?: BotBehaviour;
    /** Faults of ECS's API. */
    ecs?: EcsBehaviour;
    /** ECR images pushed before the run: `repository:tag` -> `sha256:<64 hex>` (a re-pushed tag). */
    images?: Record<string, string>;
    /** Items of the deploy leases table before the run: key -> attributes (strings). */
    leases?: Record<string, Record<string, string>>;
    /** COMPLETED backtests a deploy rests on, seeded as the backtest machine records them. */
    tested_runs?: Record<string, TestedRunSeed>;
    /**
     * After the execution ends outside its ASL (end_outside_asl), it is redriven: it resumes at
     * the state it ended in, with that state's input (RedriveExecution). Before that, another
     * deploy takes the lease (its execution ARN).
     */
    redrive?: { lease_taken_by: string };
  };
  expect: CaseExpectation;
}
/**
 * ABORTED: an operator's StopExecution. TIMED_OUT: the machine's TimeoutSeconds runs out (the world
 * clock jumps to it). CRASHED: States.Runtime, which no Catch matches (the execution FAILS).
 */
export interface EndOutsideAsl {
  at: string;
  as: 'ABORTED' | 'TIMED_OUT' | 'CRASHED';
  /**
   * ABORTED only: the stop comes this many simulated minutes after `at` starts, not as it starts.
   * `at` may then be a Distributed Map: its children running at that time end ABORTED, with the
   * executions they started, and the items not yet started never start, as when an operator stops
   * a sweep on AWS. Each execution stops at the first state it starts from that time on.
   */
  after_minutes?: number;
}

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface CaseExpectation {
  status: ExecutionStatus;
  /** The execution's error name when FAILED. */
  error?: string;
  /** Every state entered, in order (branch states included). */
  states: string[];
  /** The workflow-state record after the run (a subset of its attributes), or null: no record. */
  record: Record<string, unknown> | null;
  /** The `status` attribute of every SNS message published, in order. */
  notifications: string[];
  /** Messages sent to the workflow DLQ. */
  dlq: number;
}

export interface CasesFile {
  cases: Record<string, CaseDefinition>;
}

const readJson = <T>(file: string): T => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    throw new Error(`Cannot read ${path.relative(REPO_ROOT, file)}: ${(error as Error).message}`);
  }
};

export const mockConfigPath = (machine: MachineName) => path.join(STATE_MACHINES_DIR, `${machine}.mock.json`);
export const casesPath = (machine: MachineName) => path.join(STATE_MACHINES_DIR, `${machine}.cases.json`);
export const sampleInputPath = (machine: MachineName) => path.join(REPO_ROOT, 'events', `${machine}.json`);

export const readMockConfig = (machine: MachineName) => readJson<MockConfigFile>(mockConfigPath(machine));
export const readCases = (machine: MachineName) => readJson<CasesFile>(casesPath(machine));
export const readSampleInput = (machine: MachineName) =>
  readJson<Record<string, unknown>>(sampleInputPath(machine));

/** The response for the `invocation`-th call (0-based) of a mocked state, if one covers it. */
export const responseFor = (
  responses: Record<string, MockedResponse> | undefined,
  invocation: number,
): MockedResponse | undefined => {
  for (const [range, response] of Object.entries(responses ?? {})) {
    const [from, to = from] = range.split('-').map(Number);
    if (from !== undefined && to !== undefined && invocation >= from && invocation <= to) return response;
  }
  return undefined;
};

export const caseInput = (machine: MachineName, definition: CaseDefinition): unknown => {
  if ('raw_input' in definition) return definition.raw_input;
  const input: Record<string, unknown> = { ...readSampleInput(machine), ...definition.input };
  for (const [key, value] of Object.entries(definition.input ?? {})) if (value === null) delete input[key];
  return input;
};
