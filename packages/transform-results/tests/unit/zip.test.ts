import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { unzip } from '../../src/zip';

describe('unzip: the members of a result zip, with node:zlib', () => {
  it('reads what Python zipfile wrote, as freqtrade writes it (ZIP_DEFLATED)', () => {
    // Arrange
    const zip = readFileSync(
      new URL('../../../../fixtures/freqtrade/backtest-result-2025-10-29_09-42-00.zip', import.meta.url),
    );
    const original = readFileSync(
      new URL('../../../../fixtures/freqtrade/backtest-result.json', import.meta.url),
    );

    // Act
    const { names, files } = unzip(zip, (name) => name.endsWith('09-42-00.json'));

    // Assess
    expect(names).toHaveLength(5);
    expect(Object.keys(files)).toEqual(['backtest-result-2025-10-29_09-42-00.json']);
    expect(
      Buffer.from(files['backtest-result-2025-10-29_09-42-00.json'] as Uint8Array).equals(original),
    ).toBe(true);
  });

  it('reads back every member another writer stored or deflated, byte for byte', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[a-z_]{1,12}\.json$/), fc.uint8Array({ maxLength: 4_000 }), {
          minKeys: 1,
          maxKeys: 6,
        }),
        fc.constantFrom(0, 6, 9),
        (members, level) => {
          // Act
          const { names, files } = unzip(zipSync(members, { level: level as 0 | 6 | 9 }), () => true);

          // Assess
          expect(names.sort()).toEqual(Object.keys(members).sort());
          for (const [name, data] of Object.entries(members)) expect(files[name]).toEqual(data);
        },
      ),
      { numRuns: 100 },
    );
  });

  it.each([
    ['not a zip', new TextEncoder().encode('{"strategy": {}}'), /not a zip archive/],
    [
      'a truncated zip',
      zipSync({ 'a.json': new Uint8Array(100).fill(1) }, { level: 0 }).subarray(0, 120),
      /./,
    ],
  ])('refuses %s with a ZipError, never a RangeError', (_, bytes, message) => {
    // Act
    const failure = (() => {
      try {
        return unzip(bytes, () => true);
      } catch (error) {
        return error;
      }
    })();

    // Assess
    expect(failure).toMatchObject({ name: 'ZipError', message: expect.stringMatching(message) });
  });
});
