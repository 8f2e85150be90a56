import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { awsError, censusOfRejections, fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const snsMock = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:tradai-dev-workflow-notifications';
const invoke = (input: unknown) => handler(input, fakeContext('tradai-dev-notify-completion'));

const completed = {
  workflow: 'backtest',
  status: 'COMPLETED',
  run_id: 'run-42',
  strategy_name: 'StrategyTestV3',
  strategy_version: '1.0.0',
  execution_arn: 'arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-backtest:run-42',
  result: {
    total_return: 10.41903,
    max_drawdown: 1.874031,
    sharpe_ratio: null,
    total_trades: 179,
    timeframe: '5m',
  },
};
const failed = {
  workflow: 'backtest',
  status: 'FAILED',
  run_id: 'run-42',
  strategy_name: 'StrategyTestV3',
  error: { Error: 'DataStaleError', Cause: 'Market data for 5m ["TRX/BTC"] is not fresh' },
};

const published = () => snsMock.commandCalls(PublishCommand)[0]?.args[0].input;

describe('notify-completion', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    snsMock.reset();
    snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });
    vi.stubEnv('NOTIFICATION_TOPIC_NAME', 'tradai-dev-workflow-notifications');
  });

  it('publishes a completed run with a subject, filterable attributes and a readable summary', async () => {
    // Act
    const result = await invoke(completed);

    // Assess
    expect(result).toEqual({ message_id: 'msg-1' });
    expect(snsMock).toReceiveCommandWith(PublishCommand, {
      TopicArn: TOPIC,
      Subject: '[TradAI] backtest COMPLETED: StrategyTestV3, run run-42',
      MessageAttributes: {
        status: { DataType: 'String', StringValue: 'COMPLETED' },
        workflow: { DataType: 'String', StringValue: 'backtest' },
        strategy: { DataType: 'String', StringValue: 'StrategyTestV3' },
        run_id: { DataType: 'String', StringValue: 'run-42' },
      },
    });
    const body = published()?.Message ?? '';
    expect(body).toContain('Strategy:      StrategyTestV3 1.0.0');
    expect(body).toContain('Total return:  10.42 %');
    expect(body).toContain('Max drawdown:  1.87 %');
    expect(body).toContain('Sharpe ratio:  n/a');
    expect(body).toContain('Trades:        179');
  });

  it('publishes nothing for a variant of a parameter sweep, which notifies once for all of them', async () => {
    // Act
    const answer = await invoke({ ...failed, sweep_id: 'grid-24' });

    // Assess
    expect(answer).toEqual({ suppressed: 'a variant of sweep grid-24: the sweep notifies once' });
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('publishes as before when the run belongs to no sweep (sweep_id null)', async () => {
    // Act
    await invoke({ ...completed, sweep_id: null });

    // Assess
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it('publishes a failure with the error name and its cause', async () => {
    // Act
    await invoke(failed);

    // Assess
    expect(published()?.Subject).toBe('[TradAI] backtest FAILED: StrategyTestV3, run run-42');
    expect(published()?.MessageAttributes?.status?.StringValue).toBe('FAILED');
    expect(published()?.Message).toContain('Error:         DataStaleError');
    expect(published()?.Message).toContain('Cause:         Market data for 5m ["TRX/BTC"] is not fresh');
  });

  it('says "unknown" for the strategy of a request too broken to name one, since SNS refuses empty attributes', async () => {
    // Act
    await invoke({ workflow: 'backtest', status: 'FAILED', error: { Error: 'ValidationError', Cause: 'x' } });

    // Assess
    expect(published()?.Subject).toBe('[TradAI] backtest FAILED');
    expect(published()?.MessageAttributes?.strategy?.StringValue).toBe('unknown');
    expect(published()?.MessageAttributes).not.toHaveProperty('run_id');
  });

  it.each(['ABORTED', 'TIMED_OUT'])('says a run ended %s, as the reconciler reports it', async (status) => {
    // Act
    await invoke({
      workflow: 'backtest',
      status,
      run_id: 'run-42',
      error: { Error: 'ExecutionAborted', Cause: 'stopped' },
    });

    // Assess
    expect(published()?.Subject).toBe(`[TradAI] backtest ${status}: run run-42`);
    expect(published()?.MessageAttributes?.status?.StringValue).toBe(status);
  });

  it('keeps the subject within SNS limits and the cause readable', async () => {
    // Act
    await invoke({
      ...failed,
      strategy_name: `Strategy${'X'.repeat(56)}`,
      error: { Error: 'X', Cause: `é${'c'.repeat(5_000)}` },
    });

    // Assess
    const subject = published()?.Subject ?? '';
    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect((published()?.Message ?? '').length).toBeLessThan(2_500);
  });

  it('refuses a FAILED notification without its error, naming the field', async () => {
    // Act & Assess
    await expect(invoke({ ...failed, error: undefined })).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'Invalid input: error: is required unless status is COMPLETED',
    });
    expect(snsMock).not.toReceiveCommand(PublishCommand);
  });

  it('maps SNS throttling to TransientAwsError', async () => {
    // Prepare
    snsMock.on(PublishCommand).rejects(awsError('Throttling', 400));

    // Act & Assess
    await expect(invoke(completed)).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('answers any input with a publication or a named ValidationError', async () => {
    // Prepare
    const events = fc.oneof(
      fc.record({
        workflow: fc.constantFrom('backtest', 'deploy', 'nope'),
        status: fc.constantFrom('COMPLETED', 'FAILED', 'x'),
      }),
      fc.record(
        {
          workflow: fc.constant('backtest'),
          status: fc.constant('COMPLETED'),
          run_id: fc.string(),
          result: fc.object(),
        },
        { requiredKeys: ['workflow', 'status'] },
      ),
      fc.anything(),
    );

    // Act
    const census = await censusOfRejections(handler, events, { numRuns: 500 });

    // Assess
    expect(census.answered).toBeGreaterThan(0);
    expect(census.rejected).toBeGreaterThan(0);
  });
});
