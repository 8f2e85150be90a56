import { AsyncLocalStorage } from 'node:async_hooks';
import { Readable } from 'node:stream';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
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
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  ServerException,
  ServiceNotFoundException,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
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
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { sdkStreamMixin, Uint8ArrayBlobAdapter } from '@smithy/core/serde';
import { ROLLOUT_POLL_SECONDS } from '@tradai/lambda-kit';
import { answerBotApi, type BotBehaviour, isBotApi, LOCAL_BOT_LOGIN, serviceTasks } from './bots';
import { ConditionalCheckFailed, type Item } from './dynamodb-expressions';
import { invokeLocalFunctionByName } from './handlers';
import type { RolloutBehaviour } from './tasks';
import type { Service, TaskDefinitionRevision, World } from './world';

/**
 * How a rollout the case describes ends. ECS's circuit breaker with rollback fails our deployment
 * and puts the previous task definition back as a new PRIMARY deployment; a newer deploy (another
 * pipeline, a person) replaces ours with a later revision.
 */
const endRollout = (service: Service, outcome: NonNullable<RolloutBehaviour['outcome']>) => {
  const w = world();
  if (outcome === 'COMPLETED' || outcome === 'FAILED') return w.endRollout(service, outcome);
  if (outcome === 'STUCK') return;
  const ours = service.deployments.find((d) => d.status === 'PRIMARY');
  const previous = service.deployments.find((d) => d !== ours)?.taskDefinition;
  if (outcome === 'ROLLED_BACK_BY_ECS') {
    w.endRollout(service, 'FAILED');
    if (previous) w.updateService(service.name, previous);
  } else {
    const family = w.findTaskDefinition(service.taskDefinition);
    const newer = family && w.registerTaskDefinition(family.family, family.definition, family.tags);
    if (newer) w.updateService(service.name, newer.arn);
  }
  w.endRollout(service, 'COMPLETED');
};

/**
 * A GetObject response's Body as the SDK's stream mixin gives it (transformToString,
 * transformToByteArray, transformToWebStream; read once), without a Node stream behind it unless a
 * web stream is asked for: a sweep reads tens of thousands of objects, and a stream costs twenty
 * times what decoding the bytes does.
 */
const bodyOf = (bytes: Uint8Array) => {
  let transformed = false;
  const once = () => {
    if (transformed) throw new Error('The stream has already been transformed.');
    transformed = true;
  };
  return {
    // The world's bytes themselves, not a copy: no handler writes into a body it read.
    transformToByteArray: async () => {
      once();
      return bytes;
    },
    // As the SDK decodes: Buffer's encodings through Buffer, any other through TextDecoder.
    transformToString: async (encoding?: string) => {
      once();
      return encoding === undefined || Buffer.isEncoding(encoding)
        ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(encoding)
        : new TextDecoder(encoding).decode(bytes);
    },
    transformToWebStream: () => {
      once();
      return sdkStreamMixin(Readable.from([Buffer.from(bytes)])).transformToWebStream();
    },
  };
};

const notFound = { $metadata: { httpStatusCode: 404 } };
const LIST_PAGE = 1_000;

/** What the SDK calls of one run answer from: its world, and how its rollouts go. */
/** Faults of ECS's API (cases file, `world.ecs`). */
export interface EcsBehaviour {
  /**
   * The first N UpdateService calls change the service, then their reply is lost (a 503): the
   * caller sees a transient error and retries.
   */
  update_reply_lost?: number;
}

interface Session {
  world: World;
  rollout: RolloutBehaviour;
  bot: BotBehaviour;
  ecs: EcsBehaviour;
  /** UpdateService calls answered so far in this run. */
  updates: number;
  /** Rollout checks seen per service in this run. */
  rolloutChecks: Map<string, number>;
}

/**
 * The session of the run an SDK call belongs to. Each run passes its world in (withWorld); the
 * call finds it through the async context, so runs in one process never see each other's world.
 */
