import {
  DescribeImagesCommand,
  ECRClient,
  ImageNotFoundException,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import { HeadObjectCommand, NotFound, S3Client } from '@aws-sdk/client-s3';
import { awsError, fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const ecrMock = mockClient(ECRClient);
const s3Mock = mockClient(S3Client);

const DIGEST = `sha256:${'ab12'.repeat(16)}`;
const event = { strategy_name: 'MomentumStrategy', strategy_version: '1.0.0' };
const invoke = (input: unknown) => handler(input, fakeContext('tradai-dev-validate-strategy'));

const imageFound = () =>
  ecrMock.on(DescribeImagesCommand).resolves({
    imageDetails: [
      {
        registryId: '123456789012',
        repositoryName: 'tradai/strategies/momentumstrategy',
        imageDigest: DIGEST,
      },
    ],
  });
const configFound = () => s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 812 });

describe('validate-strategy', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    ecrMock.reset();
    s3Mock.reset();
    vi.stubEnv('STRATEGY_BUCKET', 'tradai-dev-strategies');
  });

  it('returns valid with the image pinned by digest and the config path', async () => {
    // Prepare
    imageFound();
    configFound();

    // Act
    const result = await invoke(event);

    // Assess
    expect(result).toEqual({
      valid: true,
      image_uri: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/tradai/strategies/momentumstrategy@${DIGEST}`,
      config_path: 's3://tradai-dev-strategies/strategies/MomentumStrategy/1.0.0/config.json',
      reasons: [],
    });
    expect(ecrMock).toReceiveCommandWith(DescribeImagesCommand, {
      repositoryName: 'tradai/strategies/momentumstrategy',
      imageIds: [{ imageTag: '1.0.0' }],
    });
    expect(s3Mock).toReceiveCommandWith(HeadObjectCommand, {
      Bucket: 'tradai-dev-strategies',
      Key: 'strategies/MomentumStrategy/1.0.0/config.json',
    });
  });

  it('follows the configured repository and config prefixes', async () => {
    // Prepare
    vi.stubEnv('STRATEGY_REPOSITORY_PREFIX', 'quant/strats');
    vi.stubEnv('STRATEGY_CONFIG_PREFIX', 'configs/v2');
    imageFound();
    configFound();

    // Act
    const result = await invoke(event);

    // Assess
    expect(result.config_path).toBe(
      's3://tradai-dev-strategies/configs/v2/MomentumStrategy/1.0.0/config.json',
    );
    expect(ecrMock).toReceiveCommandWith(DescribeImagesCommand, {
      repositoryName: 'quant/strats/momentumstrategy',
    });
  });

  it('answers valid: false with a reason when the image tag is missing', async () => {
    // Prepare
    ecrMock
      .on(DescribeImagesCommand)
      .rejects(new ImageNotFoundException({ message: 'not found', $metadata: {} }));
    configFound();

    // Act
    const result = await invoke(event);

    // Assess
    expect(result.valid).toBe(false);
    expect(result.image_uri).toBeNull();
    expect(result.config_path).not.toBeNull();
    expect(result.reasons).toEqual([
      'image tag 1.0.0 is not in ECR repository tradai/strategies/momentumstrategy',
    ]);
  });

  it('answers valid: false with both reasons when repository and config are missing', async () => {
    // Prepare
    ecrMock
      .on(DescribeImagesCommand)
      .rejects(new RepositoryNotFoundException({ message: 'no repo', $metadata: {} }));
    s3Mock
      .on(HeadObjectCommand)
      .rejects(new NotFound({ message: 'NotFound', $metadata: { httpStatusCode: 404 } }));

    // Act
    const result = await invoke(event);

    // Assess
    expect(result).toEqual({
      valid: false,
      image_uri: null,
      config_path: null,
      reasons: [
        'ECR repository tradai/strategies/momentumstrategy does not exist',
        'strategy config s3://tradai-dev-strategies/strategies/MomentumStrategy/1.0.0/config.json does not exist',
      ],
    });
  });

  it('answers valid: false for an empty config object', async () => {
    // Prepare
    imageFound();
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 0 });

    // Act
    const result = await invoke(event);

    // Assess
    expect(result.valid).toBe(false);
    expect(result.reasons[0]).toMatch(/is empty$/);
  });

  it('answers valid: false when ECR returns no usable digest', async () => {
    // Prepare
    ecrMock
      .on(DescribeImagesCommand)
      .resolves({ imageDetails: [{ registryId: '123456789012', imageDigest: 'md5:x' }] });
    configFound();

    // Act & Assess
    expect((await invoke(event)).reasons).toEqual([
      'image tradai/strategies/momentumstrategy:1.0.0 has no sha256 digest in ECR',
    ]);
  });

  it('raises TransientAwsError when ECR throttles', async () => {
    // Prepare
    ecrMock.on(DescribeImagesCommand).rejects(awsError('ThrottlingException', 400, 'Rate exceeded'));
    configFound();

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({
      name: 'TransientAwsError',
      message: expect.stringContaining('ecr:DescribeImages tradai/strategies/momentumstrategy:1.0.0'),
    });
  });

  it('raises TransientAwsError when S3 answers 503', async () => {
    // Prepare
    imageFound();
    s3Mock.on(HeadObjectCommand).rejects(awsError('SlowDown', 503));

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('raises ConfigurationError when IAM denies the ECR call', async () => {
    // Prepare
    ecrMock.on(DescribeImagesCommand).rejects(awsError('AccessDeniedException', 400, 'not authorized'));
    configFound();

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({ name: 'ConfigurationError' });
  });

  it('raises ConfigurationError when S3 denies the read', async () => {
    // Prepare
    imageFound();
    s3Mock.on(HeadObjectCommand).rejects(awsError('Forbidden', 403));

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining(
        's3:HeadObject s3://tradai-dev-strategies/strategies/MomentumStrategy/1.0.0/config.json',
      ),
    });
  });

  it.each([
    [{ strategy_name: 'MomentumStrategy' }, 'strategy_version'],
    [{ ...event, strategy_name: '../etc' }, 'strategy_name'],
    [{ ...event, strategy_version: '1.0.0/../../x' }, 'strategy_version'],
    [{ ...event, strategy_version: 100 }, 'strategy_version'],
    [{ ...event, extra: 'x' }, 'extra'],
  ])(
    'rejects malformed input %j with a ValidationError naming %s, calling no AWS API',
    async (input, field) => {
      // Act
      const act = invoke(input);

      // Assess
      await expect(act).rejects.toMatchObject({
        name: 'ValidationError',
        message: expect.stringContaining(field),
      });
      expect(ecrMock).not.toHaveReceivedAnyCommand();
      expect(s3Mock).not.toHaveReceivedAnyCommand();
    },
  );

  it('raises ConfigurationError naming STRATEGY_BUCKET when it is not set', async () => {
    // Prepare
    vi.stubEnv('STRATEGY_BUCKET', undefined);

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining('STRATEGY_BUCKET'),
    });
    expect(ecrMock).not.toHaveReceivedAnyCommand();
  });
});
