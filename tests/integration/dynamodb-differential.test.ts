/*
 * The in-memory DynamoDB against moto's, on the machines' own DynamoDB tasks: every updateItem,
 * putItem and deleteItem of every ASL, rendered with generated values, run in sequences (a write,
 * then another by the same execution or another one, a repeat, an expired lease...) through the
 * local engine's answer (packages/local-aws/src/dynamodb-tasks.ts) and through moto. Each step's
 * outcome (written, or ConditionalCheckFailed) and the item after it must be the same.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CreateTableCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { answerDynamoDbTask, World } from '@tradai/local-aws/dynamodb-tasks';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { aws } from './aws';

const REPO = path.resolve(import.meta.dirname, '../..');
type Json = Record<string, unknown>;
interface Task {
  machine: string;
  state: string;
  resource: string;
  parameters: Json;
}

/** Every state of a definition, Parallel branches and Map processors included. */
const statesOf = function* (states: Record<string, Json>): Generator<[string, Json]> {
  for (const [name, state] of Object.entries(states)) {
    yield [name, state];
    for (const branch of (state.Branches as { States: Record<string, Json> }[] | undefined) ?? [])
      yield* statesOf(branch.States);
    for (const key of ['ItemProcessor', 'Iterator'])
      if (state[key]) yield* statesOf((state[key] as { States: Record<string, Json> }).States);
  }
};

const WRITES = ['updateItem', 'putItem', 'deleteItem'].map((op) => `arn:aws:states:::dynamodb:${op}`);
const tasks: Task[] = readdirSync(path.join(REPO, 'state-machines'))
  .filter((file) => file.endsWith('.asl.json'))
  .flatMap((file) => {
    const asl = JSON.parse(readFileSync(path.join(REPO, 'state-machines', file), 'utf8'));
    return [...statesOf(asl.States)]
      .filter(([, state]) => WRITES.includes(String(state.Resource)))
      .map(([state, definition]) => ({
        machine: file.replace('.asl.json', ''),
        state,
        resource: String(definition.Resource),
        parameters: definition.Parameters as Json,
      }));
  });

/** One step's world: the key it writes, the execution writing, and when. */
interface Step {
  key: string;
  owner: string;
  at: number;
}
const iso = (ms: number) => new Date(ms).toISOString();
const KEY_FIELDS = /(run_id|sweep_id|service_name|deployment_id)$/;

/** A JSONPath's value in `step`: the key, the execution, the clock, or a constant of the path. */
const valueAt = (jsonPath: string, type: string, step: Step): string => {
  if (jsonPath === '$$.Execution.Id') return step.owner;
  if (jsonPath === '$$.Execution.Name' || KEY_FIELDS.test(jsonPath)) return step.key;
  if (
    jsonPath === '$$.State.EnteredTime' ||
    jsonPath === '$$.Execution.StartTime' ||
    jsonPath.endsWith('.now')
  )
    return iso(step.at);
  if (jsonPath.endsWith('expires_at')) return iso(step.at + 3_600_000);
  if (type === 'N') return String(Math.floor(step.at / 1000) + (jsonPath.includes('expires') ? 3_600 : 0));
  return `value of ${jsonPath}`;
};

/** The task's Parameters as Step Functions would pass them in `step`, tables named `table`. */
const render = (value: unknown, step: Step, tables: Record<string, string>): unknown => {
  if (Array.isArray(value)) return value.map((item) => render(item, step, tables));
  if (typeof value === 'string')
    return value.replace(/^\$\{(\w+)\}$/, (_, name: string) => tables[name] ?? name);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) =>
      key.endsWith('.$')
        ? [key.slice(0, -2), valueAt(String(inner), key.slice(0, -2), step)]
        : [key, render(inner, step, tables)],
    ),
  );
};

type Outcome = 'written' | 'ConditionalCheckFailed' | `error: ${string}`;

const inMemory = (world: World, task: Task, params: Json): Outcome => {
  try {
    answerDynamoDbTask(world, task.resource, params);
    return 'written';
  } catch (error) {
    return (error as Error).name === 'ConditionalCheckFailed' ||
      (error as Error).constructor.name === 'ConditionalCheckFailed'
      ? 'ConditionalCheckFailed'
      : `error: ${(error as Error).message}`;
  }
};

const onMoto = async (task: Task, params: Json): Promise<Outcome> => {
  const { dynamodb } = aws();
  const { ResultSelector: _selector, ...input } = params as Json;
  const commands: Record<string, () => unknown> = {
    'arn:aws:states:::dynamodb:updateItem': () => new UpdateItemCommand(input as never),
    'arn:aws:states:::dynamodb:putItem': () => new PutItemCommand(input as never),
    'arn:aws:states:::dynamodb:deleteItem': () => new DeleteItemCommand(input as never),
  };
  const command = commands[task.resource]?.();
  try {
    await dynamodb.send(command as never);
    return 'written';
  } catch (error) {
    return (error as Error).name === 'ConditionalCheckFailedException'
      ? 'ConditionalCheckFailed'
      : `error: ${(error as Error).name}: ${(error as Error).message}`;
  }
};

