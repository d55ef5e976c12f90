/**
 * Scaling policies over the ResourceStore: PutScalingPolicy (create or replace, on a registered
 * target), DescribeScalingPolicies (PolicyNames, ResourceId and ScalableDimension filters,
 * pagination) and DeleteScalingPolicy. TargetTrackingScaling policies are checked (one metric,
 * predefined for SageMaker variants or customized, a positive TargetValue; on the backlog metric
 * the range inferq's `targetBacklogPerInstance` takes) and the one on
 * `ApproximateBacklogSizePerInstance` sets the variant's backlog target (scaling.ts).
 * StepScaling policies (SageMaker's scale-from-zero recipe pairs one with a CloudWatch alarm)
 * are stored and described without effect; PredictiveScaling is refused.
 */
import type { z } from 'zod';
import { readDoc } from '../controlplane/index.js';
import { InferqError } from '../errors/index.js';
import { PolicyDoc, TargetDoc, newPolicyArnId, policyArn, policyKey, showPolicy, targetKeyOfPolicy, type PolicyDocT } from './documents.js';
import { pageOf } from './paging.js';
import { backlogMetricTarget, BACKLOG_TARGET_RANGE } from './scaling.js';
import { concurrentUpdate, describeTarget, type AutoscalingDeps } from './targets.js';
import {
  checkDimension, checkNamespace, keyOfResourceId, targetOf, type DeleteScalingPolicy, type DescribeScalingPolicies, type PutScalingPolicy,
} from './wire.js';

/** Scaling policies per scalable target, as the Application Auto Scaling quota has it. */
const MAX_POLICIES_PER_TARGET = 50;
/** The predefined metrics of SageMaker variants. */
const VARIANT_METRICS: ReadonlySet<string> = new Set(['SageMakerVariantInvocationsPerInstance', 'SageMakerVariantProvisionedConcurrencyUtilization', 'SageMakerVariantConcurrentRequestsPerModelHighResolution']);
/** TargetValue bounds of Application Auto Scaling. */
const TARGET_VALUE_MIN = 8.515920e-109;
const TARGET_VALUE_MAX = 1.174271e+108;

function invalid(message: string): InferqError {
  return new InferqError('ScalingValidation', message);
}

/** The checked TargetTrackingScalingPolicyConfiguration of a TargetTrackingScaling policy. */
function targetTracking(req: z.infer<typeof PutScalingPolicy>): Record<string, unknown> {
  const config = req.TargetTrackingScalingPolicyConfiguration;
  if (config === undefined) throw invalid('TargetTrackingScalingPolicyConfiguration is required for a TargetTrackingScaling policy.');
  const predefined = config.PredefinedMetricSpecification;
  const customized = config.CustomizedMetricSpecification;
  if ((predefined === undefined) === (customized === undefined)) {
    throw invalid('A target tracking policy needs exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification.');
  }
  if (predefined !== undefined && !VARIANT_METRICS.has(predefined.PredefinedMetricType)) {
    throw invalid(`PredefinedMetricType "${predefined.PredefinedMetricType.slice(0, 100)}" is not a metric of SageMaker variants (${[...VARIANT_METRICS].join(', ')}).`);
  }
  if (customized !== undefined) {
    const single = customized.MetricName !== undefined || customized.Namespace !== undefined || customized.Statistic !== undefined;
    if (customized.Metrics === undefined ? !(customized.MetricName && customized.Namespace && customized.Statistic) : single || customized.Metrics.length === 0) {
      throw invalid('CustomizedMetricSpecification needs either MetricName, Namespace and Statistic, or Metrics (metric math), not both.');
    }
  }
  if (!(config.TargetValue >= TARGET_VALUE_MIN && config.TargetValue <= TARGET_VALUE_MAX)) {
    throw invalid(`TargetValue ${config.TargetValue} is out of range: it must be positive (${TARGET_VALUE_MIN} to ${TARGET_VALUE_MAX}).`);
  }
  const backlog = backlogMetricTarget(config);
  if (backlog !== undefined && (backlog < BACKLOG_TARGET_RANGE.min || backlog > BACKLOG_TARGET_RANGE.max)) {
    throw invalid(`TargetValue ${backlog} on ApproximateBacklogSizePerInstance is out of range: inferq's backlog per instance target takes ${BACKLOG_TARGET_RANGE.min} to ${BACKLOG_TARGET_RANGE.max}.`);
  }
  return config;
}

