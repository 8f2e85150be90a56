import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { httpStatusOf, toWorkflowError } from './aws-errors';
import { type DatasetManifest, datasetManifestSchema } from './dataset-manifest';
import { s3Uri } from './s3-keys';
import { formatPath } from './validation';

/** A manifest is a few hundred bytes; anything this large is not one. */
const MAX_MANIFEST_BYTES = 1_048_576;

/** A manifest, or why there is no usable one (missing, too large, not JSON, not the contract). */
export type ManifestRead = { ok: true; manifest: DatasetManifest } | { ok: false; reason: string };

const isNoSuchKey = (error: unknown) =>
  httpStatusOf(error) === 404 || (error instanceof Error && error.name === 'NoSuchKey');

/**
 * Reads one dataset manifest (docs/contracts/dataset-manifest.md). A manifest that is not there or
 * not usable is an answer with its reason; throttling and 5xx raise `TransientAwsError`.
 */
export const readManifest = async (s3: S3Client, bucket: string, key: string): Promise<ManifestRead> => {
  const path = s3Uri(bucket, key);
  let body: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if ((object.ContentLength ?? 0) > MAX_MANIFEST_BYTES) {
      return { ok: false, reason: `manifest ${path} is larger than ${MAX_MANIFEST_BYTES} bytes` };
    }
    body = (await object.Body?.transformToString('utf-8')) ?? '';
  } catch (error) {
    if (isNoSuchKey(error)) return { ok: false, reason: `no dataset manifest at ${path}` };
    throw toWorkflowError(error, `s3:GetObject ${path}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: `manifest ${path} is not valid JSON` };
  }
  const parsed = datasetManifestSchema.safeParse(json);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const detail = issue ? `${formatPath(issue.path)}: ${issue.message}` : 'does not match the contract';
    return { ok: false, reason: `manifest ${path} is malformed (${detail})` };
  }
  return { ok: true, manifest: parsed.data };
};
