import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { startNamedExecution } from '../../src/start-execution';
import { awsError } from '../../src/testing';

const sfnMock = mockClient(SFNClient);
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:tradai-dev-backtest-sweep';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-backtest-sweep:grid-6';
const start = () =>
  startNamedExecution(new SFNClient({}), {
    stateMachineArn: MACHINE,
    name: 'grid-6',
    input: '{"a":1,"b":2}',
  });
const exists = () => new ExecutionAlreadyExists({ message: 'exists', $metadata: {} });

describe('startNamedExecution', () => {
  beforeEach(() => sfnMock.reset());

  it('starts the execution named so, and answers a running repeat (Step Functions: the same ARN) as started', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXECUTION });
    await expect(start()).resolves.toEqual({ started: true, executionArn: EXECUTION });
    expect(sfnMock).toReceiveCommandWith(StartExecutionCommand, { name: 'grid-6', input: '{"a":1,"b":2}' });
  });

  it.each([
    ['the same input, its keys in another order', '{"b":2,"a":1}', true],
    ['another input', '{"a":1,"b":3}', false],
  ])('describes an execution that already ran, with %s', async (_, existingInput, sameInput) => {
    sfnMock.on(StartExecutionCommand).rejects(exists());
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', input: existingInput });
    await expect(start()).resolves.toEqual({
      started: false,
      executionArn: EXECUTION,
      status: 'SUCCEEDED',
      sameInput,
    });
    expect(sfnMock).toReceiveCommandWith(DescribeExecutionCommand, { executionArn: EXECUTION });
  });

  it('throws a throttled start as TransientAwsError, so the caller can answer 503 or let SQS retry', async () => {
    sfnMock.on(StartExecutionCommand).rejects(awsError('ThrottlingException', 400));
    await expect(start()).rejects.toMatchObject({ name: 'TransientAwsError' });
  });
});
