import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import { datasetManifest } from '@tradai/lambda-kit/testing';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/** A manifest as the data-collection task writes it (docs/contracts/dataset-manifest.md). */
export const manifest = datasetManifest;

export const objectBody = (text: string) => sdkStreamMixin(Readable.from([Buffer.from(text)]));

/** Serves `bucket` objects from a map of key -> body; any other key is NoSuchKey, as S3 says. */
export const serveObjects = (s3: AwsClientStub<S3Client>, objects: Record<string, string>) => {
  s3.on(GetObjectCommand).callsFake(async (input: { Key?: string }) => {
    const body = input.Key === undefined ? undefined : objects[input.Key];
    if (body === undefined) {
      throw new NoSuchKey({
        message: 'The specified key does not exist.',
        $metadata: { httpStatusCode: 404 },
      });
    }
    return { Body: objectBody(body), ContentLength: body.length };
  });
};
