import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encode } from '@jridgewell/sourcemap-codec';
import { describe, expect, it } from 'vitest';
import { mapStackTrace } from '../../src/stack-traces';

/** A one-line bundle whose map puts columns 10.. at validation.ts line 81 and 40.. in a dependency. */
const bundleWithMap = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tradai-map-'));
  const file = path.join(dir, 'index.js');
  writeFileSync(file, 'module.exports=0;\n//# sourceMappingURL=index.js.map\n');
  const mappings = encode([
    [
      [10, 0, 80, 8],
      [40, 1, 0, 0],
    ],
  ]);
  writeFileSync(
    `${file}.map`,
    JSON.stringify({
      version: 3,
      sourceRoot: '/',
      sources: ['packages/lambda-kit/src/validation.ts', 'node_modules'],
      names: [],
      mappings,
    }),
  );
  return file;
};

const failing = (stack: string) => Object.assign(new Error('boom'), { stack });

describe('mapStackTrace', () => {
  it('rewrites a minified frame to the TypeScript file and line the map gives', () => {
    // Prepare
    const file = bundleWithMap();
    const error = failing(`ValidationError: boom\n    at nx (${file}:1:12)\n    at ${file}:1:11`);

    // Act
    mapStackTrace(error);

    // Assess
    expect(error.stack).toBe(
      'ValidationError: boom\n    at nx (/packages/lambda-kit/src/validation.ts:81:9)\n    at /packages/lambda-kit/src/validation.ts:81:9',
    );
  });

  it('leaves frames the map does not cover, and files without a map, as they were', () => {
    // Prepare
    const file = bundleWithMap();
    const stack = `Error: boom\n    at sdk (${file}:1:45)\n    at other (/nowhere/index.js:3:7)\n    at node:internal/x:1:1`;
    const error = failing(stack);

    // Act
    mapStackTrace(error);

    // Assess
    expect(error.stack).toBe(stack);
  });

  it('ignores what is not an Error', () => {
    expect(() => mapStackTrace('boom')).not.toThrow();
    expect(() => mapStackTrace(undefined)).not.toThrow();
  });
});
