import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import type { Context } from 'aws-lambda';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import type { DatasetManifest } from './dataset-manifest';

/** A Lambda `Context` for unit tests (no network, no real runtime). */
export const fakeContext = (functionName = 'tradai-test-function'): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: '2026/11/25/[$LATEST]abcdef0123456789',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

/**
 * An error shaped like the AWS SDK's service exceptions: `name` is the AWS error code and
 * `$metadata.httpStatusCode` the HTTP status, which is what error classification reads.
 */
export const awsError = (name: string, httpStatusCode: number, message = name): Error =>
  Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, requestId: 'test-request' },
  });

export interface RejectionCensus {
  answered: number;
  rejected: number;
  /** How often each error name was thrown. */
  byName: Record<string, number>;
}

/**
 * Property check for a handler: throws `events` at it and fails the property as soon as the
 * handler rejects with anything but an `Error` whose name is in `allowedErrors` (by default
 * `ValidationError`) (a TypeError from
 * unvalidated input, a bare string). Returns the census so a test can assert the property ran
 * enough cases of each kind.
 */
export const censusOfRejections = async <E>(
  handler: (event: E, context: Context) => Promise<unknown>,
  events: fc.Arbitrary<E>,
  {
    allowedErrors = ['ValidationError'],
    numRuns = 1_500,
  }: { allowedErrors?: readonly string[]; numRuns?: number } = {},
): Promise<RejectionCensus> => {
  const census: RejectionCensus = { answered: 0, rejected: 0, byName: {} };
  await fc.assert(
    fc.asyncProperty(events, async (event) => {
      try {
        await handler(event, fakeContext());
        census.answered++;
      } catch (error) {
        const name = error instanceof Error ? error.name : `non-Error ${typeof error}`;
        if (!(error instanceof Error) || !allowedErrors.includes(name)) {
          throw new Error(`handler rejected ${JSON.stringify(event)} with ${name}: ${String(error)}`);
        }
        census.rejected++;
        census.byName[name] = (census.byName[name] ?? 0) + 1;
      }
    }),
    { numRuns },
  );
  return census;
};

/** The "Test Input" of the spec, section 6, verbatim: its dates sit in config_overrides.backtester. */
export const SPEC_TEST_INPUT = {
  run_id: 'test-001',
  strategy_name: 'MomentumStrategy',
  strategy_version: '1.0.0',
  experiment_name: 'test-experiment',
  symbols: ['BTC/USDT:USDT'],
  timeframe: '1h',
  config_overrides: { backtester: { START_DATE: '2024-01-01', END_DATE: '2024-06-01' } },
} as const;

/**
 * A complete, clean dataset manifest as the data-collection task writes it
 * (docs/contracts/dataset-manifest.md); `data_key` follows the symbol, timeframe and exchange.
 */
export const datasetManifest = (overrides: Partial<DatasetManifest> = {}): DatasetManifest => {
  const base = {
    schema_version: 1 as const,
    exchange: 'binance',
    symbol: 'BTC/USDT:USDT',
    timeframe: '1h' as const,
    coverage: { start: '2023-01-01T00:00:00Z', end: '2024-07-01T00:00:00Z' },
    candle_count: 13_128,
    expected_candle_count: 13_128,
    gaps: { count: 0, missing_candles: 0, largest_gap_candles: 0 },
    duplicate_candles: 0,
    ohlc_violations: {
      high_below_open_or_close: 0,
      low_above_open_or_close: 0,
      non_positive_price: 0,
      negative_volume: 0,
    },
    last_updated: '2024-07-01T00:05:00Z',
    ...overrides,
  };
  const segment = base.symbol.replaceAll('/', '_').replaceAll(':', '_');
  return { data_key: `datasets/${base.exchange}/${segment}/${base.timeframe}/candles.feather`, ...base };
};

/** An S3 GetObject body as the SDK returns it. */
export const objectBody = (text: string) => sdkStreamMixin(Readable.from([Buffer.from(text)]));

/** Serves objects from a map of key -> body; any other key is NoSuchKey (404), as S3 says. */
export const serveObjects = (s3: AwsClientStub<S3Client>, objects: Record<string, string>) => {
  s3.on(GetObjectCommand).callsFake(async (input: { Key?: string }) => {
    const body = input.Key === undefined ? undefined : objects[input.Key];
    if (body === undefined) {
      throw new NoSuchKey({
        message: 'The specified key does not exist.',
        $metadata: { httpStatusCode: 404 },
      });
    }
    return { Body: objectBody(body), ContentLength: body.length };
  });
};

/**
 * An EventBridge "Step Functions Execution Status Change" event of run-42 on
 * `tradai-dev-<machine>`, as AWS delivers it; `detail` overrides or adds fields.
 */
export const statusChangeEvent = (
  status: string,
  { machine = 'tradai-dev-backtest', ...detail }: Record<string, unknown> & { machine?: string } = {},
) => ({
  version: '0',
  id: `event-${status}`,
  'detail-type': 'Step Functions Execution Status Change',
  source: 'aws.states',
  time: '2026-01-05T09:42:00Z',
  detail: {
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:${machine}:run-42`,
    stateMachineArn: `arn:aws:states:eu-west-1:123456789012:stateMachine:${machine}`,
    name: 'run-42',
    status,
    startDate: 1_736_067_600_000,
    stopDate: status === 'RUNNING' ? null : 1_736_070_120_000,
    ...detail,
  },
});
