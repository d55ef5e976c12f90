/**
 * What Application Auto Scaling sets for an endpoint variant, as the composition root reads it
 * when it deploys an API-created endpoint: `instances.min` / `instances.max` from the scalable
 * target, and `targetBacklogPerInstance` from a target-tracking policy on the metric
 * `ApproximateBacklogSizePerInstance` (how SageMaker asynchronous endpoints are scaled to zero:
 * a customized metric, or metric math whose returned query is that metric).
 */
import type { z } from 'zod';
import { readDoc } from '../controlplane/index.js';
import type { ResourceStore } from '../queue/index.js';
import { PolicyDoc, TargetDoc, policyKey, targetKeyOfPolicy } from './documents.js';
import { TargetTrackingConfiguration, targetKey } from './wire.js';

/** Scaling set through Application Auto Scaling for an endpoint's variant, or undefined when none is registered. */
export interface EndpointScaling {
  readonly min: number;
  readonly max: number;
  readonly targetBacklogPerInstance?: number;
}

/** The metric whose target-tracking TargetValue is inferq's backlog per instance target. */
export const BACKLOG_METRIC = 'ApproximateBacklogSizePerInstance';
/** The range of `instances.targetBacklogPerInstance` (config schema), which such a TargetValue must be in. */
export const BACKLOG_TARGET_RANGE = { min: 0.1, max: 100000 } as const;

/** The TargetValue of a target-tracking configuration when it tracks the backlog metric, else undefined. */
export function backlogMetricTarget(config: z.infer<typeof TargetTrackingConfiguration>): number | undefined {
  const custom = config.CustomizedMetricSpecification;
  if (custom === undefined) return undefined;
  if (custom.Metrics === undefined) return custom.MetricName === BACKLOG_METRIC ? config.TargetValue : undefined;
  const returned = custom.Metrics.length === 1 ? custom.Metrics : custom.Metrics.filter((m) => m.ReturnData === true);
  const only = returned.length === 1 ? returned[0] : undefined;
  return only?.Expression === undefined && only?.MetricStat?.Metric.MetricName === BACKLOG_METRIC ? config.TargetValue : undefined;
}

/**
 * Scaling set through Application Auto Scaling for an endpoint's variant, or undefined when none
 * is registered. The endpoint name is case-insensitive (as in SageMaker), the variant name is
 * not. With several target-tracking policies on the backlog metric the lowest TargetValue wins
 * (AWS scales out when any policy asks to). StepScaling policies have no effect here.
 */
export async function scalingOf(store: ResourceStore, endpointName: string, variantName: string): Promise<EndpointScaling | undefined> {
  const key = targetKey(endpointName, variantName);
  const stored = await store.get('scalable-target', key);
  if (stored === undefined) return undefined;
  const target = readDoc(TargetDoc, stored);
  const prefix = policyKey(key, '');
  const backlogTargets: number[] = [];
  for (const row of await store.list('scaling-policy')) {
    if (!row.key.startsWith(prefix)) continue;
    const policy = readDoc(PolicyDoc, row);
    const config = policy.policyType === 'TargetTrackingScaling' ? TargetTrackingConfiguration.safeParse(policy.configuration) : undefined;
    const value = config?.success === true ? backlogMetricTarget(config.data) : undefined;
    if (value !== undefined) backlogTargets.push(value);
  }
  return backlogTargets.length === 0 ? { min: target.min, max: target.max } : { min: target.min, max: target.max, targetBacklogPerInstance: Math.min(...backlogTargets) };
}

/**
 * Deregisters every scalable target of endpoint `endpointName` (any variant) with its policies, as
 * Application Auto Scaling does when SageMaker deletes the endpoint; resolves to how many targets.
 */
export async function deregisterEndpointTargets(store: ResourceStore, endpointName: string): Promise<number> {
  const prefix = `endpoint/${endpointName.toLowerCase()}/variant/`;
  const targets = new Set((await store.list('scalable-target')).map((r) => r.key).filter((key) => key.startsWith(prefix)));
  for (const key of targets) await store.delete('scalable-target', key);
  for (const policy of await store.list('scaling-policy')) if (targets.has(targetKeyOfPolicy(policy.key))) await store.delete('scaling-policy', policy.key);
  return targets.size;
}
