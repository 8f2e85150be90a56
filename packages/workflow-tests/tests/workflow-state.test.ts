import { applyUpdate, type Item, readAsl } from '@tradai/local-aws';
import { describe, expect, it } from 'vitest';

const ARN = 'arn:aws:states:us-east-1:123456789012:execution:tradai-dev-backtest:run-42';
const OTHER = 'arn:aws:states:us-east-1:123456789012:execution:tradai-dev-backtest:run-42-again';

/** A DynamoDB write exactly as the ASL state makes it, with `.$` values resolved for `executionArn`. */
const write = (machine: 'backtest' | 'backtest-simplified', state: string, executionArn: string) => {
  const parameters = readAsl(machine).States[state]?.Parameters as {
    UpdateExpression: string;
    ConditionExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Record<string, Record<string, string>>;
  };
  const values = Object.fromEntries(
    Object.entries(parameters.ExpressionAttributeValues).map(([name, value]) => {
      if ('S' in value) return [name, value];
      const path = value['S.$'] ?? '';
      const resolved =
        path === '$$.Execution.Id' ? executionArn : `${path} of ${executionArn.split(':').at(-1)}`;
      return [name, { S: resolved }];
    }),
  );
  return (item: Item | undefined) => applyUpdate(item, { ...parameters, ExpressionAttributeValues: values });
};

const full = (state: string, arn = ARN) => write('backtest', state, arn);
const status = (item: Item) => item.status?.S;

describe('workflow-state condition expressions (as the ASL writes them)', () => {
  it('moves a run PENDING -> RUNNING -> COMPLETED', () => {
    const pending: Item = { run_id: { S: 'run-42' }, status: { S: 'PENDING' } };
    const running = full('RecordRunning')(pending);
    const completed = full('RecordCompleted')(running);
    expect([status(running), status(completed)]).toEqual(['RUNNING', 'COMPLETED']);
    expect(completed.result?.S).toContain('$.result');
  });

  it('lets the same execution repeat each write harmlessly (a retry after an ambiguous timeout)', () => {
    const running = full('RecordRunning')(undefined);
    expect(status(full('RecordRunning')(running))).toBe('RUNNING');
    const completed = full('RecordCompleted')(running);
    expect(full('RecordCompleted')(completed)).toEqual(completed);
    const failed = full('RecordFailure')(running);
    expect(full('RecordFailure')(failed)).toEqual(failed);
  });

  it('never overwrites a terminal status', () => {
    const completed = full('RecordCompleted')(full('RecordRunning')(undefined));
    const failed = full('RecordFailure')(full('RecordRunning')(undefined));
    expect(() => full('RecordFailure')(completed)).toThrow(
      expect.objectContaining({ name: 'DynamoDB.ConditionalCheckFailedException' }),
    );
    expect(() => full('RecordRunning')(completed)).toThrow(
      expect.objectContaining({ name: 'DynamoDB.ConditionalCheckFailedException' }),
    );
    expect(() => full('RecordCompleted')(failed)).toThrow(
      expect.objectContaining({ name: 'DynamoDB.ConditionalCheckFailedException' }),
    );
    expect(() => full('RecordRunning')(failed)).toThrow(
      expect.objectContaining({ name: 'DynamoDB.ConditionalCheckFailedException' }),
    );
    const simplified = (state: string, arn = ARN) => write('backtest-simplified', state, arn);
    const verified = simplified('ConfirmCompleted')(completed);
    expect(() => simplified('RecordFailure')(verified)).toThrow(
      expect.objectContaining({ name: 'DynamoDB.ConditionalCheckFailedException' }),
    );
    expect(() => simplified('RecordFailure', OTHER)(completed)).toThrow(
      expect.objectContaining({ name: 'DynamoDB.ConditionalCheckFailedException' }),
    );
  });

  it("lets the simplified machine fail its own run whose container's COMPLETED it has not verified", () => {
    const completedByContainer: Item = {
      run_id: { S: 'run-42' },
      status: { S: 'COMPLETED' },
      execution_arn: { S: ARN },
    };
    expect(status(write('backtest-simplified', 'RecordFailure', ARN)(completedByContainer))).toBe('FAILED');
  });

  it.each(['backtest', 'backtest-simplified'] as const)(
    "never lets %s's RecordFailure take another execution's RUNNING run",
    (machine) => {
      const running = full('RecordRunning', OTHER)(undefined);
      expect(() => write(machine, 'RecordFailure', ARN)(running)).toThrow(
        expect.objectContaining({ name: 'DynamoDB.ConditionalCheckFailedException' }),
      );
      const pendingOfTrigger: Item = { run_id: { S: 'run-42' }, status: { S: 'PENDING' } };
      expect(status(write(machine, 'RecordFailure', ARN)(pendingOfTrigger))).toBe('FAILED');
    },
  );

  it('keeps a run owned by the execution that started it', () => {
    const running = full('RecordRunning')(undefined);
    expect(() => full('RecordRunning', OTHER)(running)).toThrow(
      expect.objectContaining({ name: 'DynamoDB.ConditionalCheckFailedException' }),
    );
    expect(() => full('RecordCompleted', OTHER)(running)).toThrow(
      expect.objectContaining({ name: 'DynamoDB.ConditionalCheckFailedException' }),
    );
    const failed = full('RecordFailure')(running);
    expect(() => full('RecordFailure', OTHER)(failed)).toThrow(
      expect.objectContaining({ name: 'DynamoDB.ConditionalCheckFailedException' }),
    );
  });

  it("rejects the spec's UpdateStateCompleted, which names the reserved word result unaliased", () => {
    expect(() =>
      applyUpdate(undefined, {
        UpdateExpression: 'SET #status = :status, completed_at = :completed, result = :result',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':status': { S: 'COMPLETED' },
          ':completed': { S: 't' },
          ':result': { S: '{}' },
        },
      }),
    ).toThrow(/reserved keyword: result/);
  });
});
