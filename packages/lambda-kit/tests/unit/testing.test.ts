import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src';
import { censusOfRejections } from '../../src/testing';

describe('censusOfRejections', () => {
  it('counts answers and named rejections', async () => {
    // Act
    const census = await censusOfRejections(
      async (n: number) => {
        if (n % 2) throw new ValidationError('odd');
        return n;
      },
      fc.integer(),
      { numRuns: 200 },
    );

    // Assess
    expect(census.answered + census.rejected).toBe(200);
    expect(census.byName).toEqual({ ValidationError: census.rejected });
  });

  it('fails the property on an error whose name is not allowed', async () => {
    // Act
    const act = censusOfRejections(
      async (value: unknown) => (value as { x: { y: number } }).x.y,
      fc.constant({}),
      {
        numRuns: 5,
      },
    );

    // Assess
    await expect(act).rejects.toMatchObject({
      cause: { message: expect.stringContaining('with TypeError') },
    });
  });
});
