/** An IAM policy statement, as CloudFormation takes it. */
export interface Statement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface FunctionDeclaration {
  /** The Framework's function key (`sls invoke local -f <key>`); its role is `<Key>Role`. */
  key: string;
  /** `packages/<package>`: the function is `tradai-<stage>-<package>`. */
  package: string;
  description: string;
  timeout?: number;
  memorySize?: number;
  environment: Record<string, string>;
  events?: unknown[];
  /**
   * The function runs in the platform's VPC (to reach a bot's private address); its role then
   * also gets AWS's AWSLambdaVPCAccessExecutionRole for the network interfaces Lambda creates.
   */
  vpc?: { securityGroupIds: string[]; subnetIds: string[] };
  /**
   * An asynchronous target (EventBridge): after Lambda's own retries, a failed event goes to this
   * queue (logical id), as an on-failure destination, instead of being dropped.
   */
  onFailureQueue?: string;
  /** What the function may do beyond the baseline of writing its own logs and traces. */
  statements: Statement[];
}

export interface MachineDeclaration {
  /** The Framework's state machine key. */
  key: string;
  /** The CloudFormation logical id; its role is `<id>Role`, its log group `<id>LogGroup`. */
  id: string;
  name: string;
  /** `state-machines/<file>.asl.json`. */
  file: string;
  /** What the machine may do beyond invoking its functions, delivering logs and tracing. */
  statements: Statement[];
}
