/**
 * The ResourceStore port: control-plane resources (SageMaker models, endpoint configs, endpoints,
 * and Application Auto Scaling scalable targets and scaling policies) kept in the queue database beside the jobs, so they survive restarts and, on PostgreSQL, every
 * process sees the same set. A resource is an opaque JSON document under a (kind, key) pair; the
 * control plane owns its shape. Writes are atomic per resource; `create` never overwrites.
 */

/** The kinds of stored resource (the backends parse rows with this list). */
export const RESOURCE_KINDS = ['model', 'endpoint-config', 'endpoint', 'scalable-target', 'scaling-policy'] as const;

/** The kinds of stored resource. */
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** One stored resource. */
export interface StoredResource {
  readonly kind: ResourceKind;
  /** Unique per kind (the control plane passes the lower-cased name, as ARNs have it; src/autoscaling its own keys). */
  readonly key: string;
  /** The resource as JSON text. */
  readonly doc: string;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms. */
  readonly modifiedAt: number;
}

/** Durable storage of control-plane resources. Methods reject with InferqError on storage failures. */
export interface ResourceStore {
  /** Stores a new resource; false (nothing written) when (kind, key) exists. */
  create(resource: StoredResource): Promise<boolean>;
  /**
   * Replaces the document of an existing resource; false when it does not exist or, with `ifDoc`,
   * when its document is no longer `ifDoc` (a compare-and-set: someone changed it meanwhile).
   */
  replace(kind: ResourceKind, key: string, doc: string, modifiedAt: number, ifDoc?: string): Promise<boolean>;
  get(kind: ResourceKind, key: string): Promise<StoredResource | undefined>;
  /** Every resource of `kind`, ordered by key. */
  list(kind: ResourceKind): Promise<StoredResource[]>;
  /** Deletes a resource; false when it did not exist. */
  delete(kind: ResourceKind, key: string): Promise<boolean>;
  close(): Promise<void>;
}
