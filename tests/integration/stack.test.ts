import { FUNCTIONS, MACHINES } from '@tradai/stack';
import { describe, expect, inject, it } from 'vitest';

describe('the packaged stack, deployed into moto CloudFormation', () => {
  it('is CREATE_COMPLETE, every resource of it', () => {
    const { stackStatus, resources } = inject('moto');
    expect(stackStatus).toBe('CREATE_COMPLETE');
    expect(resources.length).toBeGreaterThanOrEqual(130);
    expect(resources.filter((r) => r.status !== 'CREATE_COMPLETE')).toEqual([]);
  });

  it('created every function and every state machine the declaration lists, with their names', () => {
    const { resources } = inject('moto');
    const functions = resources.filter((r) => r.type === 'AWS::Lambda::Function').map((r) => r.physicalId);
    expect(functions.sort()).toEqual(FUNCTIONS.map((fn) => `tradai-dev-${fn.package}`).sort());
    const machines = resources.filter((r) => r.type === 'AWS::StepFunctions::StateMachine');
    expect(machines).toHaveLength(MACHINES.length);
    for (const machine of machines) expect(machine.physicalId).toMatch(/:stateMachine:tradai-dev-/);
  });
});
