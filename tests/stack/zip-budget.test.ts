import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type PackagedStack, readPackaged, shippedZips, ZIP_BUDGET_BYTES } from './package-stack';

let stack: PackagedStack;

beforeAll(() => {
  stack = readPackaged(inject('packagedDir'));
});

describe('the zip budget (issue #2)', () => {
  it('ships every function as a zip of at most 150 KB (153,600 bytes), source map included', () => {
    // Act
    const zips = shippedZips(stack);

    // Assess
    expect(zips.length).toBeGreaterThan(0);
    const over = zips
      .filter((zip) => zip.bytes > ZIP_BUDGET_BYTES)
      .map(
        (zip) =>
          `${zip.key} (${zip.name}): ${zip.bytes.toLocaleString('en')} bytes, ` +
          `${(zip.bytes - ZIP_BUDGET_BYTES).toLocaleString('en')} over`,
      );
    expect(over, `zips above ${ZIP_BUDGET_BYTES.toLocaleString('en')} bytes`).toEqual([]);
  });
});
