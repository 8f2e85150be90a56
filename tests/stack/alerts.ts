/*
 * What AWS does with the template's alarms and rules, as far as these checks need it: which
 * service principal publishes where, whether the target's encryption and policy let it, and
 * whether a set of datapoints breaches an alarm.
 */

export type Resource = { Type: string; Properties?: Record<string, unknown>; Condition?: string };
export type Resources = Record<string, Resource>;

type Statement = {
  Sid?: string;
  Effect: string;
  Principal?: { Service?: string | string[]; AWS?: unknown };
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** `{Ref: X}` or `{Fn::GetAtt: [X, ...]}` -> X; anything else -> undefined. */
export const referencedId = (value: unknown): string | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  if ('Ref' in value) return String((value as { Ref: unknown }).Ref);
  const getAtt = (value as { 'Fn::GetAtt'?: unknown[] })['Fn::GetAtt'];
  return Array.isArray(getAtt) ? String(getAtt[0]) : undefined;
};

/** The statements of a key, topic or queue policy. */
export const statementsOf = (policy: unknown): Statement[] =>
  asList((policy as { Statement?: Statement | Statement[] } | undefined)?.Statement);

const grantsService = (statement: Statement, service: string) =>
  statement.Effect === 'Allow' && asList(statement.Principal?.Service).includes(service);

const limitedToAccount = (statement: Statement) =>
  Object.values(statement.Condition ?? {}).some((test) => 'aws:SourceAccount' in test);

/**
 * Why `service` (cloudwatch.amazonaws.com for an alarm, events.amazonaws.com for a rule) cannot
 * deliver to the SNS topic or SQS queue `targetId`, or undefined when it can.
 */
export const deliveryProblem = (
  resources: Resources,
  service: string,
  targetId: string,
): string | undefined => {
  const target = resources[targetId];
  if (!target) return `${targetId} is not in the template`;
  const [kind, publish, policyType, policyKey] =
    target.Type === 'AWS::SNS::Topic'
      ? ['topic', 'sns:Publish', 'AWS::SNS::TopicPolicy', 'Topics']
      : target.Type === 'AWS::SQS::Queue'
        ? ['queue', 'sqs:SendMessage', 'AWS::SQS::QueuePolicy', 'Queues']
        : [];
  if (!kind || !publish || !policyType || !policyKey) return undefined;

  const keyId = target.Properties?.KmsMasterKeyId;
  if (typeof keyId === 'string' && keyId.startsWith('alias/aws/')) {
    return `${targetId} is encrypted with the AWS-managed key ${keyId}, whose policy cannot grant ${service}`;
  }
  const keyResourceId = referencedId(keyId);
  if (keyId !== undefined && !keyResourceId) return `${targetId} uses a key this template cannot check`;
  if (keyResourceId) {
    const key = resources[keyResourceId];
    if (key?.Type !== 'AWS::KMS::Key')
      return `${targetId}'s key ${keyResourceId} is not a KMS key of the stack`;
    if (key.Properties?.EnableKeyRotation !== true) return `${keyResourceId} does not rotate`;
    const grant = statementsOf(key.Properties?.KeyPolicy).find((s) => grantsService(s, service));
    const actions = asList(grant?.Action);
    if (!grant || !actions.includes('kms:Decrypt') || !actions.includes('kms:GenerateDataKey*')) {
      return `${keyResourceId}'s policy does not let ${service} kms:Decrypt and kms:GenerateDataKey*`;
    }
    if (actions.length !== 2)
      return `${keyResourceId} grants ${service} more than it needs: ${actions.join(', ')}`;
    if (!limitedToAccount(grant))
      return `${keyResourceId}'s grant to ${service} is not limited to the account`;
  }
  const allowed = Object.values(resources).some(
    (policy) =>
      policy.Type === policyType &&
      asList(policy.Properties?.[policyKey] as unknown[]).some((t) => referencedId(t) === targetId) &&
      statementsOf(policy.Properties?.PolicyDocument).some(
        (s) => grantsService(s, service) && asList(s.Action).includes(publish) && limitedToAccount(s),
      ),
  );
  return allowed ? undefined : `no ${kind} policy lets ${service} ${publish} to ${targetId}`;
};

