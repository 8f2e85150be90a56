import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { bucketNameSchema, ConfigurationError, readEnvironment } from '../../src';

const environment = z.object({ DATA_BUCKET: bucketNameSchema, LIMIT: z._default(z.string(), '10') });

describe('readEnvironment', () => {
  it('returns the parsed environment with defaults', () => {
    expect(readEnvironment(environment, { DATA_BUCKET: 'tradai-dev-data' })).toEqual({
      DATA_BUCKET: 'tradai-dev-data',
      LIMIT: '10',
    });
  });

  it('raises ConfigurationError naming the missing variable', () => {
    // Act
    const act = () => readEnvironment(environment, {});

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(/DATA_BUCKET/);
  });

  it('raises ConfigurationError naming a malformed variable', () => {
    expect(() => readEnvironment(environment, { DATA_BUCKET: 'Bad.Bucket' })).toThrow(
      /DATA_BUCKET: must be an S3 bucket/,
    );
  });
});
