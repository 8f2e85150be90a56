/*
 * How the world answers the state machines' DynamoDB service integrations
 * (`arn:aws:states:::dynamodb:*`). Kept apart from tasks.ts, with no SDK in reach, so that the
 * integration tier can hold this very code against moto's DynamoDB (tests/integration).
 */
import type { ExpressionInput, Item } from './dynamodb-expressions';
import type { World } from './world';

type Params = Record<string, unknown>;

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
    case 'arn:aws:states:::dynamodb:putItem': {
      const item = p.Item as Item;
      world.putItem(String(p.TableName), world.keyOf(String(p.TableName), item), item, p as never);
      return {};
    }
    case 'arn:aws:states:::dynamodb:getItem': {
      const item = world.item(String(p.TableName), p.Key as Record<string, unknown>);
      return item ? { Item: item } : {};
    }
    case 'arn:aws:states:::dynamodb:deleteItem':
      world.deleteItem(String(p.TableName), p.Key as Record<string, unknown>, p as never);
      return {};
    default:
      throw new Error(`Not a DynamoDB task: ${resource}`);
  }
};

export { World } from './world';