const sessions = new AsyncLocalStorage<Session>();
const session = (): Session => {
  const current = sessions.getStore();
  if (!current)
    throw new Error('An AWS SDK call ran outside withWorld(world, ...): there is no world to answer it');
  return current;
};
const world = (): World => session().world;

/** The world of the run this call belongs to. */
export const currentWorld = world;

const toBytes = async (body: unknown): Promise<Uint8Array> => {
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  throw new Error('The in-memory S3 accepts string or byte bodies only');
};

/**
 * Answers every `send` of an SDK client class from the fakes given with `.on(Command).callsFake`.
 * The unit tests use aws-sdk-client-mock for this; the engine needs only the answering, and
 * sinon, which that library loads, is a third of the simulator's start-up (docs/decisions/0036).
 */
const intercept = (client: { prototype: object }) => {
  const fakes = new Map<unknown, (input: never) => Promise<unknown>>();
  Object.defineProperty(client.prototype, 'send', {
    configurable: true,
    writable: true,
    value: async (command: { constructor: { name: string }; input: never }) => {
      const fake = fakes.get(command.constructor);
      if (!fake) throw new Error(`The local AWS does not answer ${command.constructor.name}`);
      return fake(command.input);
    },
  });
  return {
    on: (command: new (input: never) => unknown) => ({
      // biome-ignore lint/suspicious/noExplicitAny: a fake reads its command's input as sent, as aws-sdk-client-mock's callsFake does
      callsFake: (fake: (input: any) => Promise<unknown>) => {
        fakes.set(command, fake);
      },
    }),
  };
};

/**
 * Answers the SDK clients the handlers create (S3, ECR, ECS, DynamoDB, Lambda, SNS) from the world
 * of the run that makes the call. aws-sdk-client-mock patches the client classes, so this is done
 * once, when the module loads; what changes from run to run is only the world behind it.
 */
