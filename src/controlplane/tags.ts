/**
 * AddTags, ListTags and DeleteTags on models, endpoint configs and endpoints, by ARN. A key that
 * is added again takes the new value; at most 50 tags per resource (ResourceLimitExceeded).
 * Endpoints of the configuration file show one read-only tag and refuse changes.
 */
import type { z } from 'zod';
import { InferqError } from '../errors/index.js';
import type { ResourceStore, StoredResource } from '../queue/index.js';
import type { Clock } from '../util/index.js';
import { parseArn } from './documents.js';
import type { AddTags, DeleteTags, ListTags, TagT } from './wire.js';

const MAX_TAGS = 50;
const MANAGED_TAG: TagT = { Key: 'inferq:managed-by', Value: 'configuration-file' };

/** What the tag operations need. */
export interface TagDeps {
  readonly store: ResourceStore;
  readonly clock: Clock;
  /** Whether an endpoint of this (lower-cased) name comes from the configuration file. */
  readonly isConfigManaged: (key: string) => boolean;
}

type Doc = Record<string, unknown> & { tags?: TagT[] };

function docOf(stored: StoredResource): Doc {
  const raw: unknown = JSON.parse(stored.doc);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InferqError('InternalError', `The stored ${stored.kind} ${stored.key} cannot be read.`);
  return raw as Doc;
}

async function target(deps: TagDeps, arn: string): Promise<StoredResource | 'config-managed'> {
  const parsed = parseArn(arn);
  if (parsed === undefined) throw new InferqError('ControlPlaneValidation', `The ResourceArn ${arn} is not the ARN of a SageMaker model, endpoint config or endpoint.`);
  if (parsed.kind === 'endpoint' && deps.isConfigManaged(parsed.key)) return 'config-managed';
  const stored = await deps.store.get(parsed.kind, parsed.key);
  if (stored === undefined) throw new InferqError('ControlPlaneValidation', `Could not find the resource "${arn}".`);
  return stored;
}

async function writeTags(deps: TagDeps, stored: StoredResource, doc: Doc, tags: TagT[]): Promise<void> {
  if (tags.length > MAX_TAGS) throw new InferqError('ResourceLimitExceeded', `A resource has at most ${MAX_TAGS} tags.`);
  await deps.store.replace(stored.kind, stored.key, JSON.stringify(Object.assign({}, doc, { tags })), deps.clock.now());
}

function refuseManaged(arn: string): InferqError {
  return new InferqError('ControlPlaneValidation', `The endpoint ${arn} is managed by the configuration file; its tags cannot be changed through the SageMaker API.`);
}

/** AddTags: answers the tags added. */
export async function addTags(deps: TagDeps, req: z.infer<typeof AddTags>): Promise<Record<string, unknown>> {
  const stored = await target(deps, req.ResourceArn);
  if (stored === 'config-managed') throw refuseManaged(req.ResourceArn);
  const doc = docOf(stored);
  const byKey = new Map((doc.tags ?? []).map((t) => [t.Key, t.Value]));
  for (const tag of req.Tags) byKey.set(tag.Key, tag.Value);
  await writeTags(deps, stored, doc, [...byKey].map(([Key, Value]) => ({ Key, Value })));
  return { Tags: req.Tags };
}

/** ListTags: every tag (inferq keeps at most 50, so one page). */
export async function listTags(deps: TagDeps, req: z.infer<typeof ListTags>): Promise<Record<string, unknown>> {
  const stored = await target(deps, req.ResourceArn);
  return { Tags: stored === 'config-managed' ? [MANAGED_TAG] : docOf(stored).tags ?? [] };
}

/** DeleteTags: removes the keys named (unknown keys are ignored, as SageMaker does). */
export async function deleteTags(deps: TagDeps, req: z.infer<typeof DeleteTags>): Promise<Record<string, unknown>> {
  const stored = await target(deps, req.ResourceArn);
  if (stored === 'config-managed') throw refuseManaged(req.ResourceArn);
  const doc = docOf(stored);
  const drop = new Set(req.TagKeys);
  await writeTags(deps, stored, doc, (doc.tags ?? []).filter((t) => !drop.has(t.Key)));
  return {};
}
