import { readFileSync } from 'node:fs';
import { SPEC_TEST_INPUT } from '@tradai/lambda-kit/testing';
import { type AslDefinition, MACHINES, readAsl } from '@tradai/local-aws';
import { describe, expect, it } from 'vitest';
import { checkPaths, RESULT_EXAMPLES } from '../src';

const specMachine = (file: string): AslDefinition =>
  JSON.parse(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8'));

const specTestInput = SPEC_TEST_INPUT;

/** The spec's Lambda ARNs answer like ours; its PrepareConfig is an ECS task. */
const specResults = {
  ...RESULT_EXAMPLES,
  'arn:aws:lambda:us-east-1:${AccountId}:function:tradai-validate-strategy': { valid: true, ecr_url: 'x' },
  'arn:aws:lambda:us-east-1:${AccountId}:function:tradai-data-collection-proxy':
    RESULT_EXAMPLES['${DataCollectionProxyArn}'],
  'arn:aws:lambda:us-east-1:${AccountId}:function:tradai-transform-results':
    RESULT_EXAMPLES['${TransformResultsArn}'],
  'arn:aws:lambda:us-east-1:${AccountId}:function:tradai-cleanup-resources': {},
  'arn:aws:lambda:us-east-1:${AccountId}:function:tradai-notify-completion': {},
};

describe('JSONPath check', () => {
  it.each(MACHINES)(
    'proves every path %s reads exists on every way into its state, whatever the input',
    (machine) => {
      // Act: the input is "any JSON value" (the first state reads only `$`)
      const { problems, inputs } = checkPaths(readAsl(machine), 'any JSON value');

      // Assess
      expect(problems).toEqual([]);
      const reachable = Object.keys(readAsl(machine).States).filter((name) => inputs.has(name));
      expect(reachable).toEqual(Object.keys(readAsl(machine).States));
    },
  );

  it("finds the spec's v8.0 defects: PrepareConfig reads ECS overrides, CleanupAfterFailure reads a result that may not exist", () => {
    // Act
    const { problems } = checkPaths(specMachine('spec-backtest-v8.0.asl.json'), specTestInput, specResults);

    // Assess
    const found = problems.map(({ state, path }) => `${state} ${path}`);
    expect(found).toEqual([
      'PrepareConfig $.Overrides.ContainerOverrides[0].Environment',
      'PrepareConfig $.Overrides.ContainerOverrides[0].Environment',
      'CleanupAfterFailure $.prepare_result.config_path',
    ]);
  });

  it("finds the spec's v9.2 defect: RunBacktest reads start_date, which the spec's own test input does not have", () => {
    // Act
    const { problems } = checkPaths(specMachine('spec-backtest-v9.2.asl.json'), specTestInput, specResults);

    // Assess
    expect(problems.map(({ state, path }) => `${state} ${path}`)).toEqual(
      expect.arrayContaining(['RunBacktest $.start_date', 'RunBacktest $.end_date']),
    );
  });

  it('flags a path that exists on the happy path but not after a Catch', () => {
    // Prepare: CleanupAfterFailure is reached from PrepareConfig's Catch, before `prepared` exists
    const definition = readAsl('backtest');
    const cleanup = definition.States.CleanupAfterFailure as unknown as {
      Parameters: Record<string, string>;
    };
    cleanup.Parameters['config_path.$'] = '$.prepared.config_path';

    // Act
    const { problems } = checkPaths(definition, 'any JSON value');

    // Assess
    expect(problems).toEqual([
      expect.objectContaining({ state: 'CleanupAfterFailure', path: '$.prepared.config_path' }),
    ]);
  });

  it('flags a Choice that reads a field before testing that it is present', () => {
    // Prepare: drop the presence rule of EvaluateChecks, and let the validation answer lack `valid`
    const definition = readAsl('backtest');
    const choice = definition.States.EvaluateChecks as { Choices: unknown[] };
    choice.Choices.splice(0, 1);
    const results = { ...RESULT_EXAMPLES, '${ValidateStrategyArn}': { reasons: [] } };

    // Act
    const { problems } = checkPaths(definition, 'any JSON value', results);

    // Assess
    expect(problems.map((p) => p.path)).toContain('$.checks.validation.valid');
  });
});
