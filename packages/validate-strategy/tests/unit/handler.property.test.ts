import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { censusOfRejections } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const ecrMock = mockClient(ECRClient);
const s3Mock = mockClient(S3Client);

/** Events that are JSON, and events that look almost right: the right keys with any JSON values. */
const events = fc.oneof(
  fc.jsonValue(),
  fc.record({ strategy_name: fc.jsonValue(), strategy_version: fc.jsonValue() }, { requiredKeys: [] }),
  fc.record({
    strategy_name: fc.oneof(fc.constantFrom('MomentumStrategy', 'A', '../x'), fc.string()),
    strategy_version: fc.oneof(fc.constantFrom('1.0.0', '1.0', ''), fc.string()),
  }),
);

describe('validate-strategy with arbitrary JSON', () => {
  beforeEach(() => {
    vi.stubEnv('STRATEGY_BUCKET', 'tradai-dev-strategies');
    ecrMock.on(DescribeImagesCommand).resolves({
      imageDetails: [{ registryId: '123456789012', imageDigest: `sha256:${'0'.repeat(64)}` }],
    });
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 10 });
  });

  it('answers or rejects with a ValidationError, never a TypeError', async () => {
    // Act
    const census = await censusOfRejections(handler, events);

    // Assess
    expect(census.rejected).toBeGreaterThan(1_000);
    expect(census.answered).toBeGreaterThan(0);
  });
});
