import { beforeAll, describe, expect, inject, it } from 'vitest';
import { deliveries, deliveryProblem, type Resources } from './alerts';
import { readPackaged } from './package-stack';

let resources: Resources;
beforeAll(() => {
  resources = readPackaged(inject('packagedDir')).template.Resources;
});

describe('alerts that can reach a person', () => {
  it('lets every alarm action and rule target actually deliver: no AWS-managed key, a key grant and a topic policy', () => {
    // Act
    const problems = deliveries(resources).flatMap(({ service, targetId, from }) => {
      const problem = deliveryProblem(resources, service, targetId);
      return problem ? [`${from}: ${problem}`] : [];
    });

    // Assess
    expect(deliveries(resources).filter((d) => d.targetId === 'AlertsTopic').length).toBeGreaterThanOrEqual(
      10,
    );
    expect(problems).toEqual([]);
  });

  it('refuses a topic encrypted with alias/aws/sns, as the stack had it', () => {
    // Prepare: the alerts topic as it was
    const before: Resources = {
      ...resources,
      AlertsTopic: { Type: 'AWS::SNS::Topic', Properties: { KmsMasterKeyId: 'alias/aws/sns' } },
    };

    // Act
    const problem = deliveryProblem(before, 'cloudwatch.amazonaws.com', 'AlertsTopic');

    // Assess
    expect(problem).toMatch(/AWS-managed key alias\/aws\/sns/);
  });

  it('refuses a customer-managed key that grants EventBridge nothing, for a rule that would target it', () => {
    expect(deliveryProblem(resources, 'events.amazonaws.com', 'AlertsTopic')).toMatch(
      /does not let events.amazonaws.com/,
    );
  });

  it('encrypts the alerts topic with a rotating customer-managed key that CloudWatch may use for this account only', () => {
    expect(resources.AlertsKey?.Properties).toMatchObject({ EnableKeyRotation: true });
    expect(resources.AlertsTopic?.Properties?.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': ['AlertsKey', 'Arn'] });
    expect(resources.AlertsEmailSubscription).toMatchObject({
      Condition: 'HasAlertsEmail',
      Properties: { Protocol: 'email', TopicArn: { Ref: 'AlertsTopic' } },
    });
  });
});

describe('the operations dashboard', () => {
  const body = () => {
    const sub = resources.OperationsDashboard?.Properties?.DashboardBody as { 'Fn::Sub': [string, unknown] };
    // The ${...} placeholders are filled by CloudFormation; as JSON they are strings already.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
    return JSON.parse(sub['Fn::Sub'][0].replace('[${AlarmArns}]', '[]')) as {
      widgets: { type: string; properties: { title: string; metrics?: unknown[][] } }[];
    };
  };

  it.each([
    ['Executions by workflow and outcome', ['ExecutionSucceeded', 'ExecutionFailed']],
    ['Failures: business (shown) vs infrastructure (pages)', ['InfrastructureFailure', 'BusinessFailure']],
    ['Backtest duration (s)', ['ExecutionDuration']],
    ['Spot fallbacks to on-demand Fargate', ['SpotFallback']],
    ['Dead-letter queue depth', ['ApproximateNumberOfMessagesVisible']],
    ['Backtest trigger: batch failures', ['FailedInvocations', 'BacktestRequestsParked']],
  ])('has the widget "%s"', (title, metrics) => {
    // Act
    const widget = body().widgets.find((w) => w.properties.title === title);

    // Assess
    const named = (widget?.properties.metrics ?? []).map((row) => row[1]);
    for (const metric of metrics) expect(named).toContain(metric);
  });

  it('shows p50, p90 and max of the backtest duration', () => {
    const widget = body().widgets.find((w) => w.properties.title === 'Backtest duration (s)');
    const stats = (widget?.properties.metrics ?? []).map((row) => (row.at(-1) as { stat?: string }).stat);
    expect(stats).toEqual(['p50', 'p90', 'Maximum']);
  });
});
