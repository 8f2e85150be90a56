/**
 * The slice of DynamoDB's expression language our state machines use, evaluated for real so
 * workflow tests prove the condition expressions (a terminal status is never overwritten, a
 * repeated write is harmless) instead of trusting a canned answer.
 *
 *   update:    SET a = :v, #b = if_not_exists(b, :v)
 *   condition: attribute_exists(p) | attribute_not_exists(p) | p = q | p <> q | p < q (<=, >, >=)
 *              | p IN (q, ...)
 *              combined with AND, OR, NOT and parentheses
 */

export type AttributeValue = Record<string, unknown>;
export type Item = Record<string, AttributeValue>;

export interface ExpressionInput {
  UpdateExpression: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
}

export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DynamoDB.AmazonDynamoDBException';
  }
}

const TOKEN = /\s*(\(|\)|,|<>|<=|>=|<|>|=|[#:]?[A-Za-z_][A-Za-z0-9_]*)/y;

const tokenize = (text: string): string[] => {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (!match?.[1]) throw new ExpressionError(`Unsupported expression near "${text.slice(start)}"`);
    tokens.push(match[1]);
  }
  return tokens;
};

class Parser {
  private position = 0;
  constructor(
    private readonly tokens: string[],
    private readonly input: ExpressionInput,
  ) {}

  peek(): string | undefined {
    return this.tokens[this.position];
  }
  next(): string {
    const token = this.tokens[this.position++];
    if (token === undefined) throw new ExpressionError('Unexpected end of expression');
    return token;
  }
  expect(token: string) {
    const found = this.next();
    if (found.toUpperCase() !== token) throw new ExpressionError(`Expected ${token}, found ${found}`);
  }
  done() {
    if (this.position !== this.tokens.length) throw new ExpressionError(`Unexpected ${this.peek()}`);
  }

  name(token: string): string {
    if (token.startsWith('#')) {
      const resolved = this.input.ExpressionAttributeNames?.[token];
      if (!resolved) throw new ExpressionError(`${token} is not in ExpressionAttributeNames`);
      return resolved;
    }
    if (token.startsWith(':')) throw new ExpressionError(`${token} is a value, not an attribute`);
    if (RESERVED.has(token.toUpperCase())) {
      throw new ExpressionError(`Attribute name is a reserved keyword; reserved keyword: ${token}`);
    }
    return token;
  }
  value(token: string): AttributeValue {
    const value = this.input.ExpressionAttributeValues?.[token];
    if (!value) throw new ExpressionError(`${token} is not in ExpressionAttributeValues`);
    return value;
  }
  operand(item: Item | undefined): AttributeValue | undefined {
    const token = this.next();
    return token.startsWith(':') ? this.value(token) : item?.[this.name(token)];
  }

  // condition := or ; or := and (OR and)* ; and := unary (AND unary)* ; unary := NOT unary | primary
  condition(item: Item | undefined): boolean {
    let result = this.conjunction(item);
    while (this.peek()?.toUpperCase() === 'OR') {
      this.next();
      const right = this.conjunction(item);
      result = result || right;
    }
    return result;
  }
  conjunction(item: Item | undefined): boolean {
    let result = this.unary(item);
    while (this.peek()?.toUpperCase() === 'AND') {
      this.next();
      const right = this.unary(item);
      result = result && right;
    }
    return result;
  }
  unary(item: Item | undefined): boolean {
    if (this.peek()?.toUpperCase() === 'NOT') {
      this.next();
      return !this.unary(item);
    }
    return this.primary(item);
  }
  primary(item: Item | undefined): boolean {
    const token = this.peek();
    if (token === '(') {
      this.next();
      const result = this.condition(item);
      this.expect(')');
      return result;
    }
    if (token === 'attribute_exists' || token === 'attribute_not_exists') {
      this.next();
      this.expect('(');
      const attribute = this.name(this.next());
      this.expect(')');
      const exists = item?.[attribute] !== undefined;
      return token === 'attribute_exists' ? exists : !exists;
    }
    const left = this.operand(item);
    const operator = this.next();
    if (operator === '=' || operator === '<>') {
      const equal = same(left, this.operand(item));
      return operator === '=' ? equal : !equal;
    }
    if (['<', '<=', '>', '>='].includes(operator)) return ordered(left, operator, this.operand(item));
    if (operator.toUpperCase() === 'IN') {
      this.expect('(');
      const candidates = [this.operand(item)];
      while (this.peek() === ',') {
        this.next();
        candidates.push(this.operand(item));
      }
      this.expect(')');
      return candidates.some((candidate) => same(left, candidate));
    }
    throw new ExpressionError(`Unsupported operator ${operator}`);
  }

  // update := SET assignment (, assignment)*
  update(item: Item | undefined): Item {
    const updated: Item = { ...item };
    this.expect('SET');
    do {
      const attribute = this.name(this.next());
      this.expect('=');
      const token = this.peek();
      if (token === 'if_not_exists') {
        this.next();
        this.expect('(');
        const existing = this.name(this.next());
        this.expect(',');
        const fallback = this.value(this.next());
        this.expect(')');
        updated[attribute] = item?.[existing] ?? fallback;
      } else {
        updated[attribute] = this.value(this.next());
      }
    } while (this.peek() === ',' && this.next());
    return updated;
  }
}

/**
 * DynamoDB's comparators: strings by their UTF-8 bytes, numbers by value; operands of different
 * types, or a missing attribute, make the comparison false.
 */
const ordered = (a: AttributeValue | undefined, operator: string, b: AttributeValue | undefined): boolean => {
  let order: number;
  if (typeof a?.S === 'string' && typeof b?.S === 'string') {
    order = Buffer.compare(Buffer.from(a.S, 'utf8'), Buffer.from(b.S, 'utf8'));
  } else if (typeof a?.N === 'string' && typeof b?.N === 'string') {
    order = Math.sign(Number(a.N) - Number(b.N));
  } else return false;
  return { '<': order < 0, '<=': order <= 0, '>': order > 0, '>=': order >= 0 }[operator] ?? false;
};

const same = (a: AttributeValue | undefined, b: AttributeValue | undefined) =>
  a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b);

