import { describe, expect, it } from 'vitest';
import { mapWithConcurrency } from '../../src';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('mapWithConcurrency', () => {
  it('keeps the input order and never exceeds the limit', async () => {
    // Prepare
    let inFlight = 0;
    let peak = 0;

    // Act
    const results = await mapWithConcurrency([5, 1, 4, 2, 3, 0], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      for (let i = 0; i < n; i++) await tick();
      inFlight--;
      return n * 10;
    });

    // Assess
    expect(results).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });

  it('rejects with the first failure', async () => {
    // Act
    const act = mapWithConcurrency([1, 2, 3], 3, async (n) => {
      if (n === 2) throw new Error('second failed');
      return n;
    });

    // Assess
    await expect(act).rejects.toThrow('second failed');
  });

  it('handles an empty list and refuses a limit below one', async () => {
    await expect(mapWithConcurrency([], 4, async () => 1)).resolves.toEqual([]);
    await expect(mapWithConcurrency([1], 0, async () => 1)).rejects.toThrow(RangeError);
  });
});
