/** SDK clients on moto, for the tests to arrange the world and read back what the bundles did. */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { clientConfig } from './deploy';

const clients = (endpoint: string) => {
  const config = clientConfig(endpoint);
  return {
    cloudformation: new CloudFormationClient(config),
    dynamodb: new DynamoDBClient(config),
    ecr: new ECRClient(config),
    ecs: new ECSClient(config),
    s3: new S3Client(config),
    sfn: new SFNClient(config),
    sns: new SNSClient(config),
    sqs: new SQSClient(config),
  };
};
let made: { endpoint: string; clients: ReturnType<typeof clients> } | undefined;

/** The clients, made once per test file (per moto endpoint), not per call. */
export const aws = () => {
  const { endpoint } = inject('moto');
  if (made?.endpoint !== endpoint) made = { endpoint, clients: clients(endpoint) };
  return made.clients;
};

/** The physical id (a name, URL or ARN) moto gave a resource of the stack. */
export const physicalId = (logicalId: string) => {
  const found = inject('moto').resources.find((r) => r.logicalId === logicalId);
  if (!found) throw new Error(`The stack has no resource ${logicalId}`);
  return found.physicalId;
};
