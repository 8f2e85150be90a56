import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { httpStatusOf, type S3Prefix, s3Uri, toWorkflowError } from '@tradai/lambda-kit';

/*
 * Where a strategy's artifacts live (docs/contracts/strategy-artifacts.md):
 *   image  <registry>/<repository prefix>/<lower-cased strategy name>:<version>
 *   config s3://<strategy bucket>/<config prefix>/<StrategyName>/<version>/config.json
 */

export type Lookup<T> = { found: true; value: T } | { found: false; reason: string };

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export const strategyRepositoryName = (repositoryPrefix: string, strategyName: string): string =>
  `${repositoryPrefix}/${strategyName.toLowerCase()}`;

export const strategyConfigKey = (configPrefix: S3Prefix, strategyName: string, version: string): string =>
  configPrefix.key(strategyName, version, 'config.json');

/** The image URI pinned by digest, so later steps run exactly the image validated here. */
export const findStrategyImage = async (
  ecr: ECRClient,
  region: string,
  repositoryName: string,
  tag: string,
): Promise<Lookup<string>> => {
  try {
    const { imageDetails = [] } = await ecr.send(
      new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: tag }] }),
    );
    const [image] = imageDetails;
    if (!image?.imageDigest || !DIGEST.test(image.imageDigest) || !image.registryId) {
      return { found: false, reason: `image ${repositoryName}:${tag} has no sha256 digest in ECR` };
    }
    const registry = `${image.registryId}.dkr.ecr.${region}.amazonaws.com`;
    return { found: true, value: `${registry}/${repositoryName}@${image.imageDigest}` };
  } catch (error) {
    if (error instanceof Error && error.name === 'RepositoryNotFoundException') {
      return { found: false, reason: `ECR repository ${repositoryName} does not exist` };
    }
    if (error instanceof Error && error.name === 'ImageNotFoundException') {
      return { found: false, reason: `image tag ${tag} is not in ECR repository ${repositoryName}` };
    }
    throw toWorkflowError(error, `ecr:DescribeImages ${repositoryName}:${tag}`);
  }
};

/** The config's `s3://` path, if the object exists and is not empty. */
export const findStrategyConfig = async (
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<Lookup<string>> => {
  const path = s3Uri(bucket, key);
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    if (head.ContentLength === 0) return { found: false, reason: `strategy config ${path} is empty` };
    return { found: true, value: path };
  } catch (error) {
    // 404 needs s3:ListBucket on the prefix; without it S3 answers 403 for a missing key.
    if (httpStatusOf(error) === 404 || (error instanceof Error && error.name === 'NotFound')) {
      return { found: false, reason: `strategy config ${path} does not exist` };
    }
    throw toWorkflowError(error, `s3:HeadObject ${path}`);
  }
};
