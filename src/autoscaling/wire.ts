/**
 * The Application Auto Scaling request shapes inferq serves (API 2016-02-06, awsJson1_1, target
 * prefix `AnyScaleFrontendService`), parsed from `unknown` with zod, and the checks that make a
 * call one inferq can take: ServiceNamespace `sagemaker`, ScalableDimension
 * `sagemaker:variant:DesiredInstanceCount`, ResourceId `endpoint/<name>/variant/<variant>`.
 * Fields inferq keeps without effect (RoleARN, SuspendedState, Tags, cooldowns) are checked for
 * their JSON type and echoed by Describe*. Every refusal is a ValidationException.
 */
import { z } from 'zod';
import { parseRequest } from '../controlplane/index.js';
import { InferqError } from '../errors/index.js';

/** The one ServiceNamespace inferq scales. */
export const NAMESPACE = 'sagemaker';
/** The one ScalableDimension inferq scales: a variant's instance count. */
export const DIMENSION = 'sagemaker:variant:DesiredInstanceCount';

/** SageMaker EndpointName / VariantName: ≤63, `[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`. */
const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const RESOURCE_ID = /^endpoint\/([^/]+)\/variant\/([^/]+)$/;

const Text = z.string().min(1).max(1600);
const NextToken = z.string().max(4096);

/** The members naming a scalable target (loose: members inferq does not know pass). */
export const ScalableTargetRequest = z.looseObject({ ServiceNamespace: z.string(), ResourceId: Text, ScalableDimension: z.string() });

const SuspendedState = z.looseObject({
  DynamicScalingInSuspended: z.boolean().optional(),
  DynamicScalingOutSuspended: z.boolean().optional(),
  ScheduledScalingSuspended: z.boolean().optional(),
});

/** RegisterScalableTarget: capacities are checked by the service (their range, and against the stored target). */
export const RegisterScalableTarget = ScalableTargetRequest.extend({
  MinCapacity: z.int().optional(),
  MaxCapacity: z.int().optional(),
  RoleARN: Text.optional(),
  SuspendedState: SuspendedState.optional(),
  Tags: z.record(z.string().min(1).max(128), z.string().max(256)).optional(),
});

/** DescribeScalableTargets. */
export const DescribeScalableTargets = z.looseObject({
  ServiceNamespace: z.string(),
  ResourceIds: z.array(Text).max(50).optional(),
  ScalableDimension: z.string().optional(),
  /** 1 to 50, default 50 (as AWS). */
  MaxResults: z.int().min(1).max(50).optional(),
  NextToken: NextToken.optional(),
});

const Dimension = z.looseObject({ Name: z.string(), Value: z.string() });
const MetricStat = z.looseObject({
  Metric: z.looseObject({ MetricName: z.string().optional(), Namespace: z.string().optional(), Dimensions: z.array(Dimension).optional() }),
  Stat: z.string(),
  Unit: z.string().optional(),
});

/** A target-tracking policy's own metric: one CloudWatch metric, or metric math over `Metrics`. */
export const CustomizedMetric = z.looseObject({
  MetricName: z.string().optional(),
  Namespace: z.string().optional(),
  Dimensions: z.array(Dimension).optional(),
  Statistic: z.enum(['Average', 'Minimum', 'Maximum', 'SampleCount', 'Sum']).optional(),
  Unit: z.string().optional(),
  Metrics: z.array(z.looseObject({
    Id: z.string().min(1).max(255),
    Expression: z.string().optional(),
    Label: z.string().optional(),
    MetricStat: MetricStat.optional(),
    ReturnData: z.boolean().optional(),
  })).optional(),
});

const Cooldown = z.int().min(0).max(86400);

/** TargetTrackingScalingPolicyConfiguration (also how stored ones are read back). */
export const TargetTrackingConfiguration = z.looseObject({
  TargetValue: z.number(),
  PredefinedMetricSpecification: z.looseObject({ PredefinedMetricType: z.string(), ResourceLabel: z.string().min(1).max(1023).optional() }).optional(),
  CustomizedMetricSpecification: CustomizedMetric.optional(),
  ScaleOutCooldown: Cooldown.optional(),
  ScaleInCooldown: Cooldown.optional(),
  DisableScaleIn: z.boolean().optional(),
});

