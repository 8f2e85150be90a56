/*
 * The packaged stack, deployed into moto's CloudFormation as `sls deploy` would deploy it: the
 * artefacts uploaded to a bucket first, each function's Code pointed at it (the deployment bucket
 * is created by the stack itself, so it cannot hold the code the stack needs), then CreateStack with
 * the template `sls package` wrote, unchanged otherwise.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  paginateListStackResources,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';
export const STACK_NAME = 'tradai-workflows-dev';
const ARTEFACTS = 'tradai-integration-artefacts';

/** What every client of the tier uses: moto's endpoint, its region and test credentials. */
export const clientConfig = (endpoint: string) => ({
  endpoint,
  region: REGION,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  // Buckets as paths: moto on 127.0.0.1 has no per-bucket host names.
  forcePathStyle: true,
  maxAttempts: 1,
});

export interface Deployed {
  status: string;
  resources: StackResourceSummary[];
  seconds: number;
}

/** Deploys the template `sls package` wrote in `dir`, and waits until the stack is no longer in progress. */
export const deployPackaged = async (dir: string, endpoint: string): Promise<Deployed> => {
  const config = clientConfig(endpoint);
  const s3 = new S3Client(config);
  const cloudformation = new CloudFormationClient(config);
  await s3.send(new CreateBucketCommand({ Bucket: ARTEFACTS }));
  const template = JSON.parse(
    readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
  );
  for (const zip of readdirSync(dir).filter((file) => file.endsWith('.zip'))) {
    await s3.send(
      new PutObjectCommand({ Bucket: ARTEFACTS, Key: zip, Body: readFileSync(path.join(dir, zip)) }),
    );
  }
  for (const resource of Object.values(template.Resources) as {
    Type: string;
    Properties: { Code?: { S3Key: string } };
  }[]) {
    if (resource.Type !== 'AWS::Lambda::Function' || !resource.Properties.Code) continue;
    resource.Properties.Code = {
      S3Bucket: ARTEFACTS,
      S3Key: path.basename(resource.Properties.Code.S3Key),
    } as never;
  }
  await s3.send(
    new PutObjectCommand({ Bucket: ARTEFACTS, Key: 'template.json', Body: JSON.stringify(template) }),
  );

  const started = performance.now();
  await cloudformation.send(
    new CreateStackCommand({
      StackName: STACK_NAME,
      TemplateURL: `https://${ARTEFACTS}.s3.amazonaws.com/template.json`,
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
    }),
  );
  let status = 'CREATE_IN_PROGRESS';
  const deadline = Date.now() + 120_000;
  while (status.endsWith('_IN_PROGRESS') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: STACK_NAME }));
    status = Stacks?.[0]?.StackStatus ?? 'UNKNOWN';
  }
  const resources: StackResourceSummary[] = [];
  for await (const page of paginateListStackResources({ client: cloudformation }, { StackName: STACK_NAME }))
    resources.push(...(page.StackResourceSummaries ?? []));
  return { status, resources, seconds: (performance.now() - started) / 1000 };
};