/** The reserved words our table's attribute names could collide with (the full list has 573). */
const RESERVED = new Set([
  'RESULT',
  'STATUS',
  'NAME',
  'DATA',
  'ERROR',
  'TIMESTAMP',
  'STATE',
  'VALUE',
  'COUNT',
]);

export class ConditionalCheckFailed extends Error {
  constructor() {
    super('The conditional request failed');
    this.name = 'DynamoDB.ConditionalCheckFailedException';
  }
}

/** Throws ConditionalCheckFailed unless `input`'s ConditionExpression (if any) holds for `item`. */
export const checkCondition = (item: Item | undefined, input: Omit<ExpressionInput, 'UpdateExpression'>) => {
  if (!input.ConditionExpression) return;
  const parser = new Parser(tokenize(input.ConditionExpression), { UpdateExpression: '', ...input });
  const holds = parser.condition(item);
  parser.done();
  if (!holds) throw new ConditionalCheckFailed();
};

/** Applies one UpdateItem to `item` (undefined: no item yet), as DynamoDB would. */
export const applyUpdate = (item: Item | undefined, input: ExpressionInput): Item => {
  checkCondition(item, input);
  const parser = new Parser(tokenize(input.UpdateExpression), input);
  const updated = parser.update(item);
  parser.done();
  return updated;
};

/** `{ status: { S: 'RUNNING' } }` -> `{ status: 'RUNNING' }` (S, N, BOOL, NULL, M, L). */
export const unmarshall = (item: Item): Record<string, unknown> =>
  Object.fromEntries(Object.entries(item).map(([key, value]) => [key, plain(value)]));

const plain = (value: AttributeValue): unknown => {
  if ('S' in value) return value.S;
  if ('N' in value) return Number(value.N);
  if ('BOOL' in value) return value.BOOL;
  if ('NULL' in value) return null;
  if ('M' in value) return unmarshall(value.M as Item);
  if ('L' in value) return (value.L as AttributeValue[]).map(plain);
  return value;
};
