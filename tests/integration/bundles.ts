/*
 * The packaged bundles, run as they ship: each function's zip from `sls package`, unpacked, its
 * handler run in a Node process of its own with the environment the template deploys and
 * AWS_ENDPOINT_URL pointing at moto. Nothing of the TypeScript sources is loaded.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { inject } from 'vitest';
import { ACCOUNT, REGION } from './deploy';

const HARNESS = path.join(import.meta.dirname, 'invoke-bundle.cjs');

interface LambdaResource {
  Type: string;
  Properties: {
    FunctionName: string;
    Handler: string;
    Timeout?: number;
    Code: { S3Key: string };
    Environment?: { Variables?: Record<string, unknown> };
  };
}

const template = () => {
  const { packagedDir } = inject('moto');
  return JSON.parse(
    readFileSync(path.join(packagedDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as { Resources: Record<string, LambdaResource> };
};

/** The function `tradai-dev-<name>` as the template deploys it. */
const functionNamed = (name: string) => {
  const found = Object.values(template().Resources).find(
    (resource) =>
      resource.Type === 'AWS::Lambda::Function' && resource.Properties.FunctionName === `tradai-dev-${name}`,
  );
  if (!found) throw new Error(`The packaged template has no function tradai-dev-${name}`);
  return found.Properties;
};

/** The function's zip, unpacked once per run (into a folder of the run's own). */
const unpacked = (zipName: string) => {
  const { packagedDir, unpackedDir } = inject('moto');
  const dir = path.join(unpackedDir, path.basename(zipName, '.zip'));
  if (!existsSync(dir)) {
    const files = unzipSync(readFileSync(path.join(packagedDir, path.basename(zipName))));
    for (const [name, contents] of Object.entries(files)) {
      const target = path.join(dir, name);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, contents);
    }
  }
  return dir;
};

export type Invoked =
  | { ok: true; result: unknown; logs: string }
  | { ok: false; errorType: string; errorMessage: string; logs: string };

/**
 * Invokes the packaged function `tradai-dev-<name>` once with `event`, against moto. `env` adds to
 * (or overrides) the deployed environment, as a stage's setting would.
 */
export const invokePackaged = (name: string, event: unknown, env: Record<string, string> = {}): Invoked => {
  const { endpoint } = inject('moto');
  const fn = functionNamed(name);
  const dir = unpacked(fn.Code.S3Key);
  const [modulePath, exportName] = [
    fn.Handler.slice(0, fn.Handler.lastIndexOf('.')),
    fn.Handler.slice(fn.Handler.lastIndexOf('.') + 1),
  ];
  const deployed = Object.fromEntries(
    Object.entries(fn.Environment?.Variables ?? {}).map(([key, value]) => {
      if (typeof value !== 'string') throw new Error(`${fn.FunctionName}: ${key} is not a literal`);
      return [key, value];
    }),
  );
  const timeoutMs = (fn.Timeout ?? 6) * 1000;
  const run = spawnSync(process.execPath, [HARNESS, path.join(dir, `${modulePath}.js`), exportName], {
    input: JSON.stringify({
      event,
      context: {
        functionName: fn.FunctionName,
        functionVersion: '$LATEST',
        invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn.FunctionName}`,
        memoryLimitInMB: '256',
        awsRequestId: randomUUID(),
        logGroupName: `/aws/lambda/${fn.FunctionName}`,
        logStreamName: 'integration',
        timeoutMs,
      },
    }),
    encoding: 'utf8',
    timeout: timeoutMs + 10_000,
    env: {
      PATH: process.env.PATH,
      ...deployed,
      ...env,
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_ENDPOINT_URL: endpoint,
      AWS_LAMBDA_FUNCTION_NAME: fn.FunctionName,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      NODE_OPTIONS: '--enable-source-maps',
    },
  });
  const logs = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  const marker = '@@tradai-invoke-result@@';
  const at = (run.stdout ?? '').lastIndexOf(marker);
  if (at < 0) throw new Error(`${fn.FunctionName} did not answer (exit ${run.status}):\n${logs}`);
  return { ...JSON.parse(run.stdout.slice(at + marker.length)), logs };
};
