import {
  LOCAL_SUBSTITUTIONS,
  readCases,
  runWorkflow,
  seedWorld,
  unmarshall,
  type World,
} from '@tradai/local-aws';
import { describe, expect, it } from 'vitest';

const DEPLOYMENTS = String(LOCAL_SUBSTITUTIONS.DeploymentsTable);
const LEASES = String(LOCAL_SUBSTITUTIONS.DeployLeasesTable);
const SERVICE = 'tradai-local-dry-run-strategytestv3';

const deployment = (world: World, id: string) => {
  const item = world.item(DEPLOYMENTS, { deployment_id: { S: id } });
  return item && unmarshall(item);
};
const lease = (world: World) => {
  const item = world.item(LEASES, { service_name: { S: SERVICE } });
  return item && unmarshall(item);
};
const request = (id: string) => ({
  request_id: id,
  strategy_name: 'StrategyTestV3',
  strategy_version: '1.0.0',
  environment: 'dry-run',
});

// Deploys that are safe for a live trading bot (docs/decisions/0031).
describe('deploys of one service', () => {
  it('two concurrent deploys of one service: the second is refused by name, the first is unharmed', async () => {
    // Prepare: A holds the lease and waits for its rollout; B starts meanwhile
    const world = seedWorld();
    let second: ReturnType<typeof runWorkflow> | undefined;
    const first = runWorkflow({
      machine: 'deploy',
      caseName: 'DryRunHappyPath',
      input: request('deploy-a'),
      world,
      holdAt: {
        state: 'WaitForRollout',
        until: () => {
          second = runWorkflow({
            machine: 'deploy',
            caseName: 'DryRunHappyPath',
            input: request('deploy-b'),
            world,
          });
          return second;
        },
      },
    });

    // Act
    const a = await first;
    const b = await (second as NonNullable<typeof second>);

    // Assess
    expect(b.status).toBe('FAILED');
    expect(b.error?.Error).toBe('DeploymentInProgressError');
    expect(b.error?.Cause).toContain(
      `Service ${SERVICE} is being deployed by execution ${a.end.executionArn}`,
    );
    expect(b.states).not.toContain('UpdateService');
    expect(deployment(world, 'deploy-b')).toMatchObject({
      status: 'FAILED',
      error_name: 'DeploymentInProgressError',
    });
    expect(a.status).toBe('SUCCEEDED');
    expect(deployment(world, 'deploy-a')).toMatchObject({ status: 'DEPLOYED' });
    const updates = world.changes.filter((change) => change.kind === 'ecs:update-service');
    expect(updates).toHaveLength(1);
    expect(lease(world)).toBeUndefined();
  });

  it('a deploy aborted while it holds the lease: the reconciler releases it and the next deploy proceeds', async () => {
    // Prepare
    const world = seedWorld();
    const aborted = await runWorkflow({ machine: 'deploy', caseName: 'AbortedWhileHoldingLease', world });
    expect(aborted.status).toBe('ABORTED');

    // Act
    const next = await runWorkflow({
      machine: 'deploy',
      caseName: 'DryRunHappyPath',
      input: request('deploy-after-abort'),
      world,
    });

    // Assess
    expect(lease(world)).toBeUndefined();
    expect(next.status).toBe('SUCCEEDED');
    expect(next.states).toContain('UpdateService');
  });

  it('a lease whose deploy outlived its expiry is taken over', async () => {
    // Prepare: a lease from a deploy that ended without releasing it, long expired
    const world = seedWorld();
    world.putItem(
      LEASES,
      { service_name: { S: SERVICE } },
      {
        service_name: { S: SERVICE },
        execution_arn: { S: 'arn:aws:states:us-east-1:123456789012:execution:tradai-local-deploy:gone' },
        expires_at: { S: '2026-01-01T00:00:00.000Z' },
      },
      {},
    );

    // Act
    const run = await runWorkflow({ machine: 'deploy', caseName: 'DryRunHappyPath', world });

    // Assess
    expect(run.status).toBe('SUCCEEDED');
  });

  // A redriven deploy that lost its lease leaves the other deploy's lease as it found it (live-bots.test.ts).
  const ownLeaseCases = Object.entries(readCases('deploy').cases)
    .filter(([, definition]) => !definition.world?.redrive)
    .map(([name]) => name);
  it.each(ownLeaseCases)('%s leaves no lease behind', async (caseName) => {
    // Act
    const run = await runWorkflow({ machine: 'deploy', caseName });

    // Assess
    expect(lease(run.world)).toBeUndefined();
  });
});

