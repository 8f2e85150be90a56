import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  type S3ClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import type { AwsStub } from 'aws-sdk-client-mock';

/** The runs bucket as S3 answers it: key -> body, listed in insertion order of modification. */
export const serveBucket = (
  s3Mock: AwsStub<ServiceInputTypes, ServiceOutputTypes, S3ClientResolvedConfig>,
  objects: Record<string, Uint8Array | string>,
) => {
  const entries = Object.entries(objects).map(([key, body], i) => ({
    key,
    body: Buffer.from(body),
    modified: new Date(Date.UTC(2026, 0, 5, 9, i)),
  }));
  s3Mock.on(ListObjectsV2Command).callsFake(async ({ Prefix }) => ({
    Contents: entries
      .filter((e) => e.key.startsWith(Prefix))
      .map((e) => ({ Key: e.key, LastModified: e.modified })),
    IsTruncated: false,
  }));
  s3Mock.on(GetObjectCommand).callsFake(async ({ Key }) => {
    const entry = entries.find((e) => e.key === Key);
    if (!entry)
      throw new NoSuchKey({
        message: 'The specified key does not exist.',
        $metadata: { httpStatusCode: 404 },
      });
    return { Body: sdkStreamMixin(Readable.from([entry.body])), ContentLength: entry.body.length };
  });
};
