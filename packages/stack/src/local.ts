/*
 * The stack with local values: what the functions' environment and the machines'
 * DefinitionSubstitutions resolve to in a stage of an account, read from the same declaration and
 * the same files `sls` reads (serverless.yml's `custom`, resources/storage.yml), with no AWS.
 * The local engine (packages/local-aws) runs on it, so its names cannot drift from the stack's.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FUNCTIONS, MACHINES } from './declaration';
import { cachedJson, stampOf } from './local-cache';
import { functionLogicalId, REPO_ROOT, substitutionsOf } from './serverless';
import type { FunctionDeclaration, MachineDeclaration } from './types';

export interface LocalAccount {
  stage: string;
  region: string;
  accountId: string;
}

interface ResourceDeclaration {
  Type: string;
  Properties?: Record<string, unknown>;
}

/**
 * A YAML file of the stack, parsed. Parsing serverless.yml and storage.yml with `yaml` (the library
 * and the parse) is a tenth of the simulator's start-up, so the result is cached by the text's hash,
 * and the library is loaded only when the text has changed since.
 */
const readYaml = (file: string) => {
  const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
  return cachedJson(`yaml-${stampOf(text)}.json`, () => {
    const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    return parse(text);
  });
};

/** An innermost `${...}`: one that holds no other. */
const INNERMOST = /\$\{([^${}]*)\}/;

export interface LocalStack {
  account: LocalAccount;
  /** A value of the declaration with every Framework variable and CloudFormation function resolved. */
  resolve: (value: unknown) => unknown;
  functionName: (fn: FunctionDeclaration) => string;
  functionArn: (fn: FunctionDeclaration) => string;
  /** The function's environment as the stack deploys it. */
  environmentOf: (fn: FunctionDeclaration) => Record<string, string>;
  /** The function's memory and timeout: its own, or the provider's defaults in serverless.yml. */
  memoryMbOf: (fn: FunctionDeclaration) => number;
  timeoutSecondsOf: (fn: FunctionDeclaration) => number;
  /** The machine's DefinitionSubstitutions, resolved. */
  substitutionsOf: (machine: MachineDeclaration) => Record<string, string>;
  stateMachineArn: (machine: MachineDeclaration) => string;
  /** Each DynamoDB table of the stack, by its name: the attribute its items are keyed by. */
  tableKeys: Record<string, string>;
}

export const localStack = (account: LocalAccount): LocalStack => {
  const { stage, region, accountId } = account;
  const { custom, provider } = readYaml('serverless.yml') as {
    custom: Record<string, unknown>;
    provider: { memorySize: number; timeout: number };
  };
  const storage: Record<string, ResourceDeclaration> = readYaml(
    'packages/stack/resources/storage.yml',
  ).Resources;

  /**
   * The Framework's variables, innermost first: `${sls:stage}`, `${self:custom.x}`, and
   * `${env:X, 'default'}` as its default (a local run does not depend on the caller's shell);
   * inside Fn::Sub, CloudFormation's pseudo parameters.
   */
  /** `self:custom.a.b` (a path), or undefined when serverless.yml has no such value. */
  const customValue = (name: string): string | undefined => {
    let value: unknown = custom;
    for (const key of name.slice('self:custom.'.length).split('.')) {
      value =
        typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    }
    return value === undefined ? undefined : resolveText(String(value));
  };
  const variable = (expression: string): string => {
    // A quoted default, commas and all.
    if (/^\s*'/.test(expression)) return expression.trim().replace(/^'(.*)'$/s, '$1');
    const [source, ...rest] = expression.split(',');
    const name = (source ?? '').trim();
    if (name === 'sls:stage') return stage;
    if (name.startsWith('self:custom.')) {
      const value = customValue(name);
      if (value !== undefined) return value;
      if (rest.length === 0) throw new Error(`serverless.yml has no custom.${name.slice(12)}`);
      return variable(rest.join(','));
    }
    if (name.startsWith('env:')) {
      // A local run does not depend on the caller's shell: the first fallback that resolves.
      if (rest.length === 0) throw new Error(`\${${expression}} has no default to run locally with`);
      return variable(rest.join(','));
    }
    if (name === 'AWS::Region') return region;
    if (name === 'AWS::AccountId') return accountId;
    if (name === 'AWS::Partition') return 'aws';
    throw new Error(`No local value for \${${expression}}`);
  };
  const resolveText = (text: string): string => {
    let resolved = text;
    for (let match = INNERMOST.exec(resolved); match; match = INNERMOST.exec(resolved)) {
      resolved = resolved.replace(match[0], variable(match[1] as string));
    }
    return resolved;
  };

  const functionName = (fn: FunctionDeclaration) => `tradai-${stage}-${fn.package}`;
  const functionArn = (fn: FunctionDeclaration) =>
    `arn:aws:lambda:${region}:${accountId}:function:${functionName(fn)}`;
  const stateMachineArn = (machine: MachineDeclaration) =>
    `arn:aws:states:${region}:${accountId}:stateMachine:${resolveText(machine.name)}`;

  /** What `Ref` returns for a resource of the stack: a table's name, a queue's URL, a machine's ARN. */
  const ref = (logicalId: string): string => {
    const machine = MACHINES.find(({ id }) => id === logicalId);
    if (machine) return stateMachineArn(machine);
    const resource = storage[logicalId];
    const property = (name: string) => resolveText(String(resource?.Properties?.[name]));
    switch (resource?.Type) {
      case 'AWS::DynamoDB::Table':
        return property('TableName');
      case 'AWS::SQS::Queue':
        return `https://sqs.${region}.amazonaws.com/${accountId}/${property('QueueName')}`;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${region}:${accountId}:${property('TopicName')}`;
      default:
        throw new Error(`No local value for Ref ${logicalId}`);
    }
  };
  const getAtt = ([logicalId, attribute]: [string, string]): string => {
    const fn = FUNCTIONS.find((candidate) => functionLogicalId(candidate) === logicalId);
    if (fn && attribute === 'Arn') return functionArn(fn);
    throw new Error(`No local value for Fn::GetAtt ${logicalId}.${attribute}`);
  };

  const resolve = (value: unknown): unknown => {
    if (typeof value === 'string') return resolveText(value);
    if (Array.isArray(value)) return value.map(resolve);
    if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (typeof record.Ref === 'string') return ref(record.Ref);
      if (Array.isArray(record['Fn::GetAtt'])) return getAtt(record['Fn::GetAtt'] as [string, string]);
      if (typeof record['Fn::Sub'] === 'string') return resolveText(record['Fn::Sub']);
      return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, resolve(item)]));
    }
    return value;
  };
  const asStrings = (value: unknown) => resolve(value) as Record<string, string>;
  const tableKeys = Object.fromEntries(
    Object.entries(storage)
      .filter(([, resource]) => resource.Type === 'AWS::DynamoDB::Table')
      .map(([logicalId, resource]) => {
        const [hash] = (resource.Properties?.KeySchema ?? []) as { AttributeName: string }[];
        if (!hash) throw new Error(`Table ${logicalId} declares no KeySchema`);
        return [ref(logicalId), hash.AttributeName];
      }),
  );

  return {
    account,
    resolve,
    functionName,
    functionArn,
    environmentOf: (fn) => asStrings(fn.environment),
    memoryMbOf: (fn) => fn.memorySize ?? provider.memorySize,
    timeoutSecondsOf: (fn) => fn.timeout ?? provider.timeout,
    substitutionsOf: (machine) => asStrings(substitutionsOf(machine)),
    stateMachineArn,
    tableKeys,
  };
};
