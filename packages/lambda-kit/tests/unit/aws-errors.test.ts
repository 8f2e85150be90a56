import { describe, expect, it } from 'vitest';
import { isTransientAwsError, toWorkflowError } from '../../src';
import { awsError } from '../../src/testing';

const networkError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('toWorkflowError', () => {
  it.each([
    ['ThrottlingException (400)', awsError('ThrottlingException', 400)],
    ['TooManyRequestsException (429)', awsError('TooManyRequestsException', 429)],
    ['SlowDown (503)', awsError('SlowDown', 503)],
    ['InternalError (500)', awsError('InternalError', 500)],
    ['ServerException (502)', awsError('ServerException', 502)],
    ['TimeoutError', Object.assign(new Error('socket timeout'), { name: 'TimeoutError' })],
    ['ECONNRESET', networkError('ECONNRESET')],
    ['ENOTFOUND', networkError('ENOTFOUND')],
  ])('maps %s to the retryable TransientAwsError', (_label, error) => {
    // Act
    const mapped = toWorkflowError(error, 's3:GetObject s3://b/k');

    // Assess
    expect(isTransientAwsError(error)).toBe(true);
    expect(mapped.name).toBe('TransientAwsError');
    expect(mapped.message).toContain('s3:GetObject s3://b/k');
    expect(mapped.cause).toBe(error);
  });

  it.each([
    ['AccessDenied (403)', awsError('AccessDenied', 403)],
    ['AccessDeniedException (400)', awsError('AccessDeniedException', 400)],
    ['a bare 403', awsError('Forbidden', 403)],
  ])('maps %s to ConfigurationError: an IAM problem is not retried', (_label, error) => {
    // Act
    const mapped = toWorkflowError(error, 'ecr:DescribeImages repo:1.0.0');

    // Assess
    expect(mapped.name).toBe('ConfigurationError');
    expect(mapped.message).toContain("check the function's IAM role");
  });

  it('maps missing credentials to ConfigurationError saying where credentials come from', () => {
    // Prepare
    const error = Object.assign(new Error('Could not load credentials'), {
      name: 'CredentialsProviderError',
    });

    // Act
    const mapped = toWorkflowError(error, 's3:HeadObject s3://b/k');

    // Assess
    expect(mapped.name).toBe('ConfigurationError');
    expect(mapped.message).toMatch(/^s3:HeadObject s3:\/\/b\/k found no AWS credentials/);
  });

  it('returns any other error unchanged so it reaches the unknown-error path', () => {
    // Prepare
    const error = awsError('InvalidParameterException', 400);

    // Act & Assess
    expect(toWorkflowError(error, 'op')).toBe(error);
  });

  it('wraps a thrown non-error value in an Error naming the operation', () => {
    // Act
    const mapped = toWorkflowError('boom', 'sns:Publish');

    // Assess
    expect(mapped).toBeInstanceOf(Error);
    expect(mapped.message).toBe('sns:Publish failed: boom');
  });
});
