import { createHash } from 'node:crypto';
import type { TaskDefinitionRevision } from './world';

/**
 * The stopped task as `ecs:runTask.sync` reports it: DescribeTasks' `Task`, PascalCase keys and
 * epoch-millisecond times (AWS's connect-ecs page; LocalStack's recorded snapshots). A failed task
 * is the whole Cause of the States.TaskFailed error, so its size is AWS's: it carries the RunTask
 * overrides (every environment variable, the whole symbol list), the tags, the network
 * attachment and the container detail, not a five-key stub.
 */
export interface StoppedTask {
  taskArn: string;
  definition: TaskDefinitionRevision;
  params: Record<string, unknown>;
  capacity: string;
  container: string;
  image: string;
  startedAt: number;
  stoppedAt: number;
  stopCode: string;
  stoppedReason: string;
  exitCode: number | null;
  region: string;
}

/** Stable hex of `length` characters from `seed`: IDs that look like AWS's and repeat per task. */
const hex = (seed: string, length: number) =>
  createHash('sha256').update(seed).digest('hex').repeat(2).slice(0, length);

export const describeStoppedTask = (task: StoppedTask): Record<string, unknown> => {
  const id = task.taskArn.split('/').at(-1) ?? '';
  const eni = `eni-${hex(`${id}eni`, 17)}`;
  const attachment = `${hex(`${id}a`, 8)}-${hex(`${id}b`, 4)}-${hex(`${id}c`, 4)}-${hex(`${id}d`, 4)}-${hex(`${id}e`, 12)}`;
  const ip = `10.0.${Number.parseInt(hex(id, 2), 16) % 32}.${Number.parseInt(hex(`${id}ip`, 2), 16)}`;
  const subnets =
    (task.params.NetworkConfiguration as { AwsvpcConfiguration?: { Subnets?: string[] } } | undefined)
      ?.AwsvpcConfiguration?.Subnets ?? [];
  const digest = /@(sha256:[0-9a-f]{64})$/.exec(task.image)?.[1];
  const overrides = (task.params.Overrides as { ContainerOverrides?: unknown[] } | undefined) ?? {};
  const tags = (task.params.Tags as { Key: string; Value: string }[] | undefined) ?? [];
  const managedTags = task.params.EnableECSManagedTags
    ? [
        { Key: 'aws:ecs:clusterName', Value: String(task.params.Cluster).split('/').at(-1) ?? '' },
        { Key: 'aws:ecs:serviceName', Value: '' },
      ].filter((tag) => tag.Value !== '')
    : [];
  const stopping = Math.max(task.startedAt, task.stoppedAt - 30_000);
  return {
    Attachments: [
      {
        Id: attachment,
        Type: 'ElasticNetworkInterface',
        Status: 'DELETED',
        Details: [
          { Name: 'subnetId', Value: subnets[0] ?? 'subnet-0' },
          { Name: 'networkInterfaceId', Value: eni },
          { Name: 'macAddress', Value: '0a:1b:2c:3d:4e:5f' },
          { Name: 'privateDnsName', Value: `ip-${ip.replaceAll('.', '-')}.${task.region}.compute.internal` },
          { Name: 'privateIPv4Address', Value: ip },
        ],
      },
    ],
    Attributes: [{ Name: 'ecs.cpu-architecture', Value: 'x86_64' }],
    AvailabilityZone: `${task.region}a`,
    CapacityProviderName: task.capacity,
    ClusterArn: task.params.Cluster,
    Connectivity: 'CONNECTED',
    ConnectivityAt: task.startedAt - 20_000,
    Containers: [
      {
        ContainerArn: `${task.taskArn.replace(':task/', ':container/')}/${hex(`${id}container`, 8)}-${hex(`${id}c2`, 4)}-${hex(`${id}c3`, 4)}-${hex(`${id}c4`, 4)}-${hex(`${id}c5`, 12)}`,
        Cpu: '0',
        ExitCode: task.exitCode,
        GpuIds: [],
        Image: task.image,
        ...(digest ? { ImageDigest: digest } : {}),
        LastStatus: 'STOPPED',
        ManagedAgents: [],
        Name: task.container,
        NetworkBindings: [],
        NetworkInterfaces: [{ AttachmentId: attachment, PrivateIpv4Address: ip }],
        Reason: task.exitCode === null ? task.stoppedReason : undefined,
        RuntimeId: `${id}-${hex(`${id}runtime`, 10)}`,
        TaskArn: task.taskArn,
      },
    ],
    Cpu: String(task.definition.definition.cpu ?? '2048'),
    CreatedAt: task.startedAt - 45_000,
    DesiredStatus: 'STOPPED',
    EnableExecuteCommand: false,
    EphemeralStorage: { SizeInGiB: 20 },
    ExecutionStoppedAt: task.stoppedAt - 5_000,
    FargateEphemeralStorage: { SizeInGiB: 20 },
    Group: `family:${task.definition.family}`,
    HealthStatus: 'UNKNOWN',
    InferenceAccelerators: [],
    LastStatus: 'STOPPED',
    LaunchType: 'FARGATE',
    Memory: String(task.definition.definition.memory ?? '8192'),
    Overrides: { ...overrides, InferenceAcceleratorOverrides: [] },
    PlatformFamily: 'Linux',
    PlatformVersion: '1.4.0',
    PullStartedAt: task.startedAt - 15_000,
    PullStoppedAt: task.startedAt - 2_000,
    StartedAt: task.startedAt,
    StartedBy: task.params.StartedBy,
    StopCode: task.stopCode,
    StoppedAt: task.stoppedAt,
    StoppedReason: task.stoppedReason,
    StoppingAt: stopping,
    Tags: [...tags, ...managedTags],
    TaskArn: task.taskArn,
    TaskDefinitionArn: task.definition.arn,
    Version: 4,
  };
};

/**
 * A child execution as `states:startExecution.sync:2` reports it: DescribeExecution, PascalCase,
 * epoch milliseconds, Input as the text the parent passed. A failed child's description is the
 * whole Cause of the parent's States.TaskFailed, its own Error and Cause inside.
 */
export const describeExecution = (execution: {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: string;
  input: unknown;
  startDate: number;
  stopDate: number;
  error?: { Error: string; Cause: string };
  output?: unknown;
}): Record<string, unknown> => ({
  ExecutionArn: execution.executionArn,
  Input: typeof execution.input === 'string' ? execution.input : JSON.stringify(execution.input),
  InputDetails: { Included: true },
  Name: execution.name,
  ...(execution.output === undefined ? {} : { Output: execution.output, OutputDetails: { Included: true } }),
  ...(execution.error ? { Error: execution.error.Error, Cause: execution.error.Cause } : {}),
  RedriveCount: 0,
  RedriveStatus: execution.status === 'SUCCEEDED' ? 'NOT_REDRIVABLE' : 'REDRIVABLE',
  StartDate: execution.startDate,
  StateMachineArn: execution.stateMachineArn,
  Status: execution.status,
  StopDate: execution.stopDate,
});
