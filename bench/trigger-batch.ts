// Bundled with the SDK and aws-sdk-client-mock together (so the mock patches the bundled client),
// then run in a fresh Node process by bench/run.mjs: one batch of N records against a StartExecution
// that answers after LATENCY ms, timed end to end through the real handler. The environment
// (function settings, metrics off) comes from bench/run.mjs.
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../packages/backtest-trigger/src/index';

const LATENCY_MS = 50;
const RUNS = 9;

mockClient(DynamoDBClient).on(PutItemCommand).resolves({});
mockClient(SFNClient)
  .on(StartExecutionCommand)
  .callsFake(async () => {
    await new Promise((resolve) => setTimeout(resolve, LATENCY_MS));
    return { executionArn: 'arn:bench' };
  });

const context = {
  functionName: 'tradai-bench-backtest-trigger',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:tradai-bench-backtest-trigger',
  awsRequestId: 'bench',
  getRemainingTimeInMillis: () => 30_000,
} as Context;

const batch = (size: number, round: number) => ({
  Records: Array.from({ length: size }, (_, i) => ({
    messageId: `m-${round}-${i}`,
    body: JSON.stringify({
      run_id: `bench-${round}-${i}`,
      strategy_name: 'MomentumStrategy',
      strategy_version: '1.0.0',
      experiment_name: 'bench',
      symbols: ['BTC/USDT:USDT'],
      timeframe: '1h',
      start_date: '2024-01-01',
      end_date: '2024-06-01',
    }),
  })),
});

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] as number;
const time = async (size: number, round: number) => {
  const t0 = performance.now();
  await handler(batch(size, round), context);
  return performance.now() - t0;
};

const main = async () => {
  await time(1, -1); // warm-up: module init, first SDK call
  const single: number[] = [];
  const ten: number[] = [];
  for (let round = 0; round < RUNS; round++) {
    single.push(await time(1, round));
    ten.push(await time(10, round + RUNS));
  }
  process.stdout.write(JSON.stringify({ latency: LATENCY_MS, single: median(single), batch10: median(ten) }));
};

void main();
