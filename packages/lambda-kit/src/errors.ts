/**
 * Domain errors. Step Functions matches `Retry`/`Catch` on the thrown error's `name`, and the
 * bundle is minified (class names are mangled), so every class sets `this.name` explicitly.
 */

/** One field-level problem, with the field written as a path (`symbols[0]`, `config_overrides.x`). */
export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * Gives a class its name back after minification. `sls invoke local` reports an error's
 * `constructor.name` (the Lambda runtime reports `error.name`, set in each constructor).
 */
const keepClassName = (errorClass: abstract new (...args: never[]) => Error, name: string) =>
  Object.defineProperty(errorClass, 'name', { value: name });

/** Input that can never succeed: fail fast, never retry. */
export class ValidationError extends Error {
  readonly issues: readonly FieldIssue[];

  constructor(message: string, issues: readonly FieldIssue[] = [], options?: ErrorOptions) {
    super(message, options);
    this.name = 'ValidationError';
    this.issues = issues;
  }
}
keepClassName(ValidationError, 'ValidationError');

/**
 * An error class that keeps its name: Step Functions matches `name`, and `sls invoke local`
 * reports `constructor.name`, which minification would otherwise mangle.
 */
const namedErrorClass = <Name extends string>(name: Name) => {
  const NamedError = class extends Error {
    constructor(message: string, options?: ErrorOptions) {
      super(message, options);
      this.name = name;
    }
  };
  Object.defineProperty(NamedError, 'name', { value: name });
  return NamedError;
};

/** The market data a run needs is missing or too old. */
export const DataStaleError = namedErrorClass('DataStaleError');

/** The deployment is wrong (missing environment variable, IAM denies a call): retrying won't help. */
export const ConfigurationError = namedErrorClass('ConfigurationError');

/**
 * An AWS call failed in a way that may succeed later (throttling, 5xx, network). This is the one
 * name the state machines retry with backoff.
 */
export const TransientAwsError = namedErrorClass('TransientAwsError');

/**
 * A finished backtest left no usable result: the file is missing, unreadable or does not hold
 * the run's strategy. Not retried; the run fails and the error goes to the DLQ for a person.
 */
export const BacktestResultError = namedErrorClass('BacktestResultError');

/** A deployment the rules forbid (a live deploy without a COMPLETED backtest of that version). */
export const DeploymentRefusedError = namedErrorClass('DeploymentRefusedError');

/** The service is still rolling the new task definition out: the state machine retries. */
export const RolloutInProgressError = namedErrorClass('RolloutInProgressError');

/** ECS gave up on the rollout (circuit breaker, tasks failing to start). */
export const RolloutFailedError = namedErrorClass('RolloutFailedError');

/** The rollout did not finish within the time the service's own settings allow (docs/decisions/0031). */
export const RolloutTimedOutError = namedErrorClass('RolloutTimedOutError');

/**
 * The deploy's lease on its service is no longer its own (it expired and another deploy took it,
 * e.g. before a redrive): the service must not be touched.
 */
export const LeaseLostError = namedErrorClass('LeaseLostError');

/** Another service trades the exchange account a live deploy would use (one bot per account). */
export const ExchangeAccountInUseError = namedErrorClass('ExchangeAccountInUseError');

/** The bot has open trades and the deploy's policy is to refuse while any is open. */
export const TradesOpenError = namedErrorClass('TradesOpenError');

/** The new bot does not know trades the old one had open: they would be left unmanaged. */
export const OpenTradesLostError = namedErrorClass('OpenTradesLostError');

/** ECS runs the bot's task but freqtrade does not answer its health check (or is not `running`). */
export const BotNotAnsweringError = namedErrorClass('BotNotAnsweringError');

/** Error names the state machines match on, so ASL and code cannot drift apart silently. */
export const ErrorNames = {
  validation: 'ValidationError',
  dataStale: 'DataStaleError',
  configuration: 'ConfigurationError',
  transientAws: 'TransientAwsError',
  backtestResult: 'BacktestResultError',
  deploymentRefused: 'DeploymentRefusedError',
  rolloutInProgress: 'RolloutInProgressError',
  rolloutFailed: 'RolloutFailedError',
  rolloutTimedOut: 'RolloutTimedOutError',
  leaseLost: 'LeaseLostError',
  exchangeAccountInUse: 'ExchangeAccountInUseError',
  tradesOpen: 'TradesOpenError',
  openTradesLost: 'OpenTradesLostError',
  botNotAnswering: 'BotNotAnsweringError',
} as const;

/** Errors that can never succeed on a retry: no Retry may list them (which of them page: failure-classes.ts). */
export const FAIL_FAST_ERRORS: readonly string[] = [
  ErrorNames.validation,
  ErrorNames.dataStale,
  ErrorNames.configuration,
];

/**
 * What every Lambda task in a state machine retries with backoff: AWS's own list for a Lambda
 * task (Step Functions developer guide, "Handling transient Lambda service exceptions":
 * Lambda.ClientExecutionTimeoutException, ServiceException, AWSLambdaException,
 * SdkClientException), throttling, and our own transient error.
 */
export const RETRYABLE_LAMBDA_ERRORS: readonly string[] = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  ErrorNames.transientAws,
];
