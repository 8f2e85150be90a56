import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { repoRoot, runSls } from '../stack/package-stack';
import { deployPackaged, STACK_NAME } from './deploy';
import { findMoto, startMoto } from './moto';
import { seedMoto } from './seed';

/**
 * Once per run: `sls package`, moto_server on a free port, and the packaged stack deployed into it.
 * Every test file then runs the packaged bundles against the resources the stack created.
 */
export default async function setup(project: TestProject) {
  const moto = findMoto();
  if (!moto.ok) throw new Error(moto.why);
  // `sls package` writes .serverless/, as before a deploy: CI lints that template afterwards.
  const packaged = runSls(['package', '--stage', 'dev']);
  if (packaged.status !== 0) throw new Error(`sls package failed:\n${packaged.stdout}\n${packaged.stderr}`);
  const dir = path.join(repoRoot, '.serverless');
  // Where each function's zip is unpacked for its run: fresh, so no earlier build is ever run.
  const unpackedDir = mkdtempSync(path.join(tmpdir(), 'tradai-bundles-'));
  const server = await startMoto();
  const cleanup = async () => {
    await server.stop();
    rmSync(unpackedDir, { recursive: true, force: true });
  };
  try {
    const deployed = await deployPackaged(dir, server.endpoint);
    await seedMoto(server.endpoint);
    const complete = deployed.resources.filter((r) => r.ResourceStatus === 'CREATE_COMPLETE').length;
    // moto accepts some types without modelling them; it says so in its log. Named, not hidden.
    const unmodelled = [
      ...new Set([...server.log().matchAll(/No Moto CloudFormation support for ([\w:]+)/g)].map((m) => m[1])),
    ].sort();
    console.log(
      `moto_server (pid ${server.pid}) on ${server.endpoint}: stack ${STACK_NAME} ${deployed.status} in ${deployed.seconds.toFixed(1)} s, ` +
        `${complete} of ${deployed.resources.length} resources CREATE_COMPLETE` +
        (unmodelled.length ? `; accepted but not modelled by moto: ${unmodelled.join(', ')}` : ''),
    );
    project.provide('moto', {
      endpoint: server.endpoint,
      packagedDir: dir,
      unpackedDir,
      stackStatus: deployed.status,
      resources: deployed.resources.map((r) => ({
        logicalId: String(r.LogicalResourceId),
        type: String(r.ResourceType),
        status: String(r.ResourceStatus),
        physicalId: String(r.PhysicalResourceId),
      })),
      unmodelled: unmodelled as string[],
    });
  } catch (error) {
    await cleanup();
    throw error;
  }
  return cleanup;
}

declare module 'vitest' {
  export interface ProvidedContext {
    moto: {
      endpoint: string;
      packagedDir: string;
      unpackedDir: string;
      stackStatus: string;
      resources: { logicalId: string; type: string; status: string; physicalId: string }[];
      unmodelled: string[];
    };
  }
}
