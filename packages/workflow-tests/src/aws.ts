import { Readable } from 'node:stream';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeImagesCommand,
  ECRClient,
  ImageNotFoundException,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import {
  ClientException,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { sdkStreamMixin } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import type { RolloutBehaviour } from './tasks';
import type { TaskDefinitionRevision, World } from './world';

/** Rollout checks seen per service in the current run. */
const rolloutChecks = new Map<string, number>();

const notFound = { $metadata: { httpStatusCode: 404 } };
const LIST_PAGE = 1_000;

let current: World | undefined;
let rollout: RolloutBehaviour = {};
const world = (): World => {
  if (!current) throw new Error('No world is installed: call useWorld(world) before running a handler');
  return current;
};

const toBytes = async (body: unknown): Promise<Uint8Array> => {
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  throw new Error('The in-memory S3 accepts string or byte bodies only');
};

let installed = false;

/**
 * Answers the SDK clients the handlers create (S3, ECR, ECS, SNS) from `next`, for every run
 * until the next call. The mocks are installed once per process (aws-sdk-client-mock patches the
 * client classes), then only the world behind them changes.
 */
export const useWorld = (next: World, rolloutBehaviour: RolloutBehaviour = {}) => {
  current = next;
  rollout = rolloutBehaviour;
  rolloutChecks.clear();
  if (installed) return;
  installed = true;

  const s3 = mockClient(S3Client);
  s3.on(GetObjectCommand).callsFake(async ({ Bucket, Key }) => {
    const object = world().getObject(Bucket, Key);
    if (!object) throw new NoSuchKey({ message: 'The specified key does not exist.', ...notFound });
    return {
      Body: sdkStreamMixin(Readable.from([Buffer.from(object.body)])),
      ContentLength: object.body.length,
      LastModified: object.lastModified,
    };
  });
  s3.on(HeadObjectCommand).callsFake(async ({ Bucket, Key }) => {
    const object = world().getObject(Bucket, Key);
    if (!object) throw new NotFound({ message: 'Not Found', ...notFound });
    return { ContentLength: object.body.length, LastModified: object.lastModified };
  });
  s3.on(PutObjectCommand).callsFake(async ({ Bucket, Key, Body }) => {
    world().putObject(Bucket, Key, await toBytes(Body));
    return { ETag: '"local"' };
  });
  s3.on(ListObjectsV2Command).callsFake(async ({ Bucket, Prefix = '', ContinuationToken }) => {
    const all = world().listObjects(Bucket, Prefix);
    const start = ContinuationToken ? Number(ContinuationToken) : 0;
    const page = all.slice(start, start + LIST_PAGE);
    const truncated = start + LIST_PAGE < all.length;
    return {
      Contents: page.map(({ key, object }) => ({
        Key: key,
        Size: object.body.length,
        LastModified: object.lastModified,
      })),
      KeyCount: page.length,
      IsTruncated: truncated,
      NextContinuationToken: truncated ? String(start + LIST_PAGE) : undefined,
    };
  });
  s3.on(DeleteObjectsCommand).callsFake(async ({ Bucket, Delete }) => {
    for (const { Key } of Delete?.Objects ?? []) if (Key) world().deleteObject(Bucket, Key);
    return { Errors: [] };
  });

  const ecr = mockClient(ECRClient);
  ecr.on(DescribeImagesCommand).callsFake(async ({ repositoryName, imageIds }) => {
    const tags = world().images.get(repositoryName);
    if (!tags) {
      throw new RepositoryNotFoundException({
        message: `The repository '${repositoryName}' does not exist`,
        $metadata: { httpStatusCode: 400 },
      });
    }
    const tag = imageIds?.[0]?.imageTag ?? '';
    const digest = tags.get(tag);
    if (!digest) {
      throw new ImageNotFoundException({
        message: `The image with imageId {imageTag:'${tag}'} does not exist`,
        $metadata: { httpStatusCode: 400 },
      });
    }
    return {
      imageDetails: [
        { registryId: world().settings.accountId, repositoryName, imageDigest: digest, imageTags: [tag] },
      ],
    };
  });

  const ecs = mockClient(ECSClient);
  ecs.on(DescribeTaskDefinitionCommand).callsFake(async ({ taskDefinition }) => {
    const found = world().findTaskDefinition(taskDefinition);
    if (!found) {
      throw new ClientException({
        message: 'Unable to describe task definition.',
        $metadata: { httpStatusCode: 400 },
      });
    }
    return {
      taskDefinition: { ...found.definition, taskDefinitionArn: found.arn, revision: found.revision },
      tags: found.tags,
    };
  });
  ecs.on(RegisterTaskDefinitionCommand).callsFake(async ({ family, tags, ...definition }) => {
    const registered = world().registerTaskDefinition(
      family,
      definition as TaskDefinitionRevision['definition'],
      (tags ?? []).map((tag: { key: string; value: string }) => ({ key: tag.key, value: tag.value })),
    );
    return {
      taskDefinition: {
        ...registered.definition,
        taskDefinitionArn: registered.arn,
        revision: registered.revision,
      },
      tags,
    };
  });

  // Each DescribeServices after an update moves the PRIMARY rollout along, as the case says.
  ecs.on(DescribeServicesCommand).callsFake(async ({ services = [] }) => {
    const found = services.flatMap((name: string) => {
      const service = world().services.get(name);
      if (!service) return [];
      const primary = service.deployments.find((d) => d.status === 'PRIMARY');
      if (primary && primary.rolloutState === 'IN_PROGRESS') {
        const checks = (rolloutChecks.get(name) ?? 0) + 1;
        rolloutChecks.set(name, checks);
        const outcome = rollout.outcome ?? 'COMPLETED';
        if (outcome !== 'STUCK' && checks > (rollout.checks_in_progress ?? 1)) {
          primary.rolloutState = outcome;
          if (outcome === 'COMPLETED') primary.runningCount = primary.desiredCount;
          if (outcome === 'FAILED')
            primary.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.';
        }
      }
      return [
        {
          serviceName: service.name,
          taskDefinition: service.taskDefinition,
          deployments: service.deployments.map((d) => ({ ...d })),
        },
      ];
    });
    return { services: found };
  });

  const dynamodb = mockClient(DynamoDBClient);
  dynamodb.on(GetItemCommand).callsFake(async ({ TableName, Key }) => {
    const item = world().tables.get(String(TableName))?.get(JSON.stringify(Key));
    return item ? { Item: item } : {};
  });

  const sns = mockClient(SNSClient);
  sns.on(PublishCommand).callsFake(async ({ TopicArn, Subject, Message, MessageAttributes }) => {
    const attributes = Object.fromEntries(
      Object.entries(MessageAttributes ?? {}).map(([name, value]) => [
        name,
        String((value as { StringValue?: string }).StringValue),
      ]),
    );
    world().publish({ topicArn: TopicArn, subject: Subject, message: Message, attributes });
    return { MessageId: `local-${world().published.length}` };
  });
};
