import * as z from 'zod/mini';
import { ValidationError } from './errors';

/** One key segment: no `/`, cannot be `.` or `..`, no characters S3 or shells treat specially. */
const SEGMENT = /^[A-Za-z0-9_=-][A-Za-z0-9._=-]{0,254}$/;

const checkSegment = (segment: string, role: string): string => {
  if (typeof segment !== 'string' || !SEGMENT.test(segment) || segment.includes('..')) {
    throw new ValidationError(
      `Invalid S3 ${role} segment ${JSON.stringify(segment)}: use A-Z a-z 0-9 . _ = - without '..' or '/'`,
      [{ field: role, message: 'is not a safe S3 key segment' }],
    );
  }
  return segment;
};

/**
 * A key prefix that can only ever produce keys below itself: every segment is checked, so a
 * value such as `../x` or `a/b` is refused instead of escaping the prefix.
 */
export class S3Prefix {
  readonly segments: readonly string[];

  constructor(segments: readonly string[]) {
    if (segments.length === 0) {
      throw new ValidationError('An S3 prefix needs at least one segment', [
        { field: 'prefix', message: 'is empty' },
      ]);
    }
    this.segments = segments.map((segment) => checkSegment(segment, 'prefix'));
  }

  /** `runs/abc` (no trailing slash). */
  get path(): string {
    return this.segments.join('/');
  }

  /** `runs/abc/`: the form to list or delete under. */
  get listPrefix(): string {
    return `${this.path}/`;
  }

  /** A narrower prefix below this one. */
  child(...segments: string[]): S3Prefix {
    return new S3Prefix([...this.segments, ...segments]);
  }

  /** A key below this prefix. */
  key(...segments: string[]): string {
    if (segments.length === 0) {
      throw new ValidationError('An S3 key needs at least one segment below its prefix', [
        { field: 'key', message: 'is empty' },
      ]);
    }
    return [...this.segments, ...segments.map((s) => checkSegment(s, 'key'))].join('/');
  }

  /** Whether `key` lies strictly below this prefix (and has no `..` segment). */
  contains(key: string): boolean {
    return key.startsWith(this.listPrefix) && !key.split('/').some((part) => part === '..' || part === '.');
  }
}

/** Parses a configured prefix such as `datasets` or `tradai/strategies`. */
export const s3Prefix = (path: string): S3Prefix => new S3Prefix(path.split('/'));

export const s3Uri = (bucket: string, key: string): string => `s3://${bucket}/${key}`;

/** A configured prefix (environment variable) parsed into an `S3Prefix`. */
export const s3PrefixSchema = z.pipe(
  z.string(),
  z.transform((value, ctx) => {
    try {
      return s3Prefix(value);
    } catch {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: 'must be a key prefix such as datasets or a/b (no .., no leading /)',
      });
      return z.NEVER;
    }
  }),
);
