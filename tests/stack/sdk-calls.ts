import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

/** An AWS SDK v3 client package's IAM service prefix. */
const SERVICE_PREFIX: Record<string, string> = {
  cloudwatch: 'cloudwatch',
  dynamodb: 'dynamodb',
  ecr: 'ecr',
  ecs: 'ecs',
  lambda: 'lambda',
  s3: 's3',
  'secrets-manager': 'secretsmanager',
  sfn: 'states',
  sns: 'sns',
  sqs: 'sqs',
};

/**
 * Commands whose IAM action is not `<prefix>:<Command>` (AWS's Service Authorization Reference:
 * "Actions defined by …"). A command missing here that needs a different action fails the test
 * as a missing grant, so the table only grows from a real call.
 */
const ACTIONS_OF_COMMAND: Record<string, string[]> = {
  's3:ListObjectsV2': ['s3:ListBucket'],
  's3:HeadObject': ['s3:GetObject'],
  's3:DeleteObjects': ['s3:DeleteObject'],
  'lambda:Invoke': ['lambda:InvokeFunction'],
};

export interface SdkCall {
  /** The IAM action AWS authorises the call with. */
  action: string;
  /** Where the call is made, relative to the repository. */
  file: string;
}

/**
 * The IAM actions a function's bundle calls, derived from its sources: every `new XCommand(` in a
 * file whose code the handler's bundle keeps (esbuild's metafile), named by the client package it is
 * imported from. Parameters that make AWS authorise more are added: tags on create
 * (RegisterTaskDefinition with `tags` needs ecs:TagResource) and roles handed over (a task
 * definition naming roles needs iam:PassRole).
 */
export const sdkCallsOf = async (repoRoot: string, entry: string): Promise<SdkCall[]> => {
  const { metafile } = await build({
    entryPoints: [path.join(repoRoot, entry)],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
    plugins: [
      {
        name: 'own-sources-only',
        setup(pluginBuild) {
          // Only the repository's own modules: the SDK and other libraries are not read.
          pluginBuild.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith('@tradai/')
              ? undefined
              : { path: args.path, external: true, sideEffects: false },
          );
        },
      },
    ],
  });
  const calls: SdkCall[] = [];
  // Files whose code the bundle keeps: a barrel's unused modules are tree-shaken to 0 bytes.
  const kept = Object.values(metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs)
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([file]) => file),
  );
  for (const file of new Set(kept)) {
    const source = readFileSync(path.resolve(repoRoot, file), 'utf8');
    const clientOf = new Map<string, string>();
    for (const match of source.matchAll(
      /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([\w-]+)'/g,
    )) {
      for (const name of (match[1] ?? '').split(',')) {
        const imported = name.replace(/\btype\b/, '').trim();
        if (imported.endsWith('Command')) clientOf.set(imported, match[2] ?? '');
      }
    }
    for (const match of source.matchAll(/new (\w+)Command\(/g)) {
      const client = clientOf.get(`${match[1]}Command`);
      const prefix = client === undefined ? undefined : SERVICE_PREFIX[client];
      if (!prefix) throw new Error(`${file}: no IAM prefix known for ${match[1]}Command (client-${client})`);
      const command = `${prefix}:${match[1]}`;
      for (const action of ACTIONS_OF_COMMAND[command] ?? [command]) calls.push({ action, file });
      if (command === 'ecs:RegisterTaskDefinition') {
        if (/\btags:/.test(source)) calls.push({ action: 'ecs:TagResource', file });
        if (/\b(taskRoleArn|executionRoleArn)\b/.test(source)) calls.push({ action: 'iam:PassRole', file });
      }
    }
  }
  return calls;
};
