import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { s3Prefix, ValidationError } from '../../src';

describe('S3Prefix', () => {
  it('builds keys and child prefixes below itself', () => {
    // Prepare
    const runs = s3Prefix('runs');

    // Act
    const tmp = runs.child('test-001', 'tmp');

    // Assess
    expect(runs.key('test-001', 'config.json')).toBe('runs/test-001/config.json');
    expect(tmp.listPrefix).toBe('runs/test-001/tmp/');
    expect(tmp.contains('runs/test-001/tmp/a.json')).toBe(true);
    expect(tmp.contains('runs/test-001/results.json')).toBe(false);
    expect(tmp.contains('runs/test-001/tmp/../results.json')).toBe(false);
  });

  it.each(['../x', '..', '.', 'a/b', '', ' ', 'a\\b', 'a\nb', '/abs'])(
    'refuses the segment %j',
    (segment) => {
      // Act & Assess
      expect(() => s3Prefix('runs').key(segment)).toThrow(ValidationError);
      expect(() => s3Prefix('runs').child(segment)).toThrow(ValidationError);
    },
  );

  it.each(['', '/runs', 'runs/', 'a//b', '../runs'])('refuses the configured prefix %j', (prefix) => {
    expect(() => s3Prefix(prefix)).toThrow(ValidationError);
  });

  it('refuses a key with no segment below the prefix', () => {
    expect(() => s3Prefix('runs').key()).toThrow(ValidationError);
  });

  it('never produces a key outside its prefix, whatever the segments', () => {
    const runs = s3Prefix('runs');
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 4 }), (segments) => {
        let key: string;
        try {
          key = runs.key(...segments);
        } catch (error) {
          // The only way to fail is a named ValidationError.
          expect(error).toBeInstanceOf(ValidationError);
          return;
        }
        expect(runs.contains(key)).toBe(true);
        expect(key.split('/').slice(1)).toEqual(segments);
      }),
      { numRuns: 2_000 },
    );
  });
});