/** Every (publisher service, target id, from) pair the template sets up. */
export const deliveries = (resources: Resources): { service: string; targetId: string; from: string }[] =>
  Object.entries(resources).flatMap(([id, resource]) => {
    if (resource.Type === 'AWS::CloudWatch::Alarm') {
      const actions = ['AlarmActions', 'OKActions', 'InsufficientDataActions'].flatMap((field) =>
        asList(resource.Properties?.[field] as unknown[]),
      );
      return actions.flatMap((action) => {
        const targetId = referencedId(action);
        return targetId ? [{ service: 'cloudwatch.amazonaws.com', targetId, from: id }] : [];
      });
    }
    if (resource.Type === 'AWS::Events::Rule') {
      const targets = asList(
        resource.Properties?.Targets as { Arn: unknown; DeadLetterConfig?: { Arn: unknown } }[],
      );
      return targets.flatMap((target) =>
        [target.Arn, target.DeadLetterConfig?.Arn].flatMap((arn) => {
          const targetId = referencedId(arn);
          return targetId ? [{ service: 'events.amazonaws.com', targetId, from: id }] : [];
        }),
      );
    }
    return [];
  });

/** One datapoint a run emits: a metric, its dimensions, a value. */
export interface Datapoint {
  namespace: string;
  metric: string;
  dimensions: Record<string, unknown>;
  value: number;
}

/**
 * The alarms `datapoints` breach, evaluated as CloudWatch would over one period that holds them
 * all (Sum, Maximum, SampleCount; dimensions must match exactly, Refs compared as written).
 */
export const breachedAlarms = (resources: Resources, datapoints: Datapoint[]): string[] =>
  Object.entries(resources)
    .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
    .filter(([, { Properties: alarm = {} }]) => {
      const dimensions = Object.fromEntries(
        asList(alarm.Dimensions as { Name: string; Value: unknown }[]).map((d) => [
          d.Name,
          JSON.stringify(d.Value),
        ]),
      );
      const matching = datapoints
        .filter((d) => d.namespace === alarm.Namespace && d.metric === alarm.MetricName)
        .filter((d) => {
          const names = Object.keys(d.dimensions);
          return (
            names.length === Object.keys(dimensions).length &&
            names.every((name) => dimensions[name] === JSON.stringify(d.dimensions[name]))
          );
        })
        .map((d) => d.value);
      if (matching.length === 0) return false; // TreatMissingData: notBreaching
      const statistic = {
        Sum: matching.reduce((a, b) => a + b, 0),
        Maximum: Math.max(...matching),
        SampleCount: matching.length,
      }[String(alarm.Statistic)];
      if (statistic === undefined) throw new Error(`Unmodelled statistic ${String(alarm.Statistic)}`);
      const threshold = Number(alarm.Threshold);
      return {
        GreaterThanOrEqualToThreshold: statistic >= threshold,
        GreaterThanThreshold: statistic > threshold,
        LessThanThreshold: statistic < threshold,
        LessThanOrEqualToThreshold: statistic <= threshold,
      }[String(alarm.ComparisonOperator)];
    })
    .map(([id]) => id);

/** The topics and queues an alarm's actions (alarm, OK, insufficient data) publish to, by logical id. */
export const actionTargets = (alarm: Resource): string[] => [
  ...new Set(
    ['AlarmActions', 'OKActions', 'InsufficientDataActions'].flatMap((field) =>
      asList(alarm.Properties?.[field] as unknown[]).flatMap((action) => referencedId(action) ?? []),
    ),
  ),
];

/** Every alarm of the template, by logical id. */
export const alarmsOf = (resources: Resources): [string, Resource][] =>
  Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');

const alarmsPublishingTo = (resources: Resources, topicId: string): Set<string> =>
  new Set(
    alarmsOf(resources)
      .filter(([, r]) =>
        asList(r.Properties?.AlarmActions as unknown[]).some((a) => referencedId(a) === topicId),
      )
      .map(([id]) => id),
  );

/** Alarms whose actions page on-call (they publish to the alerts topic). */
export const pagingAlarms = (resources: Resources): Set<string> =>
  alarmsPublishingTo(resources, 'AlertsTopic');

/** Alarms that tell the quants, paging nobody (they publish to the notices topic). */
export const noticeAlarms = (resources: Resources): Set<string> =>
  alarmsPublishingTo(resources, 'NoticesTopic');