/** The policy type (AWS's default is StepScaling) and its checked configuration. */
function configurationOf(req: z.infer<typeof PutScalingPolicy>): { policyType: PolicyDocT['policyType']; configuration: Record<string, unknown> } {
  const policyType = req.PolicyType ?? 'StepScaling';
  if (policyType === 'TargetTrackingScaling') return { policyType, configuration: targetTracking(req) };
  if (policyType === 'StepScaling') {
    if (req.StepScalingPolicyConfiguration === undefined) {
      throw invalid(`StepScalingPolicyConfiguration is required for a StepScaling policy${req.PolicyType === undefined ? ' (PolicyType defaults to StepScaling; inferq scales on PolicyType TargetTrackingScaling)' : ''}.`);
    }
    return { policyType, configuration: req.StepScalingPolicyConfiguration };
  }
  throw invalid(`PolicyType "${policyType.slice(0, 100)}" is not served: inferq takes TargetTrackingScaling policies (and keeps StepScaling ones without effect).`);
}

/** Whether the target keyed `key` already holds the most policies it may. */
async function full(deps: AutoscalingDeps, key: string): Promise<boolean> {
  const count = (await deps.store.list('scaling-policy')).filter((p) => targetKeyOfPolicy(p.key) === key).length;
  return count >= MAX_POLICIES_PER_TARGET;
}

/** PutScalingPolicy: creates or replaces the policy of a registered target. */
export async function putPolicy(deps: AutoscalingDeps, req: z.infer<typeof PutScalingPolicy>): Promise<Record<string, unknown>> {
  const id = targetOf(req);
  const { policyType, configuration } = configurationOf(req);
  const target = await deps.store.get('scalable-target', id.key);
  if (target === undefined) throw new InferqError('ScalingObjectNotFound', `No scalable target registered for ${describeTarget(id)}`);
  const key = policyKey(id.key, req.PolicyName);
  const existing = await deps.store.get('scaling-policy', key);
  const old = existing === undefined ? undefined : readDoc(PolicyDoc, existing);
  if (old === undefined && await full(deps, id.key)) {
    throw new InferqError('ScalingLimitExceeded', `The scalable target ${id.resourceId} already has ${MAX_POLICIES_PER_TARGET} scaling policies; delete one first.`);
  }
  const doc: PolicyDocT = { resourceId: readDoc(TargetDoc, target).resourceId, policyName: req.PolicyName, policyType, configuration, arnId: old?.arnId ?? newPolicyArnId() };
  const now = deps.clock.now();
  const text = JSON.stringify(doc);
  const written = old === undefined
    ? await deps.store.create({ kind: 'scaling-policy', key, doc: text, createdAt: now, modifiedAt: now })
    : await deps.store.replace('scaling-policy', key, text, now);
  if (!written) throw concurrentUpdate(`the scaling policy ${req.PolicyName}`);
  if (old === undefined && await deps.store.get('scalable-target', id.key) === undefined) {
    await deps.store.delete('scaling-policy', key); // the target was deregistered meanwhile: no policy outlives it
    throw concurrentUpdate(`the scalable target ${id.resourceId}`);
  }
  return { PolicyARN: policyArn(deps.scope, doc), Alarms: [] };
}

/** DescribeScalingPolicies. A ResourceId that names no SageMaker variant matches nothing, as in AWS. */
export async function describePolicies(deps: AutoscalingDeps, req: z.infer<typeof DescribeScalingPolicies>): Promise<Record<string, unknown>> {
  checkNamespace(req.ServiceNamespace);
  if (req.ScalableDimension !== undefined) checkDimension(req.ScalableDimension);
  const names = req.PolicyNames === undefined || req.PolicyNames.length === 0 ? undefined : new Set(req.PolicyNames);
  const target = req.ResourceId === undefined ? undefined : keyOfResourceId(req.ResourceId) ?? '';
  const policies = (await deps.store.list('scaling-policy'))
    .filter((r) => target === undefined || targetKeyOfPolicy(r.key) === target)
    .map((stored) => ({ key: stored.key, stored, doc: readDoc(PolicyDoc, stored) }))
    .filter((p) => names === undefined || names.has(p.doc.policyName));
  const { page, nextToken } = pageOf(policies, req.MaxResults ?? 10, req.NextToken);
  const ScalingPolicies = page.map((p) => showPolicy(deps.scope, p.stored, p.doc));
  return nextToken === undefined ? { ScalingPolicies } : { ScalingPolicies, NextToken: nextToken };
}

/** DeleteScalingPolicy. */
export async function deletePolicy(deps: AutoscalingDeps, req: z.infer<typeof DeleteScalingPolicy>): Promise<Record<string, unknown>> {
  const id = targetOf(req);
  if (!await deps.store.delete('scaling-policy', policyKey(id.key, req.PolicyName))) {
    throw new InferqError('ScalingObjectNotFound', `No scaling policy found for ${describeTarget(id)}, policy name: ${req.PolicyName}`);
  }
  return {};
}
