/**
 * Scalable targets over the ResourceStore: RegisterScalableTarget (create, or update where what
 * the request omits keeps its value, as AWS does), DescribeScalableTargets (ResourceIds and
 * ScalableDimension filters, pagination) and DeregisterScalableTarget (which deletes the target's
 * scaling policies too). Capacities are instance counts of an endpoint variant: MinCapacity
 * 0..64 (0 is scale-to-zero), MaxCapacity 1..64, MinCapacity ≤ MaxCapacity. Errors are the
 * codes AWS answers (ValidationException, ObjectNotFoundException, ConcurrentUpdateException).
 */
import type { z } from 'zod';
import { readDoc, type ArnScope } from '../controlplane/index.js';
import { InferqError } from '../errors/index.js';
import type { ResourceStore } from '../queue/index.js';
import type { Clock } from '../util/index.js';
import { TargetDoc, newTargetArnId, serviceLinkedRole, showTarget, targetArn, targetKeyOfPolicy, type TargetDocT } from './documents.js';
import { pageOf } from './paging.js';
import {
  DIMENSION, NAMESPACE, checkDimension, checkNamespace, keyOfResourceId, targetOf, type DescribeScalableTargets, type RegisterScalableTarget, type ScalableTargetRequest, type TargetId,
} from './wire.js';

/** What Application Auto Scaling works on. */
export interface AutoscalingDeps {
  readonly store: ResourceStore;
  readonly clock: Clock;
  /** Region and account of the ARNs. */
  readonly scope: ArnScope;
}

/** The most instances inferq runs for one endpoint (`instances.max`). */
const MAX_INSTANCES = 64;

/** How AWS names a target in its messages. */
export function describeTarget(id: TargetId): string {
  return `service namespace: ${NAMESPACE}, resource ID: ${id.resourceId}, scalable dimension: ${DIMENSION}`;
}

/** The error of a write that found the target changed by another call meanwhile. */
export function concurrentUpdate(what: string): InferqError {
  return new InferqError('ScalingConcurrentUpdate', `Another call changed ${what} meanwhile; retry the call.`);
}

function invalid(message: string): InferqError {
  return new InferqError('ScalingValidation', message);
}

/** The capacities of a registration: the request's, else the stored target's, checked. */
function capacities(req: z.infer<typeof RegisterScalableTarget>, id: TargetId, old: TargetDocT | undefined): { min: number; max: number } {
  if (req.MinCapacity !== undefined && (req.MinCapacity < 0 || req.MinCapacity > MAX_INSTANCES)) {
    throw invalid(`MinCapacity ${req.MinCapacity} is out of range: inferq takes 0 to ${MAX_INSTANCES} instances (0 scales the variant to zero).`);
  }
  if (req.MaxCapacity !== undefined && (req.MaxCapacity < 1 || req.MaxCapacity > MAX_INSTANCES)) {
    throw invalid(`MaxCapacity ${req.MaxCapacity} is out of range: inferq takes 1 to ${MAX_INSTANCES} instances.`);
  }
  const min = req.MinCapacity ?? old?.min;
  const max = req.MaxCapacity ?? old?.max;
  if (min === undefined || max === undefined) {
    throw invalid(`MinCapacity and MaxCapacity are required to register a new scalable target (${id.resourceId} is not registered).`);
  }
  if (min > max) throw invalid(`Minimum capacity cannot be greater than maximum capacity (MinCapacity ${min}, MaxCapacity ${max}).`);
  return { min, max };
}

/** RegisterScalableTarget: creates the target, or updates what the request gives. */
export async function registerTarget(deps: AutoscalingDeps, req: z.infer<typeof RegisterScalableTarget>): Promise<Record<string, unknown>> {
  const id = targetOf(req);
  const existing = await deps.store.get('scalable-target', id.key);
  const old = existing === undefined ? undefined : readDoc(TargetDoc, existing);
  const { min, max } = capacities(req, id, old);
  const suspended = req.SuspendedState;
  const doc: TargetDocT = {
    resourceId: old?.resourceId ?? id.resourceId,
    min,
    max,
    roleArn: req.RoleARN ?? old?.roleArn ?? serviceLinkedRole(deps.scope),
    suspended: {
      in: suspended?.DynamicScalingInSuspended ?? old?.suspended.in ?? false,
      out: suspended?.DynamicScalingOutSuspended ?? old?.suspended.out ?? false,
      scheduled: suspended?.ScheduledScalingSuspended ?? old?.suspended.scheduled ?? false,
    },
    tags: Object.assign({}, old?.tags, req.Tags),
    arnId: old?.arnId ?? newTargetArnId(),
  };
  const now = deps.clock.now();
  const text = JSON.stringify(doc);
  const written = old === undefined
    ? await deps.store.create({ kind: 'scalable-target', key: id.key, doc: text, createdAt: now, modifiedAt: now })
    : await deps.store.replace('scalable-target', id.key, text, now);
  if (!written) throw concurrentUpdate(`the scalable target ${id.resourceId}`);
  return { ScalableTargetARN: targetArn(deps.scope, doc) };
}

/** DescribeScalableTargets. ResourceIds that name no SageMaker variant match nothing, as in AWS. */
export async function describeTargets(deps: AutoscalingDeps, req: z.infer<typeof DescribeScalableTargets>): Promise<Record<string, unknown>> {
  checkNamespace(req.ServiceNamespace);
  if (req.ScalableDimension !== undefined) checkDimension(req.ScalableDimension);
  const wanted = req.ResourceIds === undefined || req.ResourceIds.length === 0 ? undefined : new Set(req.ResourceIds.map(keyOfResourceId));
  const stored = await deps.store.list('scalable-target');
  const kept = wanted === undefined ? stored : stored.filter((r) => wanted.has(r.key));
  const { page, nextToken } = pageOf(kept, req.MaxResults ?? 50, req.NextToken);
  const ScalableTargets = page.map((r) => showTarget(deps.scope, r, readDoc(TargetDoc, r)));
  return nextToken === undefined ? { ScalableTargets } : { ScalableTargets, NextToken: nextToken };
}

/** DeregisterScalableTarget: deletes the target, then its scaling policies (AWS deletes them with it). */
export async function deregisterTarget(deps: AutoscalingDeps, req: z.infer<typeof ScalableTargetRequest>): Promise<Record<string, unknown>> {
  const id = targetOf(req);
  if (!await deps.store.delete('scalable-target', id.key)) {
    throw new InferqError('ScalingObjectNotFound', `No scalable target found for ${describeTarget(id)}`);
  }
  for (const policy of await deps.store.list('scaling-policy')) {
    if (targetKeyOfPolicy(policy.key) === id.key) await deps.store.delete('scaling-policy', policy.key);
  }
  return {};
}
