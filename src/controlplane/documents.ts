/**
 * The stored documents of control-plane resources (JSON in the ResourceStore) and their ARNs.
 * Documents are parsed back through zod: a row written by another inferq version that does not
 * match is reported as InternalError, never half-read.
 */
import { z } from 'zod';
import { InferqError } from '../errors/index.js';
import type { ResourceKind, StoredResource } from '../queue/index.js';

/** Account and region that ARNs carry. */
export interface ArnScope {
  readonly region: string;
  readonly account: string;
}

/** `arn:aws:sagemaker:<region>:<account>:<kind>/<lower-cased name>`, as SageMaker forms it. */
export function arnOf(scope: ArnScope, kind: ResourceKind, name: string): string {
  return `arn:aws:sagemaker:${scope.region}:${scope.account}:${kind}/${name.toLowerCase()}`;
}

/** The kind and key an ARN names, or undefined when it is not a SageMaker model / endpoint-config / endpoint ARN. */
export function parseArn(arn: string): { kind: ResourceKind; key: string } | undefined {
  const m = /^arn:aws[a-z-]*:sagemaker:[^:]*:\d{12}:(model|endpoint-config|endpoint)\/(.+)$/.exec(arn);
  if (!m) return undefined;
  return { kind: m[1] as ResourceKind, key: m[2]!.toLowerCase() };
}

const Tag = z.object({ Key: z.string(), Value: z.string() });
const Json = z.record(z.string(), z.unknown());

/** A stored model: the CreateModel request (without Tags). */
export const ModelDoc = z.object({ name: z.string(), request: Json, tags: z.array(Tag) });
/** A stored endpoint config: the CreateEndpointConfig request (without Tags). */
export const ConfigDoc = z.object({ name: z.string(), request: Json, tags: z.array(Tag) });
/**
 * A stored endpoint: its config's name, the config as it was when deployed, and its status. While
 * `Updating`, `previous` is the config still serving (restored if the new one fails to start).
 * `generation` counts Create/Update/Delete calls, so the processes serving it see a change even
 * when the config is the same.
 */
export const EndpointDoc = z.object({
  name: z.string(),
  configName: z.string(),
  config: Json,
  status: z.enum(['Creating', 'InService', 'Updating', 'Failed', 'Deleting']),
  failureReason: z.string().optional(),
  tags: z.array(Tag),
  generation: z.number().int().min(1).default(1),
  previous: z.object({ configName: z.string(), config: Json }).optional(),
});

export type ModelDocT = z.infer<typeof ModelDoc>;
export type ConfigDocT = z.infer<typeof ConfigDoc>;
export type EndpointDocT = z.infer<typeof EndpointDoc>;

/** Parses a stored document with `schema`. */
export function readDoc<S extends z.ZodType>(schema: S, stored: StoredResource): z.infer<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(stored.doc);
  } catch {
    raw = undefined;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new InferqError('InternalError', `The stored ${stored.kind} ${stored.key} cannot be read.`);
  return parsed.data;
}

/** Epoch ms as the epoch seconds of JSON 1.1 timestamps. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}
