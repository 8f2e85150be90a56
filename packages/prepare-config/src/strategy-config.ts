import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  ConfigurationError,
  isAwsErrorNamed,
  isPlainObject,
  type StrategyManifest,
  strategyManifestKey,
  strategyManifestSchema,
  toWorkflowError,
} from '@tradai/lambda-kit';

/** freqtrade configs are a few KB; anything this large is not one. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** The strategy's stored freqtrade config (validate-strategy has checked that it exists). */
export const readStrategyConfig = async (
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<Record<string, unknown>> => {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })).catch((error: unknown) => {
    throw toWorkflowError(error, `Reading strategy config s3://${bucket}/${key}`);
  });
  if ((object.ContentLength ?? 0) > MAX_CONFIG_BYTES || !object.Body) {
    throw new ConfigurationError(`Strategy config s3://${bucket}/${key} is empty or larger than 1 MB`);
  }
  const text = await object.Body.transformToString();
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`Strategy config s3://${bucket}/${key} is not valid JSON`, { cause: error });
  }
  if (!isPlainObject(config)) {
    throw new ConfigurationError(`Strategy config s3://${bucket}/${key} must be a JSON object`);
  }
  return config;
};

/**
 * The strategy version's manifest (strategies/<Name>/<version>/strategy.json, beside its config):
 * the parameters its class declares. `undefined` when the strategy package has none.
 */
export const readStrategyManifest = async (
  s3: S3Client,
  bucket: string,
  configKey: string,
): Promise<StrategyManifest | undefined> => {
  const key = strategyManifestKey(configKey);
  let text: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if ((object.ContentLength ?? 0) > MAX_CONFIG_BYTES || !object.Body) {
      throw new ConfigurationError(`Strategy manifest s3://${bucket}/${key} is empty or larger than 1 MB`);
    }
    text = await object.Body.transformToString();
  } catch (error) {
    if (isAwsErrorNamed(error, 'NoSuchKey')) return undefined;
    throw toWorkflowError(error, `Reading strategy manifest s3://${bucket}/${key}`);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`Strategy manifest s3://${bucket}/${key} is not valid JSON`, {
      cause: error,
    });
  }
  const parsed = strategyManifestSchema.safeParse(manifest);
  if (!parsed.success) {
    throw new ConfigurationError(
      `Strategy manifest s3://${bucket}/${key} is not a manifest: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
};