/** PutScalingPolicy: PolicyType and the configuration it needs are checked by the service. */
export const PutScalingPolicy = ScalableTargetRequest.extend({
  PolicyName: z.string().min(1).max(256),
  PolicyType: z.string().optional(),
  TargetTrackingScalingPolicyConfiguration: TargetTrackingConfiguration.optional(),
  StepScalingPolicyConfiguration: z.looseObject({}).optional(),
  PredictiveScalingPolicyConfiguration: z.looseObject({}).optional(),
});

/** DescribeScalingPolicies. */
export const DescribeScalingPolicies = z.looseObject({
  ServiceNamespace: z.string(),
  PolicyNames: z.array(Text).max(50).optional(),
  ResourceId: Text.optional(),
  ScalableDimension: z.string().optional(),
  /** 1 to 10, default 10 (as AWS). */
  MaxResults: z.int().min(1).max(10).optional(),
  NextToken: NextToken.optional(),
});

/** DeleteScalingPolicy. */
export const DeleteScalingPolicy = ScalableTargetRequest.extend({ PolicyName: Text });

/** Parses `body` with `schema`; a mismatch is a ValidationException naming each failing member. */
export function parseScalingRequest<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  return parseRequest(schema, body, 'ScalingValidation');
}

/** A registered (or to be registered) variant: the ResourceId as the caller wrote it, and its store key. */
export interface TargetId {
  readonly resourceId: string;
  /** `endpoint/<lower-cased endpoint name>/variant/<variant name>`: endpoint names are case-insensitive, as in SageMaker. */
  readonly key: string;
}

/** The store key of an endpoint variant's scalable target. */
export function targetKey(endpointName: string, variantName: string): string {
  return `endpoint/${endpointName.toLowerCase()}/variant/${variantName}`;
}

/** The key of `resourceId`, or undefined when it does not name a SageMaker endpoint variant. */
export function keyOfResourceId(resourceId: string): string | undefined {
  const m = RESOURCE_ID.exec(resourceId);
  if (!m || !SAGEMAKER_NAME.test(m[1]!) || !SAGEMAKER_NAME.test(m[2]!)) return undefined;
  return targetKey(m[1]!, m[2]!);
}

/** Client text as it may appear in a message: printable ASCII, at most 100 characters. */
function shown(text: string): string {
  const cleaned = text.replace(/[^\x20-\x7e]/g, '?');
  return cleaned.length > 100 ? `${cleaned.slice(0, 100)}…` : cleaned;
}

function invalid(message: string): InferqError {
  return new InferqError('ScalingValidation', message);
}

/** @throws InferqError ScalingValidation unless `namespace` is `sagemaker`. */
export function checkNamespace(namespace: string): void {
  if (namespace !== NAMESPACE) throw invalid(`ServiceNamespace "${shown(namespace)}" is not served: inferq scales only SageMaker endpoint variants (ServiceNamespace ${NAMESPACE}).`);
}

/** @throws InferqError ScalingValidation unless `dimension` is `sagemaker:variant:DesiredInstanceCount`. */
export function checkDimension(dimension: string): void {
  if (dimension !== DIMENSION) throw invalid(`ScalableDimension "${shown(dimension)}" is not served: inferq scales only the instance count of a variant (ScalableDimension ${DIMENSION}).`);
}

/**
 * The target a request names, after checking its namespace, dimension and ResourceId.
 * @throws InferqError ScalingValidation naming what is wrong.
 */
export function targetOf(req: { ServiceNamespace: string; ResourceId: string; ScalableDimension: string }): TargetId {
  checkNamespace(req.ServiceNamespace);
  checkDimension(req.ScalableDimension);
  const key = keyOfResourceId(req.ResourceId);
  if (key === undefined) {
    throw invalid(`ResourceId "${shown(req.ResourceId)}" does not name a SageMaker endpoint variant: it must be endpoint/<endpoint name>/variant/<variant name> (names of letters, digits and hyphens, at most 63), e.g. endpoint/my-endpoint/variant/AllTraffic.`);
  }
  return { resourceId: req.ResourceId, key };
}
