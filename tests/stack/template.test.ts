import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { dataCollectionProxyInput } from '@tradai/data-collection-proxy';
import { check } from '@tradai/lambda-kit';
import { validateStrategyInput } from '@tradai/validate-strategy';
import { beforeAll, describe, expect, it } from 'vitest';
import { type PackagedStack, packageStack, repoRoot } from './package-stack';

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown };

/** Actions AWS gives no resource-level permissions for: `Resource: "*"` is the only option. */
const NO_RESOURCE_LEVEL_PERMISSIONS = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);

/** What each function's sample event must satisfy: the handler's own input schema. */
const INPUT_SCHEMAS = {
  validateStrategy: validateStrategyInput,
  dataCollectionProxy: dataCollectionProxyInput,
} as const;

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JavaScript
const ARN = 'arn:${AWS::Partition}';
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JavaScript
const REGION_ACCOUNT = '${AWS::Region}:${AWS::AccountId}';

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

let stack: PackagedStack;
const resourcesOfType = (type: string) =>
  Object.entries(stack.template.Resources).filter(([, resource]) => resource.Type === type);

const statementsOf = (roleId: string): Statement[] => {
  const role = stack.template.Resources[roleId];
  const policies = (role?.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
};

const allStatements = (): Statement[] => [
  ...resourcesOfType('AWS::IAM::Role').flatMap(([id]) => statementsOf(id)),
  ...resourcesOfType('AWS::IAM::Policy').flatMap(
    ([, policy]) =>
      (policy.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [],
  ),
];

describe('the packaged stack (sls package, no AWS credentials)', () => {
  beforeAll(() => {
    stack = packageStack();
  });

  it.each([
    ['validateStrategy', 'tradai-dev-validate-strategy', 'ValidateStrategyRole'],
    ['dataCollectionProxy', 'tradai-dev-data-collection-proxy', 'DataCollectionProxyRole'],
  ])('deploys %s as %s on nodejs22.x with its own role', (key, name, roleId) => {
    // Act
    const [, fn] =
      resourcesOfType('AWS::Lambda::Function').find(([, f]) => f.Properties?.FunctionName === name) ?? [];

    // Assess
    expect(fn?.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Role: { 'Fn::GetAtt': [roleId, 'Arn'] },
      TracingConfig: { Mode: 'Active' },
    });
    expect(stack.functions[key]?.name).toBe(name);
  });

  it('gives every function environment variable a literal value, so invoke local needs no stack', () => {
    for (const [, fn] of resourcesOfType('AWS::Lambda::Function')) {
      const environment = fn.Properties?.Environment as { Variables: Record<string, unknown> } | undefined;
      const variables = environment?.Variables ?? {};
      for (const [name, value] of Object.entries(variables)) {
        expect(typeof value, `${String(fn.Properties?.FunctionName)} ${name}`).toBe('string');
      }
    }
  });

  it('ships each function as a bundle of at most 150 KB', () => {
    for (const key of Object.keys(stack.functions)) {
      const zip = path.join(stack.dir, `${key}.zip`);
      expect(statSync(zip).size, key).toBeLessThanOrEqual(150 * 1024);
    }
  });

  it('has no IAM statement with a wildcard action', () => {
    const actions = allStatements().flatMap((statement) => asList(statement.Action));
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => action === '*' || action.endsWith(':*'))).toEqual([]);
  });

  it('uses Resource "*" only for actions that have no resource-level permissions', () => {
    const avoidable = allStatements()
      .filter((statement) => asList(statement.Resource).includes('*'))
      .flatMap((statement) => asList(statement.Action))
      .filter((action) => !NO_RESOURCE_LEVEL_PERMISSIONS.has(action));
    expect(avoidable).toEqual([]);
  });

  it('lets validate-strategy describe only the strategy repositories and read only strategy configs', () => {
    // Act
    const statements = statementsOf('ValidateStrategyRole');
    const bySid = Object.fromEntries(statements.map((statement) => [statement.Sid, statement]));

    // Assess
    expect(bySid.DescribeStrategyImages).toMatchObject({
      Action: 'ecr:DescribeImages',
      Resource: { 'Fn::Sub': `${ARN}:ecr:${REGION_ACCOUNT}:repository/tradai/strategies/*` },
    });
    expect(bySid.ReadStrategyConfigs).toMatchObject({
      Action: 's3:GetObject',
      Resource: { 'Fn::Sub': `${ARN}:s3:::tradai-dev-strategies/strategies/*` },
    });
    expect(statements.flatMap((s) => asList(s.Action)).sort()).toEqual(
      [
        'ecr:DescribeImages',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:GetObject',
        's3:ListBucket',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
  });

  it('lets data-collection-proxy read only the dataset manifests', () => {
    // Act
    const statements = statementsOf('DataCollectionProxyRole');

    // Assess
    expect(statements.find((s) => s.Sid === 'ReadDatasetManifests')).toMatchObject({
      Action: 's3:GetObject',
      Resource: { 'Fn::Sub': `${ARN}:s3:::tradai-dev-market-data/datasets/*/manifest.json` },
    });
    expect(statements.flatMap((s) => asList(s.Action))).not.toContain('ecr:DescribeImages');
  });

  it('has a sample event for every function that its handler accepts', () => {
    for (const [key, fn] of Object.entries(stack.functions)) {
      const packageName = fn.handler.split('/')[1] ?? '';
      const eventFile = path.join(repoRoot, 'events', `${packageName}.json`);
      expect(existsSync(eventFile), eventFile).toBe(true);
      const schema = INPUT_SCHEMAS[key as keyof typeof INPUT_SCHEMAS];
      expect(schema, `input schema for ${key}`).toBeDefined();
      expect(check(schema, JSON.parse(readFileSync(eventFile, 'utf8'))).ok, eventFile).toBe(true);
    }
  });
});
