import { describe, expect, it } from 'vitest';
import { DLQ_URL, MACHINES, readCases, readMockConfig, runWorkflow } from '../src';

describe.each(MACHINES)('%s scenarios', (machine) => {
  const cases = Object.entries(readCases(machine).cases);

  it('has a MockConfigFile test case for every scenario, and no other', () => {
    // Prepare
    const testCases = readMockConfig(machine).StateMachines[machine]?.TestCases ?? {};

    // Assess
    expect(Object.keys(testCases).sort()).toEqual(cases.map(([name]) => name).sort());
  });

  it.each(cases)('%s ends as expected', async (caseName, { expect: expected }) => {
    // Act
    const run = await runWorkflow({ machine, caseName });

    // Assess
    expect({ status: run.status, error: run.error?.Error }).toEqual({
      status: expected.status,
      error: expected.error,
    });
    expect(run.states).toEqual(expected.states);
    if (expected.record === null) expect(run.record).toBeUndefined();
    else expect(run.record).toMatchObject(expected.record);
    expect(run.world.published.map((message) => message.attributes.status)).toEqual(expected.notifications);
    expect(run.world.queued.filter((message) => message.queueUrl === DLQ_URL)).toHaveLength(expected.dlq);
  });
});
