import { createServer, type Server, type Socket } from 'node:net';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientConfig, toWorkflowError } from '../../src';

/*
 * A hung endpoint, for real: a TCP server that accepts the connection and never answers. No mock
 * stands in for the SDK's HTTP handler here; what is tested is the shipped client configuration.
 */
describe('a call to a hung endpoint', () => {
  let server: Server;
  let port = 0;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.push(socket); // hold it open, say nothing
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fails with TimeoutError after requestTimeout, which the workflows treat as transient', async () => {
    // Prepare: the shipped settings, one attempt (the SDK's retries would repeat the same wait)
    const s3 = new S3Client({
      ...awsClientConfig,
      maxAttempts: 1,
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const started = Date.now();

    // Act
    const error = await s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' })).then(
      () => undefined,
      (failure: unknown) => failure as Error,
    );

    // Assess: smithy without throwOnRequestTimeout only warns and waits on (the function's 30 s)
    const elapsed = Date.now() - started;
    expect(error?.name).toBe('TimeoutError');
    expect(elapsed).toBeGreaterThanOrEqual(awsClientConfig.requestHandler.requestTimeout - 100);
    expect(elapsed).toBeLessThan(awsClientConfig.requestHandler.requestTimeout + 2_000);
    expect(toWorkflowError(error, 'Reading s3://b/k').name).toBe('TransientAwsError');
  }, 15_000);

  it("ends every attempt well inside a function's 30 s timeout", () => {
    const { maxAttempts, requestHandler } = awsClientConfig;
    expect(maxAttempts * (requestHandler.connectionTimeout + requestHandler.requestTimeout)).toBeLessThan(
      30_000,
    );
  });
});
