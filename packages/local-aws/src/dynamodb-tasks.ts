/*
 * How the world answers the state machines' DynamoDB service integrations
 * (`arn:aws:states:::dynamodb:*`). Kept apart from tasks.ts, with no SDK in reach, so that the
 * integration tier can hold this very code against moto's DynamoDB (tests/integration).
 */
import { type ExpressionInput, type Item, unmarshall } from './dynamodb-expressions';
import type { World } from './world';

type Params = Record<string, unknown>;

/** A key's value as the change log names it: `{ service_name: { S: 'x' } }` -> `x`. */
const keyName = (key: Record<string, unknown>): string => {
  const value = Object.values(key)[0] as { S?: string; N?: string } | undefined;
  return value?.S ?? value?.N ?? JSON.stringify(key);
};

export const DYNAMODB_TASKS = [
  'arn:aws:states:::dynamodb:updateItem',
  'arn:aws:states:::dynamodb:putItem',
  'arn:aws:states:::dynamodb:getItem',
  'arn:aws:states:::dynamodb:deleteItem',
] as const;

/** The task's answer, or a ConditionalCheckFailed (dynamodb-expressions.ts) when its condition fails. */
export const answerDynamoDbTask = (world: World, resource: string, p: Params): Record<string, unknown> => {
  switch (resource) {
    case 'arn:aws:states:::dynamodb:updateItem':
      world.updateItem(
        String(p.TableName),
        p.Key as Record<string, { S: string }>,
        p as unknown as ExpressionInput,
      );
      return {};
    // A machine's PutItem and DeleteItem are logged as changes (a deploy's lease: taken, released);
    // the handlers' own, through the SDK (aws.ts), are deduplication claims and are not.
    case 'arn:aws:states:::dynamodb:putItem': {
      const table = String(p.TableName);
      const item = p.Item as Item;
      const key = world.keyOf(table, item);
      world.putItem(table, key, item, p as never);
      world.changes.push({ kind: 'dynamodb:put', table, key: keyName(key), item: unmarshall(item) });
      return {};
    }
    case 'arn:aws:states:::dynamodb:getItem': {
      const item = world.item(String(p.TableName), p.Key as Record<string, unknown>);
      return item ? { Item: item } : {};
    }
    case 'arn:aws:states:::dynamodb:deleteItem': {
      const table = String(p.TableName);
      const key = p.Key as Record<string, unknown>;
      const existed = world.item(table, key) !== undefined;
      world.deleteItem(table, key, p as never);
      if (existed) world.changes.push({ kind: 'dynamodb:delete', table, key: keyName(key) });
      return {};
    }
    default:
      throw new Error(`Not a DynamoDB task: ${resource}`);
  }
};

export { World } from './world';
