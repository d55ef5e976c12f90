/**
 * The control plane's request shapes (SageMaker API 2017-07-24, awsJson1_1), parsed from `unknown`
 * with zod. Fields inferq accepts without effect (instance types, KMS keys, VPC, data capture,
 * roles) pass through unchecked beyond their JSON type and are echoed by Describe*. A request
 * that does not match is a ValidationException in SageMaker's "validation error detected" form.
 */
import { z } from 'zod';
import { InferqError, type ErrorCode } from '../errors/index.js';

/** ModelName: ≤63, `[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?`. */
export const ModelName = z.string().max(63).regex(/^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/);
/** EndpointName, EndpointConfigName, VariantName: ≤63, `[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`. */
export const EndpointName = z.string().max(63).regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);

const Tag = z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) });
const Tags = z.array(Tag).max(50);
const S3Uri = z.string().max(512).regex(/^(https|s3):\/\/([^/]+)\/?(.*)$/);
const Arn = z.string().min(20).max(2048);

const Container = z.looseObject({
  Image: z.string().max(255).optional(),
  ModelDataUrl: z.string().max(1024).optional(),
  Environment: z.record(z.string().max(1024), z.string().max(1024)).optional(),
  Mode: z.enum(['SingleModel', 'MultiModel']).optional(),
  ContainerHostname: z.string().max(63).optional(),
});

export const CreateModel = z.looseObject({
  ModelName,
  PrimaryContainer: Container.optional(),
  Containers: z.array(Container).max(15).optional(),
  ExecutionRoleArn: Arn.optional(),
  Tags: Tags.optional(),
});

const Variant = z.looseObject({
  VariantName: EndpointName,
  ModelName: ModelName.optional(),
  InitialInstanceCount: z.int().min(1).optional(),
  InstanceType: z.string().optional(),
  InitialVariantWeight: z.number().min(0).optional(),
  ServerlessConfig: z.looseObject({ MemorySizeInMB: z.int().min(1024).max(6144), MaxConcurrency: z.int().min(1).max(200) }).optional(),
});

const NotificationConfig = z.looseObject({
  SuccessTopic: Arn.optional(),
  ErrorTopic: Arn.optional(),
  IncludeInferenceResponseIn: z.array(z.enum(['SUCCESS_NOTIFICATION_TOPIC', 'ERROR_NOTIFICATION_TOPIC'])).max(2).optional(),
});

export const AsyncInferenceConfig = z.looseObject({
  ClientConfig: z.looseObject({ MaxConcurrentInvocationsPerInstance: z.int().min(1).max(1000).optional() }).optional(),
  OutputConfig: z.looseObject({
    S3OutputPath: S3Uri.optional(),
    S3FailurePath: S3Uri.optional(),
    KmsKeyId: z.string().max(2048).optional(),
    NotificationConfig: NotificationConfig.optional(),
  }),
});

export const CreateEndpointConfig = z.looseObject({
  EndpointConfigName: EndpointName,
  ProductionVariants: z.array(Variant).min(1).max(10),
  AsyncInferenceConfig: AsyncInferenceConfig.optional(),
  Tags: Tags.optional(),
});

export const CreateEndpoint = z.looseObject({ EndpointName, EndpointConfigName: EndpointName, Tags: Tags.optional() });
export const UpdateEndpoint = z.looseObject({ EndpointName, EndpointConfigName: EndpointName });
export const ByModelName = z.looseObject({ ModelName });
export const ByEndpointConfigName = z.looseObject({ EndpointConfigName: EndpointName });
export const ByEndpointName = z.looseObject({ EndpointName });

const Epoch = z.number();
/** The list requests' common fields (ListModels, ListEndpointConfigs, ListEndpoints). */
export const ListRequest = z.looseObject({
  SortBy: z.enum(['Name', 'CreationTime', 'Status']).optional(),
  SortOrder: z.enum(['Ascending', 'Descending']).optional(),
  NextToken: z.string().max(8192).optional(),
  MaxResults: z.int().min(1).max(100).optional(),
  NameContains: z.string().max(63).optional(),
  CreationTimeBefore: Epoch.optional(),
  CreationTimeAfter: Epoch.optional(),
  LastModifiedTimeBefore: Epoch.optional(),
  LastModifiedTimeAfter: Epoch.optional(),
  StatusEquals: z.enum(['OutOfService', 'Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'InService', 'Deleting', 'Failed', 'UpdateRollbackFailed']).optional(),
});

export const AddTags = z.looseObject({ ResourceArn: Arn, Tags });
export const ListTags = z.looseObject({ ResourceArn: Arn, NextToken: z.string().max(8192).optional(), MaxResults: z.int().min(50).max(100).optional() });
export const DeleteTags = z.looseObject({ ResourceArn: Arn, TagKeys: z.array(z.string().min(1).max(128)).min(1).max(50) });

/** A stored tag. */
export type TagT = z.infer<typeof Tag>;

/** The member name as SageMaker's messages spell it (lower camel case). */
function memberName(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'string' ? p.charAt(0).toLowerCase() + p.slice(1) : String(p))).join('.');
}

/**
 * Parses `body` with `schema` (any awsJson API: Application Auto Scaling passes its own `code`).
 * @throws InferqError `code` (ControlPlaneValidation) naming each failing member.
 */
export function parseRequest<S extends z.ZodType>(schema: S, body: unknown, code: ErrorCode = 'ControlPlaneValidation'): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const lines = issues.slice(0, 10).map((issue) => `Value at '${memberName(issue.path)}' failed to satisfy constraint: ${issue.message}`);
  throw new InferqError(code, `${issues.length} validation error${issues.length === 1 ? '' : 's'} detected: ${lines.join('; ')}`);
}

/**
 * The JSON of an awsJson request body (an empty body is `{}`).
 * @throws InferqError `code` (ControlPlaneValidation) when it is not JSON.
 */
export function parseJsonBody(body: Buffer, code: ErrorCode = 'ControlPlaneValidation'): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new InferqError(code, 'The request body is not valid JSON.');
  }
}