const interceptTheSdk = () => {
  const s3 = intercept(S3Client);
  s3.on(GetObjectCommand).callsFake(async ({ Bucket, Key }) => {
    const object = world().getObject(Bucket, Key);
    if (!object) throw new NoSuchKey({ message: 'The specified key does not exist.', ...notFound });
    return {
      Body: bodyOf(object.body),
      ContentLength: object.size,
      LastModified: object.lastModified,
    };
  });
  s3.on(HeadObjectCommand).callsFake(async ({ Bucket, Key }) => {
    const object = world().getObject(Bucket, Key);
    if (!object) throw new NotFound({ message: 'Not Found', ...notFound });
    return { ContentLength: object.size, LastModified: object.lastModified };
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
        Size: object.size,
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

  const ecr = intercept(ECRClient);
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

  const ecs = intercept(ECSClient);
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

  // Each DescribeServices after an update moves the PRIMARY rollout along, as the case says, and
  // stands for one of the machine's 30 s polls: the world's clock moves on by 30 s.
  ecs.on(DescribeServicesCommand).callsFake(async ({ services = [] }) => {
    const found = services.flatMap((name: string) => {
      const service = world().services.get(name);
      if (!service) return [];
      const primary = service.deployments.find((d) => d.status === 'PRIMARY');
      if (primary && primary.rolloutState === 'IN_PROGRESS') {
        world().now += ROLLOUT_POLL_SECONDS * 1000;
        const { rollout, rolloutChecks } = session();
        const checks = (rolloutChecks.get(name) ?? 0) + 1;
        rolloutChecks.set(name, checks);
        const outcome = rollout.outcome ?? 'COMPLETED';
        if (outcome !== 'STUCK' && checks > (rollout.checks_in_progress ?? 1)) endRollout(service, outcome);
      }
      // ECS's timestamps, on the caller's clock: as old, by the world's clock, as they are.
      const since = (at: number) => new Date(Date.now() - (world().now - at));
      return [
        {
          serviceName: service.name,
          taskDefinition: service.taskDefinition,
          healthCheckGracePeriodSeconds: service.healthCheckGracePeriodSeconds,
          loadBalancers: service.loadBalancers ?? [],
          deploymentConfiguration: { ...service.deploymentConfiguration },
          deployments: service.deployments.map((d) => ({ ...d, createdAt: since(d.createdAt) })),
        },
      ];
    });
    return { services: found };
  });

  // As ECS does: a deployment only for a change, or when forced (world.ts updateService).
  ecs.on(UpdateServiceCommand).callsFake(async (input) => {
    const updated = world().updateService(String(input.service), String(input.taskDefinition), {
      force: input.forceNewDeployment === true,
      ...(typeof input.desiredCount === 'number' ? { desiredCount: input.desiredCount } : {}),
      deploymentConfiguration: {
        ...(input.deploymentConfiguration?.maximumPercent === undefined
          ? {}
          : { maximumPercent: input.deploymentConfiguration.maximumPercent }),
        ...(input.deploymentConfiguration?.minimumHealthyPercent === undefined
          ? {}
          : { minimumHealthyPercent: input.deploymentConfiguration.minimumHealthyPercent }),
      },
    });
    if (!updated)
      throw new ServiceNotFoundException({
        message: 'Service not found.',
        $metadata: { httpStatusCode: 400 },
      });
    const current = session();
    current.updates += 1;
    if (current.updates <= (current.ecs.update_reply_lost ?? 0))
      throw new ServerException({
        message: 'Service Unavailable (the update was applied; its reply was lost)',
        $metadata: { httpStatusCode: 503 },
      });
    return { service: { serviceName: updated.name, taskDefinition: updated.taskDefinition } };
  });

  // The trading bots' tasks (bots.ts): what the deploy's checks list and describe.
  ecs.on(ListTasksCommand).callsFake(async ({ serviceName }) => {
    const service = world().services.get(String(serviceName));
    return { taskArns: service ? serviceTasks(world(), service, session().bot).map((t) => t.arn) : [] };
  });
  ecs.on(DescribeTasksCommand).callsFake(async ({ tasks = [] }) => {
    const all = [...world().services.values()].flatMap((service) =>
      serviceTasks(world(), service, session().bot),
    );
    return {
      tasks: all
        .filter((task) => tasks.includes(task.arn))
        .map((task) => ({
          taskArn: task.arn,
          taskDefinitionArn: task.taskDefinition,
          lastStatus: 'RUNNING',
          healthStatus: task.healthStatus,
          attachments: [
            {
              type: 'ElasticNetworkInterface',
              details: [{ name: 'privateIPv4Address', value: task.ip }],
            },
          ],
        })),
      failures: [],
    };
  });

  // The stage's bot API login; no other secret exists here.
  const secrets = intercept(SecretsManagerClient);
  secrets.on(GetSecretValueCommand).callsFake(async ({ SecretId }) => {
    if (!/:secret:tradai\/bot-api/.test(String(SecretId)))
      throw new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: { httpStatusCode: 400 },
      });
    return { ARN: SecretId, SecretString: JSON.stringify(LOCAL_BOT_LOGIN) };
  });

  const dynamodb = intercept(DynamoDBClient);
  dynamodb.on(GetItemCommand).callsFake(async ({ TableName, Key }) => {
    const item = world().item(String(TableName), Key);
    return item ? { Item: item } : {};
  });
  // A failed condition answers as DynamoDB does, with the old item when the caller asked for it.
  const conditionFailed = (table: string, key: Record<string, unknown>, returnOld: unknown) =>
    new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: { httpStatusCode: 400 },
      ...(returnOld === 'ALL_OLD' ? { Item: world().item(table, key) as never } : {}),
    });
  const conditional = <T>(
    table: string,
    key: Record<string, unknown>,
    returnOld: unknown,
    write: () => T,
  ): T => {
    try {
      return write();
    } catch (error) {
      if (error instanceof ConditionalCheckFailed) throw conditionFailed(table, key, returnOld);
      throw error;
    }
  };
  dynamodb.on(UpdateItemCommand).callsFake(async (input) => {
    const table = String(input.TableName);
    conditional(table, input.Key, input.ReturnValuesOnConditionCheckFailure, () =>
      world().updateItem(table, input.Key, input),
    );
    return {};
  });
  dynamodb.on(PutItemCommand).callsFake(async (input) => {
    const table = String(input.TableName);
    const key = world().keyOf(table, (input.Item ?? {}) as Item);
    conditional(table, key, input.ReturnValuesOnConditionCheckFailure, () =>
      world().putItem(table, key, input.Item as Item, input),
    );
    return {};
  });
  // Under its condition, as DynamoDB does: reconcile-run releases a deploy's lease only if the
  // execution still holds it (the condition was ignored here until the moto tier compared them).
  dynamodb.on(DeleteItemCommand).callsFake(async (input) => {
    const table = String(input.TableName);
    conditional(table, input.Key, input.ReturnValuesOnConditionCheckFailure, () =>
      world().deleteItem(table, input.Key ?? {}, input.ConditionExpression ? (input as never) : undefined),
    );
    return {};
  });

  // Lambda invokes another function of the stack (the reconciler calls notify-completion).
  const lambda = intercept(LambdaClient);
  lambda.on(InvokeCommand).callsFake(async ({ FunctionName, Payload }) => {
    const event = JSON.parse(new TextDecoder().decode(Payload as Uint8Array));
    try {
      const answer = await invokeLocalFunctionByName(String(FunctionName), event);
      return { StatusCode: 200, Payload: Uint8ArrayBlobAdapter.fromString(JSON.stringify(answer ?? null)) };
    } catch (error) {
      return {
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: Uint8ArrayBlobAdapter.fromString(JSON.stringify({ errorType: (error as Error).name })),
      };
    }
  });

  const sns = intercept(SNSClient);
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
interceptTheSdk();

