import {
  type ContainerDefinition,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { ConfigurationError, canonicalJson, toWorkflowError } from '@tradai/lambda-kit';

/** Tag on each pinned revision: the template revision it was cloned from. */
export const TEMPLATE_TAG = 'tradai:template';

const describe = async (ecs: ECSClient, family: string) => {
  try {
    return await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ['TAGS'] }));
  } catch (error) {
    // ECS says "Unable to describe task definition" (ClientException) for a family with no revision.
    if ((error as Error).name === 'ClientException') return undefined;
    throw toWorkflowError(error, `Describing task definition ${family}`);
  }
};

const containerOf = (definition: TaskDefinition | undefined, container: string) =>
  definition?.containerDefinitions?.find((c) => c.name === container);

/** What a pinned revision must hold to be reused: the image, and what a bot's container adds. */
const pinnedPart = (container: ContainerDefinition | undefined) =>
  canonicalJson({
    image: container?.image,
    environment: container?.environment ?? [],
    secrets: container?.secrets ?? [],
    healthCheck: container?.healthCheck ?? null,
  });

export interface PinnedTaskDefinition {
  task_definition_arn: string;
  /** false when the family's latest revision already ran this exact image from this template. */
  registered: boolean;
}

/**
 * ECS container overrides cannot change the image, so the image a backtest runs is fixed by its
 * task definition. This returns a revision of `family` whose strategy container runs exactly
 * `imageUri` (a digest): the latest one if it already does, else a new one cloned from the
 * template (roles, CPU, memory, logging stay the platform's).
 */
export const pinTaskDefinition = async (
  ecs: ECSClient,
  options: {
    templateFamily: string;
    family: string;
    container: string;
    imageUri: string;
    tags: Record<string, string>;
    /** The strategy container as this task runs it (a trading bot's adds its files and secrets). */
    shape?: (template: TaskDefinition, container: ContainerDefinition) => ContainerDefinition;
  },
): Promise<PinnedTaskDefinition> => {
  const template = (await describe(ecs, options.templateFamily))?.taskDefinition;
  if (!template?.taskDefinitionArn) {
    throw new ConfigurationError(`Backtest task template ${options.templateFamily} does not exist`);
  }
  const templateContainer = containerOf(template, options.container);
  if (!templateContainer?.image) {
    throw new ConfigurationError(
      `Backtest task template ${options.templateFamily} has no container named ${options.container}`,
    );
  }
  const imaged = { ...templateContainer, image: options.imageUri };
  const desired = options.shape ? options.shape(template, imaged) : imaged;

  const current = await describe(ecs, options.family);
  const currentTemplate = current?.tags?.find((tag) => tag.key === TEMPLATE_TAG)?.value;
  if (
    current?.taskDefinition?.taskDefinitionArn &&
    pinnedPart(containerOf(current.taskDefinition, options.container)) === pinnedPart(desired) &&
    currentTemplate === template.taskDefinitionArn
  ) {
    return { task_definition_arn: current.taskDefinition.taskDefinitionArn, registered: false };
  }

  const registered = await ecs
    .send(
      new RegisterTaskDefinitionCommand({
        family: options.family,
        containerDefinitions: (template.containerDefinitions ?? []).map((container) =>
          container.name === options.container ? desired : container,
        ),
        taskRoleArn: template.taskRoleArn,
        executionRoleArn: template.executionRoleArn,
        networkMode: template.networkMode,
        volumes: template.volumes,
        placementConstraints: template.placementConstraints,
        requiresCompatibilities: template.requiresCompatibilities,
        cpu: template.cpu,
        memory: template.memory,
        ephemeralStorage: template.ephemeralStorage,
        runtimePlatform: template.runtimePlatform,
        tags: Object.entries({ ...options.tags, [TEMPLATE_TAG]: template.taskDefinitionArn }).map(
          ([key, value]) => ({ key, value }),
        ),
      }),
    )
    .catch((error: unknown) => {
      throw toWorkflowError(error, `Registering task definition ${options.family}`);
    });
  const arn = registered.taskDefinition?.taskDefinitionArn;
  if (!arn) throw new ConfigurationError(`ECS registered ${options.family} but returned no ARN`);
  return { task_definition_arn: arn, registered: true };
};
