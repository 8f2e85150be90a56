import { AsyncLocalStorage } from 'node:async_hooks';
import {
  applyUpdate,
  checkCondition,
  type ExpressionInput,
  type Item,
  unmarshall,
} from './dynamodb-expressions';

/**
 * The AWS a workflow touches, in memory: S3 objects, ECR images, ECS task definitions, the
 * workflow-state table, SNS and SQS sinks. The real handlers read and write it through the SDK
 * (aws-sdk-client-mock, see aws.ts); the ASL's direct integrations write it through the task
 * answers (see tasks.ts). So state flows: what PrepareConfig writes is what the container reads.
 */

export interface S3Object {
  readonly body: Uint8Array;
  /** The body's length in bytes, known without reading it. */
  readonly size: number;
  lastModified: Date;
}

/**
 * A body the world can make again, as it first made it: a simulated freqtrade result is a pure
 * function of its run (freqtrade.ts). `bytes` is what was written; `again` makes the same bytes.
 */
export interface Remade {
  bytes: Uint8Array | string;
  again: () => Uint8Array | string;
}

const encoded = (body: Uint8Array | string) =>
  typeof body === 'string' ? new TextEncoder().encode(body) : body;

/**
 * How many remade bodies the world keeps in memory at once, the latest written or read: a sweep of
 * ten thousand variants writes 40 KB of result per variant, read once, by the variant's own
 * transform-results, right after. An older body is made again if it is read again.
 */
const REMADE_KEPT = 512;

class StoredObject implements S3Object {
  #bytes: Uint8Array | undefined;
  readonly #again: (() => Uint8Array | string) | undefined;
  readonly #kept: (object: StoredObject) => void;
  readonly size: number;
  constructor(
    body: Uint8Array | string | Remade,
    public lastModified: Date,
    kept: (object: StoredObject) => void,
  ) {
    this.#kept = kept;
    if (typeof body === 'string' || body instanceof Uint8Array) {
      this.#bytes = encoded(body);
    } else {
      this.#bytes = encoded(body.bytes);
      this.#again = body.again;
    }
    this.size = this.#bytes.length;
  }