/** An item with its attributes in a stable order. */
const normal = (item: Json | undefined) =>
  item
    ? JSON.stringify(Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b))))
    : null;

describe('the in-memory DynamoDB against moto, on every DynamoDB task of every machine', () => {
  const tables: Record<string, string> = {};
  const keyNames: Record<string, string> = {};

  beforeAll(async () => {
    // A fresh table per table the machines name, with the key the stack gives it.
    const template = JSON.parse(
      readFileSync(
        path.join(inject('moto').packagedDir, 'cloudformation-template-update-stack.json'),
        'utf8',
      ),
    ) as { Resources: Record<string, { Properties: { KeySchema: { AttributeName: string }[] } }> };
    const placeholders = new Set(
      tasks.map((task) => String(task.parameters.TableName).replace(/^\$\{(\w+)\}$/, '$1')),
    );
    for (const placeholder of placeholders) {
      const keyName = template.Resources[placeholder]?.Properties.KeySchema[0]?.AttributeName;
      if (!keyName) throw new Error(`No table ${placeholder} in the stack`);
      tables[placeholder] = `differential-${placeholder}`;
      keyNames[tables[placeholder]] = keyName;
      await aws().dynamodb.send(
        new CreateTableCommand({
          TableName: tables[placeholder],
          KeySchema: [{ AttributeName: keyName, KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: keyName, AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    }
  });

  it('finds the DynamoDB tasks of every machine', () => {
    expect(new Set(tasks.map((task) => task.machine)).size).toBeGreaterThanOrEqual(4);
    expect(tasks.length).toBeGreaterThanOrEqual(15);
  });

  it('gives the same outcome and the same item for every sequence of two writes, by one execution or two, and a repeat', async () => {
    // Unique tasks: many states share their expressions.
    const unique = [
      ...new Map(tasks.map((task) => [JSON.stringify([task.resource, task.parameters]), task])).values(),
    ];
    const byTable = new Map<string, Task[]>();
    for (const task of unique)
      byTable.set(String(task.parameters.TableName), [
        ...(byTable.get(String(task.parameters.TableName)) ?? []),
        task,
      ]);
    const differences: string[] = [];
    let sequences = 0;
    const world = new World({ accountId: '123456789012', region: 'us-east-1', stage: 'dev' });
    for (const [table, key] of Object.entries(keyNames)) world.tableKeys.set(table, key);
    const A = 'arn:aws:states:us-east-1:123456789012:execution:tradai-dev-x:owner-a';
    const B = 'arn:aws:states:us-east-1:123456789012:execution:tradai-dev-x:owner-b';
    /** One sequence, on a key of its own: its two writes, each through both, compared step by step. */
    const runSequence = async (
      first: Task,
      second: Task,
      secondOwner: string,
      gapMinutes: number,
      key: string,
    ) => {
      const start = Date.parse('2026-01-05T09:00:00Z');
      const steps: [Task, Step][] = [
        [first, { key, owner: A, at: start }],
        [second, { key, owner: secondOwner, at: start + gapMinutes * 60_000 }],
      ];
      for (const [index, [task, step]] of steps.entries()) {
        const params = render(task.parameters, step, tables) as Json;
        const table = String(params.TableName);
        const keyOf = { [keyNames[table] as string]: { S: key } };
        const local = inMemory(world, task, params);
        const remote = await onMoto(task, params);
        // The item is compared after the last step: a difference at the first shows in the second's
        // outcome or in the item it leaves.
        const last = index === steps.length - 1;
        const localItem = last ? normal(world.item(table, keyOf) as Json | undefined) : null;
        const { Item } = last
          ? await aws().dynamodb.send(new GetItemCommand({ TableName: table, Key: keyOf }))
          : { Item: undefined };
        const remoteItem = last ? normal(Item as Json | undefined) : null;
        if (local !== remote || localItem !== remoteItem)
          differences.push(
            `${first.machine}/${first.state} then ${second.machine}/${second.state} ` +
              `(${secondOwner === A ? 'same execution' : 'another execution'}, ${gapMinutes} min later), ` +
              `step ${index + 1}: in memory ${local} ${localItem}, moto ${remote} ${remoteItem}`,
          );
      }
    };
    const all: (() => Promise<void>)[] = [];
    // A minute later by the same execution or another; another at the very minute a lease
    // expires (an hour: `expires_at < :now` is false there); another after it expired.
    for (const [, group] of byTable)
      for (const first of group)
        for (const second of group)
          for (const [secondOwner, gapMinutes] of [
            [A, 1],
            [B, 1],
            [B, 60],
            [B, 120],
          ] as const) {
            sequences += 1;
            const key = `seq-${sequences}`;
            all.push(() => runSequence(first, second, secondOwner, gapMinutes, key));
          }
    // Sequences touch keys of their own: eight at a time.
    for (let i = 0; i < all.length; i += 8) await Promise.all(all.slice(i, i + 8).map((run) => run()));
    console.log(
      `${unique.length} distinct DynamoDB tasks of ${tasks.length}, ${sequences} sequences of two writes`,
    );
    expect(sequences).toBeGreaterThan(100);
    expect(differences).toEqual([]);
  });
});