describe('rollback of only what this deploy deployed', () => {
  it('SupersededByNewerDeploy: the service is not touched; SUPERSEDED with the task definition it runs', async () => {
    // Act
    const run = await runWorkflow({ machine: 'deploy', caseName: 'SupersededByNewerDeploy' });

    // Assess
    const record = deployment(run.world, 'deploy-20260105-strategytestv3-dry-run');
    const service = run.world.services.get(SERVICE);
    expect(record).toMatchObject({
      status: 'SUPERSEDED',
      running_task_definition_arn: service?.taskDefinition,
    });
    expect(record?.running_task_definition_arn).not.toBe(record?.task_definition_arn);
    expect(run.states).not.toContain('RollBack');
    const updates = run.world.changes.filter((change) => change.kind === 'ecs:update-service');
    expect(updates.at(-1)).toMatchObject({ taskDefinition: service?.taskDefinition });
  });

  it("RolledBackByEcsCircuitBreaker: ECS's own rollback is detected, not fought", async () => {
    // Act
    const run = await runWorkflow({ machine: 'deploy', caseName: 'RolledBackByEcsCircuitBreaker' });

    // Assess
    const record = deployment(run.world, 'deploy-20260105-strategytestv3-dry-run');
    const previous = seedWorld().services.get(SERVICE)?.taskDefinition;
    expect(record).toMatchObject({ status: 'ROLLED_BACK_BY_ECS', running_task_definition_arn: previous });
    expect(run.states).not.toContain('RollBack');
    expect(run.error?.Cause).toContain('ECS rolled the service back');
  });
});

describe('never two bots trading at once', () => {
  it('StopBeforeStartRollout: a service on ECS defaults is replaced stop-before-start, one task at most at every step', async () => {
    // Act
    const run = await runWorkflow({ machine: 'deploy', caseName: 'StopBeforeStartRollout' });

    // Assess
    const service = run.world.services.get(SERVICE);
    expect(seedWorld().services.get(SERVICE)?.deploymentConfiguration.maximumPercent).toBe(200);
    expect(service?.deploymentConfiguration).toEqual({ maximumPercent: 100, minimumHealthyPercent: 0 });
    expect(service?.runningTasks).toEqual([1, 0, 1]);
  });

  it.each(Object.keys(readCases('deploy').cases))(
    '%s never runs two tasks of the service',
    async (caseName) => {
      // Act
      const run = await runWorkflow({ machine: 'deploy', caseName });

      // Assess
      for (const service of run.world.services.values())
        expect(Math.max(...service.runningTasks)).toBeLessThanOrEqual(1);
    },
  );

  it('the world itself would overlap two bots under ECS defaults, so the check above can fail', () => {
    // Act
    const world = seedWorld();
    const service = world.updateService(SERVICE, world.services.get(SERVICE)?.taskDefinition ?? '', {
      force: true,
    });

    // Assess
    expect(service?.runningTasks).toEqual([1, 2]);
  });

  it('starts no deployment for an UpdateService that changes nothing and is not forced, as ECS does', () => {
    // Arrange (ECS UpdateService API reference: forceNewDeployment "start a new deployment with no
    // service definition changes"; it defaults to false)
    const world = seedWorld();
    const before = world.services.get(SERVICE);
    const deployments = before?.deployments.length;

    // Act
    const service = world.updateService(SERVICE, before?.taskDefinition ?? '');

    // Assess
    expect(service?.deployments).toHaveLength(deployments ?? -1);
    expect(service?.runningTasks).toEqual([1]);
  });
});
