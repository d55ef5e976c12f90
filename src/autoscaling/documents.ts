/**
 * The stored documents of Application Auto Scaling (JSON in the ResourceStore, kinds
 * `scalable-target` and `scaling-policy`), their keys and ARNs, and how Describe* shows them.
 * A target's key is `endpoint/<lower-cased endpoint>/variant/<variant>`; a policy's is its
 * target's key, `:policyName/` and the policy name (target keys hold no `:`), so a target's
 * policies are the keys with its prefix. Documents are read back through zod (readDoc).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ArnScope } from '../controlplane/index.js';
import type { StoredResource } from '../queue/index.js';
import { DIMENSION, NAMESPACE } from './wire.js';

const Json = z.record(z.string(), z.unknown());

/** A stored scalable target. */
export const TargetDoc = z.object({
  /** The ResourceId as the last RegisterScalableTarget wrote it. */
  resourceId: z.string(),
  min: z.int(),
  max: z.int(),
  roleArn: z.string(),
  suspended: z.object({ in: z.boolean(), out: z.boolean(), scheduled: z.boolean() }),
  tags: z.record(z.string(), z.string()),
  /** The random part of its ARN, kept across updates. */
  arnId: z.string(),
});

/** A stored scaling policy: its type and configuration as PutScalingPolicy gave them. */
export const PolicyDoc = z.object({
  resourceId: z.string(),
  policyName: z.string(),
  policyType: z.enum(['TargetTrackingScaling', 'StepScaling']),
  configuration: Json,
  arnId: z.string(),
});

/** A stored scalable target, parsed. */
export type TargetDocT = z.infer<typeof TargetDoc>;
/** A stored scaling policy, parsed. */
export type PolicyDocT = z.infer<typeof PolicyDoc>;

/** The store key of policy `policyName` of the target keyed `targetKey`. */
export function policyKey(targetKey: string, policyName: string): string {
  return `${targetKey}:policyName/${policyName}`;
}

/** The store key of the target a policy key belongs to. */
export function targetKeyOfPolicy(policyKey: string): string {
  return policyKey.slice(0, policyKey.indexOf(':'));
}

/** A fresh random ARN part for a scalable target (36 hex digits, as AWS forms them). */
export function newTargetArnId(): string {
  return randomBytes(18).toString('hex');
}

/** A fresh random ARN part for a scaling policy (a UUID, as AWS forms them). */
export function newPolicyArnId(): string {
  return randomUUID();
}

/** The role Application Auto Scaling uses for SageMaker variants when RegisterScalableTarget names none. */
export function serviceLinkedRole(scope: ArnScope): string {
  return `arn:aws:iam::${scope.account}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`;
}

/** `arn:aws:application-autoscaling:<region>:<account>:scalable-target/<id>`. */
export function targetArn(scope: ArnScope, doc: TargetDocT): string {
  return `arn:aws:application-autoscaling:${scope.region}:${scope.account}:scalable-target/${doc.arnId}`;
}

/** `arn:aws:autoscaling:<region>:<account>:scalingPolicy:<id>:resource/sagemaker/<ResourceId>:policyName/<name>`. */
export function policyArn(scope: ArnScope, doc: PolicyDocT): string {
  return `arn:aws:autoscaling:${scope.region}:${scope.account}:scalingPolicy:${doc.arnId}:resource/${NAMESPACE}/${doc.resourceId}:policyName/${doc.policyName}`;
}

/** A ScalableTarget of DescribeScalableTargets. */
export function showTarget(scope: ArnScope, stored: StoredResource, doc: TargetDocT): Record<string, unknown> {
  return {
    ServiceNamespace: NAMESPACE,
    ResourceId: doc.resourceId,
    ScalableDimension: DIMENSION,
    MinCapacity: doc.min,
    MaxCapacity: doc.max,
    RoleARN: doc.roleArn,
    CreationTime: stored.createdAt / 1000,
    SuspendedState: { DynamicScalingInSuspended: doc.suspended.in, DynamicScalingOutSuspended: doc.suspended.out, ScheduledScalingSuspended: doc.suspended.scheduled },
    ScalableTargetARN: targetArn(scope, doc),
  };
}

/** A ScalingPolicy of DescribeScalingPolicies (no CloudWatch alarms: inferq scales on its own backlog). */
export function showPolicy(scope: ArnScope, stored: StoredResource, doc: PolicyDocT): Record<string, unknown> {
  const configMember = doc.policyType === 'TargetTrackingScaling' ? 'TargetTrackingScalingPolicyConfiguration' : 'StepScalingPolicyConfiguration';
  return {
    PolicyARN: policyArn(scope, doc),
    PolicyName: doc.policyName,
    ServiceNamespace: NAMESPACE,
    ResourceId: doc.resourceId,
    ScalableDimension: DIMENSION,
    PolicyType: doc.policyType,
    [configMember]: doc.configuration,
    Alarms: [],
    CreationTime: stored.createdAt / 1000,
  };
}