/**
 * A bot's REST API in the local VPC (10.0.0.0/16) is answered by the run's world (bots.ts); any
 * other address is left to the real fetch.
 */
const realFetch = globalThis.fetch;
globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const current = sessions.getStore();
  if (!current || !isBotApi(url)) return realFetch(input, init);
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  return answerBotApi(current.world, current.bot, url, headers.get('authorization'));
};

/** Runs `body` with every AWS SDK call it makes answered from `world`, rollouts as `rollout` says. */
export const withWorld = <T>(
  world: World,
  rollout: RolloutBehaviour,
  body: () => Promise<T>,
  behaviour: { bot?: BotBehaviour; ecs?: EcsBehaviour } = {},
): Promise<T> =>
  sessions.run(
    {
      world,
      rollout,
      bot: behaviour.bot ?? {},
      ecs: behaviour.ecs ?? {},
      updates: 0,
      rolloutChecks: new Map(),
    },
    body,
  );

/**
 * Inside a run, `Date` is the world's clock: `new Date()` and `Date.now()` read the simulated time.
 * So what a handler stamps (`checked_at`, `updated_at`, a lease's expiry) and the engine's own
 * event timestamps follow the run, as they would on AWS at that moment of it, not the laptop's
 * clock. Outside a run (and with arguments) `Date` is untouched; timers are not affected.
 */
const RealDate = Date;
class SimulatedDate extends RealDate {
  constructor(...args: ConstructorParameters<DateConstructor> | []) {
    if (args.length === 0) super(SimulatedDate.now());
    else super(...(args as ConstructorParameters<DateConstructor>));
  }

  static override now(): number {
    return sessions.getStore()?.world.now ?? RealDate.now();
  }
}
globalThis.Date = SimulatedDate as DateConstructor;
