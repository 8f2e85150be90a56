import { DescribeExecutionCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { isAwsErrorNamed, toWorkflowError } from './aws-errors';
import { canonicalJson } from './validation';

export type NamedStart =
  | { started: true; executionArn: string }
  | { started: false; executionArn: string; status: string; sameInput: boolean };

/**
 * Starts the execution `name` of `stateMachineArn`, once however often it is asked. Step Functions
 * answers a repeat of a running execution's name and input with that execution (`started: true`,
 * the same ARN); once it has ended, or for another input, with ExecutionAlreadyExists. Then the
 * existing execution is described, and `sameInput` says whether it ran this input (compared as
 * JSON with sorted keys). Any other failure is thrown as a WorkflowError (TransientAwsError when a
 * retry may succeed).
 */
export const startNamedExecution = async (
  sfn: SFNClient,
  start: { stateMachineArn: string; name: string; input: string },
): Promise<NamedStart> => {
  try {
    const { executionArn } = await sfn.send(new StartExecutionCommand(start));
    return { started: true, executionArn: String(executionArn) };
  } catch (error) {
    if (!isAwsErrorNamed(error, 'ExecutionAlreadyExists'))
      throw toWorkflowError(error, `Starting execution ${start.name}`);
  }
  const executionArn = `${start.stateMachineArn.replace(':stateMachine:', ':execution:')}:${start.name}`;
  const existing = await sfn.send(new DescribeExecutionCommand({ executionArn })).catch((error: unknown) => {
    throw toWorkflowError(error, `Describing execution ${start.name}`);
  });
  return {
    started: false,
    executionArn,
    status: String(existing.status),
    sameInput: existing.input !== undefined && canonicalJson(JSON.parse(existing.input)) === start.input,
  };
};
