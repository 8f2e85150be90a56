import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  awsClientConfig,
  ConfigurationError,
  createWorkflowHandler,
  readEnvironment,
  runArtifacts,
  runIdSchema,
  runsEnvironment,
  s3Uri,
  TransientAwsError,
  toWorkflowError,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';

const s3 = new S3Client(awsClientConfig);

export const cleanupResourcesInput = z.strictObject({ run_id: runIdSchema });

export const environment = z.object({
  ...runsEnvironment,
});

export interface CleanupResult {
  /** The only prefix this call deleted under: `s3://<runs bucket>/runs/<run_id>/tmp/`. */
  prefix: string;
  deleted: number;
}

/**
 * Deletes a finished run's scratch objects (`runs/<run_id>/tmp/`) and nothing else: the run's
 * config and results stay. Safe to repeat: a second call, or a run that wrote no scratch files,
 * finds nothing and deletes nothing.
 */
export const { handler } = createWorkflowHandler({
  service: 'cleanup-resources',
  input: cleanupResourcesInput,
  handle: async ({ run_id }, tools): Promise<CleanupResult> => {
    const env = readEnvironment(environment);
    const tmp = runArtifacts(env.RUNS_PREFIX, run_id).tmp;
    let deleted = 0;
    let continuationToken: string | undefined;
    do {
      const page = await s3
        .send(
          new ListObjectsV2Command({
            Bucket: env.RUNS_BUCKET,
            Prefix: tmp.listPrefix,
            ContinuationToken: continuationToken,
          }),
        )
        .catch((error: unknown) => {
          throw toWorkflowError(error, 'Listing the run scratch objects');
        });
      // S3 only returns keys under the prefix; the check keeps a mis-configured mock or proxy from
      // ever turning this into a delete of someone else's key.
      const keys = (page.Contents ?? []).flatMap((object) =>
        object.Key !== undefined && tmp.contains(object.Key) ? [object.Key] : [],
      );
      if (keys.length > 0) deleted += await deleteKeys(env.RUNS_BUCKET, keys);
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);

    tools.metrics.addMetric('ScratchObjectsDeleted', MetricUnit.Count, deleted);
    tools.logger.info('Run scratch space cleaned', { run_id, prefix: tmp.listPrefix, deleted });
    return { prefix: s3Uri(env.RUNS_BUCKET, tmp.listPrefix), deleted };
  },
});

/** One DeleteObjects call (a ListObjectsV2 page holds at most 1,000 keys, DeleteObjects' limit). */
const deleteKeys = async (bucket: string, keys: string[]): Promise<number> => {
  const response = await s3
    .send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
    )
    .catch((error: unknown) => {
      throw toWorkflowError(error, 'Deleting the run scratch objects');
    });
  const errors = response.Errors ?? [];
  if (errors.length > 0) {
    const codes = [...new Set(errors.map((error) => error.Code ?? 'Unknown'))].join(', ');
    const message = `${errors.length} of ${keys.length} scratch objects were not deleted (${codes})`;
    // DeleteObjects answers 200 and reports per-key failures; a denied key will not succeed later.
    throw codes.includes('AccessDenied') ? new ConfigurationError(message) : new TransientAwsError(message);
  }
  return keys.length;
};