  get body(): Uint8Array {
    if (!this.#bytes) this.#bytes = encoded((this.#again as () => Uint8Array | string)());
    if (this.#again) this.#kept(this);
    return this.#bytes;
  }

  /** Drops the bytes of a body that can be made again. */
  forget() {
    if (this.#again) this.#bytes = undefined;
  }
}

export interface TaskDefinitionRevision {
  family: string;
  revision: number;
  arn: string;
  definition: Record<string, unknown> & { containerDefinitions: { name: string; image: string }[] };
  tags: { key: string; value: string }[];
}

/** One ECS service deployment, as DescribeServices reports it. */
export interface ServiceDeployment {
  status: 'PRIMARY' | 'ACTIVE';
  taskDefinition: string;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason?: string;
  runningCount: number;
  desiredCount: number;
  /** World time the deployment was created (UpdateService). */
  createdAt: number;
}

/** ECS's deploymentConfiguration; ECS's defaults are 200 and 100 (start the new task first). */
export interface DeploymentConfiguration {
  maximumPercent: number;
  minimumHealthyPercent: number;
}

export interface Service {
  name: string;
  taskDefinition: string;
  desiredCount: number;
  deployments: ServiceDeployment[];
  deploymentConfiguration: DeploymentConfiguration;
  healthCheckGracePeriodSeconds?: number;
  loadBalancers?: unknown[];
  /** Tasks of the service running, at every moment a rollout changed it (the first entry: before). */
  runningTasks: number[];
}

export interface PublishedMessage {
  topicArn: string;
  subject: string | undefined;
  message: string;
  attributes: Record<string, string>;
}

export interface QueuedMessage {
  queueUrl: string;
  body: unknown;
}

/** One change to the world, in order: what the simulator prints and tests assert. */
export type WorldChange =
  | { kind: 's3:put'; uri: string; bytes: number }
  | { kind: 's3:delete'; uri: string }
  | { kind: 'ecs:register'; arn: string; image: string }
  | {
      kind: 'ecs:run';
      taskArn: string;
      taskDefinition: string;
      capacityProvider: string;
      /** The task's size, from its task definition (CPU units, MiB). */
      cpu: number;
      memory: number;
      /** Simulated seconds from RunTask to the task's end (set when it ends). */
      seconds?: number;
    }
  | { kind: 'dynamodb:update'; table: string; key: string; status: unknown }
  /** A state machine's own PutItem and DeleteItem (dynamodb-tasks.ts): a deploy's service lease. */
  | { kind: 'dynamodb:put'; table: string; key: string; item: Record<string, unknown> }
  | { kind: 'dynamodb:delete'; table: string; key: string }
  | { kind: 'sns:publish'; subject: string | undefined }
  | { kind: 'sqs:send'; queueUrl: string }
  | { kind: 'ecs:update-service'; service: string; taskDefinition: string }
  | { kind: 'ecs:tasks'; service: string; running: number }
  | { kind: 'states:start'; stateMachineArn: string; name: string; input: unknown };

/** What a run used that AWS bills and that changes nothing in the world. */
export type Usage =
  | { kind: 'lambda:invoke'; function: string; memoryMb: number; billedMs: number }
  | { kind: 'states:execution'; stateMachine: string; name: string; transitions: number };

/**
 * The clock of an execution that runs beside others in one world, and when it is stopped: the
 * world time at which its parent's abort reaches it (AWS stops a Map Run's children, and a `.sync`
 * task's nested execution, with their parent).
 */
const executionClocks = new AsyncLocalStorage<{ world: World; now: number; stopAt: number | undefined }>();

/**
 * Runs `body` on a clock of its own for `world`, starting at `start`: as on AWS, executions that
 * run at once each take their own time. Returns the body's result and the time it ended at.
 */
export const onOwnClock = async <T>(
  world: World,
  start: number,
  body: () => Promise<T>,
): Promise<[T, number]> => {
  const clock = { world, now: start, stopAt: world.stopAt };
  const result = await executionClocks.run(clock, body);
  return [result, clock.now];
};

export interface WorldSettings {
  accountId: string;
  region: string;
  stage: string;
}

/**
 * The keys of one bucket in S3's order (UTF-16 code units, as `<` compares strings), kept sorted
 * as they come and go: a listing by prefix finds its first key by binary search and reads on from
 * there, so a sweep that lists each run's few files does not read every object of the bucket for
 * each of them. Chunks of at most CHUNK keys keep an insertion cheap however large the bucket.
 */
const CHUNK = 512;
class SortedKeys {
  readonly #chunks: string[][] = [];

  /** The index of the first chunk whose last key is >= `key` (#chunks.length if none). */
  #chunkOf(key: string): number {
    let low = 0;
    let high = this.#chunks.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      const last = (this.#chunks[mid] as string[]).at(-1) as string;
      if (last < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  add(key: string) {
    if (this.#chunks.length === 0) {
      this.#chunks.push([key]);
      return;
    }
    const index = Math.min(this.#chunkOf(key), this.#chunks.length - 1);
    const chunk = this.#chunks[index] as string[];
    chunk.splice(lowerBound(chunk, key), 0, key);
    if (chunk.length > CHUNK) this.#chunks.splice(index + 1, 0, chunk.splice(CHUNK >> 1));
  }

  delete(key: string) {
    const index = this.#chunkOf(key);
    const chunk = this.#chunks[index];
    if (!chunk) return;
    const at = lowerBound(chunk, key);
    if (chunk[at] !== key) return;
    chunk.splice(at, 1);
    if (chunk.length === 0) this.#chunks.splice(index, 1);
  }

  /** Every key that starts with `prefix`, in order. */
  *startingWith(prefix: string): Generator<string> {
    for (let index = this.#chunkOf(prefix); index < this.#chunks.length; index++) {
      const chunk = this.#chunks[index] as string[];
      for (let at = lowerBound(chunk, prefix); at < chunk.length; at++) {
        const key = chunk[at] as string;
        if (!key.startsWith(prefix)) return;
        yield key;
      }
    }
  }
}

/** The first index of the sorted `keys` whose key is >= `key`. */
const lowerBound = (keys: string[], key: string): number => {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((keys[mid] as string) < key) low = mid + 1;
    else high = mid;
  }
  return low;
};

/**
 * The world's S3 objects by `<bucket>/<key>` (a bucket's name has no slash), each bucket's keys
 * also kept in order (SortedKeys) however the map is changed.
 */
class ObjectStore extends Map<string, S3Object> {
  readonly #buckets = new Map<string, SortedKeys>();

  override set(id: string, object: S3Object): this {
    if (!this.has(id)) {
      const slash = id.indexOf('/');
      const bucket = id.slice(0, slash);
      let keys = this.#buckets.get(bucket);
      if (!keys) {
        keys = new SortedKeys();
        this.#buckets.set(bucket, keys);
      }
      keys.add(id.slice(slash + 1));
    }
    return super.set(id, object);
  }

  override delete(id: string): boolean {
    if (!super.delete(id)) return false;
    const slash = id.indexOf('/');
    this.#buckets.get(id.slice(0, slash))?.delete(id.slice(slash + 1));
    return true;
  }

  override clear() {
    super.clear();
    this.#buckets.clear();
  }

  /** The keys of `bucket` that start with `prefix`, in S3's order. */
  *keysOf(bucket: string, prefix: string): Generator<string> {
    yield* this.#buckets.get(bucket)?.startingWith(prefix) ?? [];
  }
}

export class World {
  readonly objects: Map<string, S3Object> = new ObjectStore();
  /** repository -> tag -> digest */
  readonly images = new Map<string, Map<string, string>>();
  readonly taskDefinitions = new Map<string, TaskDefinitionRevision[]>();
  readonly tables = new Map<string, Map<string, Item>>();
  readonly services = new Map<string, Service>();
  readonly published: PublishedMessage[] = [];
  readonly queued: QueuedMessage[] = [];
  readonly changes: WorldChange[] = [];
  /** Lambda invocations and executions, for the bill (bill.ts). */
  readonly usage: Usage[] = [];
  /**
   * Strategies whose freqtrade result is simulated, drawn from each run's config (freqtrade.ts);
   * any other gets the real fixture (fixtures/freqtrade/backtest-result.json).
   */
  readonly simulatedStrategies = new Set<string>();
  #now: number;

  /**
   * A fixed clock, so that runs are reproducible; tasks advance it by their simulated duration.
   * An execution that runs beside others (a Distributed Map's children) has a clock of its own
   * (onOwnClock): what it reads and advances is its own time, not its siblings'.
   */
  get now(): number {
    const own = executionClocks.getStore();
    return own?.world === this ? own.now : this.#now;
  }

  set now(value: number) {
    const own = executionClocks.getStore();
    if (own?.world === this) own.now = value;
    else this.#now = value;
  }

  /**
   * Each table's key attribute, by table name (the stack's KeySchema: seedWorld sets it). A PutItem
   * is stored under its item's value of that attribute, as DynamoDB stores it.
   */
  readonly tableKeys = new Map<string, string>();

  /** The key of `item` in `table`. A table the world was not told of is named, not guessed. */
  keyOf(table: string, item: Item): Record<string, unknown> {
    const name = this.tableKeys.get(table);
    if (!name) throw new Error(`The local world knows no key schema for table ${table}`);
    return { [name]: item[name] };
  }

  #stopAt: number | undefined;
  /**
   * When the running execution is stopped from outside (an operator's StopExecution, simulated):
   * it ends ABORTED at the first state it starts at or after this time, and so does every child
   * execution started on its behalf (they inherit it with their clock).
   */
  get stopAt(): number | undefined {
    const own = executionClocks.getStore();
    return own?.world === this ? own.stopAt : this.#stopAt;
  }

  set stopAt(value: number | undefined) {
    const own = executionClocks.getStore();
    if (own?.world === this) own.stopAt = value;
    else this.#stopAt = value;
  }

  constructor(
    readonly settings: WorldSettings,
    start = Date.parse('2026-01-05T09:00:00Z'),
  ) {
    this.#now = start;
  }

  // --- S3 ---
  /** The remade bodies kept in memory, oldest first (REMADE_KEPT). */
  readonly #remadeKept = new Set<StoredObject>();
  #keep = (object: StoredObject) => {
    this.#remadeKept.delete(object);
    this.#remadeKept.add(object);
    if (this.#remadeKept.size <= REMADE_KEPT) return;
    const oldest = this.#remadeKept.values().next().value as StoredObject;
    this.#remadeKept.delete(oldest);
    oldest.forget();
  };

  putObject(bucket: string, key: string, body: Uint8Array | string, record = true) {
    this.#put(bucket, key, new StoredObject(body, new Date(this.now), this.#keep), record);
  }
  /** An object whose body the world may drop and make again from its recipe (Remade). */
  putRemadeObject(bucket: string, key: string, body: Remade, record = true) {
    const object = new StoredObject(body, new Date(this.now), this.#keep);
    this.#keep(object);
    this.#put(bucket, key, object, record);
  }
  #put(bucket: string, key: string, object: StoredObject, record: boolean) {
    this.objects.set(`${bucket}/${key}`, object);
    if (record) this.changes.push({ kind: 's3:put', uri: `s3://${bucket}/${key}`, bytes: object.size });
  }
  getObject(bucket: string, key: string): S3Object | undefined {
    return this.objects.get(`${bucket}/${key}`);
  }
  deleteObject(bucket: string, key: string) {
    if (this.objects.delete(`${bucket}/${key}`))
      this.changes.push({ kind: 's3:delete', uri: `s3://${bucket}/${key}` });
  }
  /** The objects of `bucket` whose keys start with `prefix`, in S3's order (by key). */
  listObjects(bucket: string, prefix: string): { key: string; object: S3Object }[] {
    const listed: { key: string; object: S3Object }[] = [];
    for (const key of (this.objects as ObjectStore).keysOf(bucket, prefix))
      listed.push({ key, object: this.objects.get(`${bucket}/${key}`) as S3Object });
    return listed;
  }
  keys(bucket: string, prefix = ''): string[] {
    return this.listObjects(bucket, prefix).map(({ key }) => key);
  }

  // --- ECR ---
  putImage(repository: string, tag: string, digest: string) {
    const tags = this.images.get(repository) ?? new Map<string, string>();
    tags.set(tag, digest);
    this.images.set(repository, tags);
  }

  // --- ECS ---
  /**
   * A trading service as the platform creates it: one bot on an earlier revision of its task
   * family, with ECS's default deployment configuration (start the new task first).
   */
  addService(name: string, taskFamily: string, image: string) {
    // A revision ECS would take: a Fargate task needs its size (ECS refuses a definition with
    // neither task nor container memory, as moto showed: docs/decisions/0039).
    const previous = this.registerTaskDefinition(
      taskFamily,
      {
        containerDefinitions: [{ name: 'strategy', image }],
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '512',
        memory: '1024',
      },
      [],
      false,
    );
    this.services.set(name, {
      name,
      taskDefinition: previous.arn,
      desiredCount: 1,
      deployments: [
        {
          status: 'PRIMARY',
          taskDefinition: previous.arn,
          rolloutState: 'COMPLETED',
          runningCount: 1,
          desiredCount: 1,
          createdAt: this.now - 86_400_000,
        },
      ],
      deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 100 },
      runningTasks: [1],
    });
  }

  registerTaskDefinition(
    family: string,
    definition: TaskDefinitionRevision['definition'],
    tags: TaskDefinitionRevision['tags'] = [],
    record = true,
  ): TaskDefinitionRevision {
    const revisions = this.taskDefinitions.get(family) ?? [];
    const revision = revisions.length + 1;
    const { accountId, region } = this.settings;
    const arn = `arn:aws:ecs:${region}:${accountId}:task-definition/${family}:${revision}`;
    const entry = { family, revision, arn, definition: { ...definition, family }, tags };
    revisions.push(entry);
    this.taskDefinitions.set(family, revisions);
    const image = definition.containerDefinitions.find((c) => c.name === 'strategy')?.image ?? '';
    if (record) this.changes.push({ kind: 'ecs:register', arn, image });
    return entry;
  }
  /** `family`, `family:3` or a full ARN; the latest revision for a bare family. */
  findTaskDefinition(reference: string): TaskDefinitionRevision | undefined {
    const name = reference.includes(':task-definition/')
      ? (reference.split(':task-definition/')[1] ?? '')
      : reference;
    const [family = '', revision] = name.split(':');
    const revisions = this.taskDefinitions.get(family) ?? [];
    return revision === undefined ? revisions.at(-1) : revisions.find((r) => r.revision === Number(revision));
  }

  /**
   * UpdateService: the new task definition becomes the PRIMARY deployment, rolling out. How the
   * service's tasks change follows its deployment configuration, as ECS does it: with
   * `maximumPercent` above 100 the new task starts beside the old one (both run until the new is
   * healthy); at 100 with `minimumHealthyPercent` 0 the old task stops first.
   */
  updateService(
    name: string,
    taskDefinition: string,
    options: {
      desiredCount?: number;
      deploymentConfiguration?: Partial<DeploymentConfiguration>;
      /** forceNewDeployment: a new deployment even when nothing changes. */
      force?: boolean;
    } = {},
  ): Service | undefined {
    const service = this.services.get(name);
    if (!service) return undefined;
    // ECS starts a deployment only for a change, or when forced (UpdateService API reference:
    // forceNewDeployment "start a new deployment with no service definition changes"; default false).
    const unchanged =
      taskDefinition === service.taskDefinition &&
      (options.desiredCount === undefined || options.desiredCount === service.desiredCount);
    if (unchanged && !options.force) {
      service.deploymentConfiguration = {
        ...service.deploymentConfiguration,
        ...options.deploymentConfiguration,
      };
      return service;
    }
    for (const deployment of service.deployments) deployment.status = 'ACTIVE';
    service.desiredCount = options.desiredCount ?? service.desiredCount;
    service.deploymentConfiguration = {
      ...service.deploymentConfiguration,
      ...options.deploymentConfiguration,
    };
    service.deployments.unshift({
      status: 'PRIMARY',
      taskDefinition,
      rolloutState: 'IN_PROGRESS',
      runningCount: 0,
      desiredCount: service.desiredCount,
      createdAt: this.now,
    });
    service.taskDefinition = taskDefinition;
    this.changes.push({ kind: 'ecs:update-service', service: name, taskDefinition });
    const running = service.runningTasks.at(-1) ?? 0;
    const { maximumPercent, minimumHealthyPercent } = service.deploymentConfiguration;
    const desired = service.desiredCount;
    const stopFirst = Math.floor((desired * maximumPercent) / 100) <= running;
    this.runTasks(
      service,
      stopFirst ? Math.ceil((desired * minimumHealthyPercent) / 100) : running + desired,
    );
    return service;
  }
  /** The PRIMARY rollout ended: its tasks run (COMPLETED) or none of them started (FAILED). */
  endRollout(service: Service, outcome: 'COMPLETED' | 'FAILED') {
    const primary = service.deployments.find((d) => d.status === 'PRIMARY');
    if (!primary) return;
    primary.rolloutState = outcome;
    if (outcome === 'COMPLETED') {
      primary.runningCount = primary.desiredCount;
      for (const deployment of service.deployments) if (deployment !== primary) deployment.runningCount = 0;
      this.runTasks(service, primary.desiredCount);
    } else {
      primary.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.';
      this.runTasks(
        service,
        service.deployments.reduce((n, d) => n + (d === primary ? 0 : d.runningCount), 0),
      );
    }
  }
  private runTasks(service: Service, count: number) {
    if (service.runningTasks.at(-1) === count) return;
    service.runningTasks.push(count);
    this.changes.push({ kind: 'ecs:tasks', service: service.name, running: count });
  }

  // --- DynamoDB ---
  updateItem(table: string, key: Record<string, { S: string }>, expression: ExpressionInput) {
    const rows = this.tables.get(table) ?? new Map<string, Item>();
    const id = JSON.stringify(key);
    const updated = applyUpdate(rows.get(id), expression);
    rows.set(id, { ...updated, ...key });
    this.tables.set(table, rows);
    this.changes.push({
      kind: 'dynamodb:update',
      table,
      key: Object.values(key)[0]?.S ?? id,
      status: updated.status?.S,
    });
  }
  /** The raw item under `key`, or undefined. */
  item(table: string, key: Record<string, unknown>): Item | undefined {
    return this.tables.get(table)?.get(JSON.stringify(key));
  }
  /** PutItem: the whole item, under its condition (ConditionalCheckFailed otherwise). */
  putItem(
    table: string,
    key: Record<string, unknown>,
    item: Item,
    condition: Omit<ExpressionInput, 'UpdateExpression'>,
  ) {
    const rows = this.tables.get(table) ?? new Map<string, Item>();
    checkCondition(rows.get(JSON.stringify(key)), condition);
    rows.set(JSON.stringify(key), item);
    this.tables.set(table, rows);
  }
  /** DeleteItem, under its condition when it has one (ConditionalCheckFailed otherwise). */
  deleteItem(
    table: string,
    key: Record<string, unknown>,
    condition?: Omit<ExpressionInput, 'UpdateExpression'>,
  ) {
    const rows = this.tables.get(table);
    if (condition) checkCondition(rows?.get(JSON.stringify(key)), condition);
    rows?.delete(JSON.stringify(key));
  }
  putRecord(table: string, runId: string, record: Record<string, string>) {
    const rows = this.tables.get(table) ?? new Map<string, Item>();
    const key = { run_id: { S: runId } };
    const item: Item = Object.fromEntries(Object.entries(record).map(([k, v]) => [k, { S: v }]));
    rows.set(JSON.stringify(key), { ...item, ...key });
    this.tables.set(table, rows);
  }
  /** An item of string attributes, stored under `key` as the table's key attribute (tableKeys). */
  putStringItem(table: string, key: string, attributes: Record<string, string>) {
    const rows = this.tables.get(table) ?? new Map<string, Item>();
    const keyItem = { [this.tableKeys.get(table) ?? 'run_id']: { S: key } };
    const item: Item = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { S: v }]));
    rows.set(JSON.stringify(keyItem), { ...item, ...keyItem });
    this.tables.set(table, rows);
  }
  /** The workflow-state record of `runId`, as plain JSON, or undefined. */
  record(table: string, runId: string): Record<string, unknown> | undefined {
    const item = this.tables.get(table)?.get(JSON.stringify({ run_id: { S: runId } }));
    return item && unmarshall(item);
  }

  // --- SNS / SQS ---
  publish(message: PublishedMessage) {
    this.published.push(message);
    this.changes.push({ kind: 'sns:publish', subject: message.subject });
  }
  send(message: QueuedMessage) {
    this.queued.push(message);
    this.changes.push({ kind: 'sqs:send', queueUrl: message.queueUrl });
  }
}
