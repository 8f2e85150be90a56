/*
 * The world the workflow tests start from (packages/local-aws's seed: fixtures/world/seed.json),
 * laid into moto under the dev stage's names: the strategy's image in ECR and its config in S3, the
 * dataset manifests, the ECS cluster and the task templates the platform owns. The same fixtures
 * the in-memory world serves, so what differs between the two is the server, not the data.
 */

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { CreateRepositoryCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { CreateClusterCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { clientConfig } from './deploy';

interface Seed {
  objects: [string, string][];
  images: [string, string[]][];
  taskDefinitions: [string, Record<string, unknown>[]][];
}

/** The in-memory world's seed, read in a process of its own (dump-seed.ts). */
const readSeed = (): Seed => {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'dump-seed.ts')],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (run.status !== 0) throw new Error(`Reading the seed failed:\n${run.stderr}`);
  return JSON.parse(run.stdout) as Seed;
};

/** A local-stage name as the dev stage names it. */
export const devName = (text: string) => text.replaceAll('tradai-local-', 'tradai-dev-');

export const seedMoto = async (endpoint: string) => {
  const config = clientConfig(endpoint);
  const [s3, ecr, ecs] = [new S3Client(config), new ECRClient(config), new ECSClient(config)];
  const world = readSeed();
  const buckets = new Set<string>();
  for (const [id, body] of world.objects) {
    const [bucket = '', ...key] = id.split('/');
    const name = devName(bucket);
    if (!buckets.has(name)) {
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      buckets.add(name);
    }
    await s3.send(
      new PutObjectCommand({ Bucket: name, Key: key.join('/'), Body: Buffer.from(body, 'base64') }),
    );
  }
  // The runs bucket is the platform's too: empty until a run writes to it.
  for (const bucket of ['tradai-dev-backtest-runs'].filter((b) => !buckets.has(b)))
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const [repositoryName, tags] of world.images) {
    await ecr.send(new CreateRepositoryCommand({ repositoryName }));
    for (const tag of tags) {
      // moto computes the digest from the manifest, as ECR does: the seed's own digest is not kept.
      const imageManifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: {
          mediaType: 'application/vnd.docker.container.image.v1+json',
          size: 1,
          digest: `sha256:${'0'.repeat(64)}`,
        },
        layers: [],
        annotations: { repository: repositoryName, tag },
      });
      await ecr.send(new PutImageCommand({ repositoryName, imageTag: tag, imageManifest }));
    }
  }
  await ecs.send(new CreateClusterCommand({ clusterName: 'tradai-dev' }));
  for (const [family, revisions] of world.taskDefinitions) {
    for (const revision of revisions) {
      const definition = JSON.parse(devName(JSON.stringify(revision)));
      await ecs
        .send(new RegisterTaskDefinitionCommand({ ...definition, family: devName(family) }))
        .catch((error: Error) => {
          throw new Error(`moto refused task definition ${devName(family)}: ${error.message}`);
        });
    }
  }
  return {
    buckets: [...buckets],
    images: world.images.map(([repository]) => repository),
    families: world.taskDefinitions.map(([family]) => devName(family)),
  };
};
