import type { Context } from 'aws-lambda';

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
