import { isServerError, isThrottlingError, isTransientError } from '@smithy/service-error-classification';
import { ConfigurationError, TransientAwsError } from './errors';

type SdkErrorLike = Error & {
  $metadata?: { httpStatusCode?: number };
  code?: string;
};

const ACCESS_DENIED_NAMES = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'Forbidden',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
]);

const isErrorLike = (error: unknown): error is SdkErrorLike => error instanceof Error;

/** The HTTP status an SDK error carries, if any. */
export const httpStatusOf = (error: unknown): number | undefined =>
  isErrorLike(error) ? error.$metadata?.httpStatusCode : undefined;

/** Throttling, 5xx, timeouts and network failures: worth retrying later. */
export const isTransientAwsError = (error: unknown): boolean => {
  if (!isErrorLike(error)) return false;
  // The classifiers read optional fields and tolerate plain errors; they are typed for SdkError.
  const sdkError = error as Parameters<typeof isTransientError>[0];
  return isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError);
};

/** The SDK's class or, across bundled copies of it, the same name: `ConditionalCheckFailedException`. */
export const isAwsErrorNamed = (error: unknown, name: string): boolean =>
  typeof error === 'object' && error !== null && (error as { name?: unknown }).name === name;

export const isAccessDeniedError = (error: unknown): boolean =>
  isErrorLike(error) && (ACCESS_DENIED_NAMES.has(error.name) || httpStatusOf(error) === 403);

/** No credentials at all: run locally without AWS access, or a function without a role. */
const isMissingCredentialsError = (error: unknown): boolean =>
  isErrorLike(error) && error.name === 'CredentialsProviderError';

/**
 * Maps an AWS SDK failure to the name the state machines act on: transient failures become
 * `TransientAwsError` (retried), access denied becomes `ConfigurationError` (fail fast, an IAM
 * problem or no credentials), anything else is returned unchanged (an unknown error: DLQ and alert).
 * Callers handle the outcomes that are answers (a missing object, a missing image) first.
 */
export const toWorkflowError = (error: unknown, operation: string): Error => {
  const detail = isErrorLike(error) ? `${error.name}: ${error.message}` : String(error);
  if (isTransientAwsError(error)) {
    return new TransientAwsError(`${operation} failed transiently (${detail})`, { cause: error });
  }
  if (isMissingCredentialsError(error)) {
    return new ConfigurationError(
      `${operation} found no AWS credentials (${detail}); in Lambda the role provides them, locally set AWS credentials or a profile`,
      { cause: error },
    );
  }
  if (isAccessDeniedError(error)) {
    return new ConfigurationError(
      `${operation} was denied (${detail}); check the function's IAM role and resource policies`,
      { cause: error },
    );
  }
  return isErrorLike(error) ? error : new Error(`${operation} failed: ${detail}`);
};

/**
 * SDK client settings shared by every Lambda: the SDK's standard retries (3 attempts), each
 * bounded, so one hung call surfaces as `TransientAwsError` after about 3 x 5 s, well inside the
 * 30 s function timeout, instead of as a Lambda timeout that no Retry names.
 *
 * `throwOnRequestTimeout`: without it smithy's node-http-handler only logs a warning when
 * `requestTimeout` passes and waits on (@smithy/node-http-handler set-request-timeout.ts); with it
 * the call fails with `TimeoutError` (code ETIMEDOUT), which the SDK retries and toWorkflowError
 * names transient. tests/unit/sdk-timeouts.test.ts holds a real socket open to show it.
 */
export const awsClientConfig = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
} as const;
