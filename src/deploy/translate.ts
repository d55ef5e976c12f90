/**
 * The pure translation of SageMaker control-plane documents (a CreateEndpointConfig request and the
 * CreateModel request of its first production variant, as the control plane stores them) into the
 * EndpointConfig inferq serves, resolved by the same code as an endpoint of the configuration file.
 *
 * Mapping:
 * - `PrimaryContainer` (or `Containers[0]`; further containers of an inference pipeline are
 *   ignored) `.Image` → the `images` map: a built-in, a command (the image's `env` under the
 *   container's `Environment`, plus `SM_MODEL_DIR` when the model data was unpacked) or a url.
 * - `ProductionVariants[0]`: `InitialInstanceCount` n → instances n..n; a registered scalable
 *   target (Application Auto Scaling) overrides min/max; `ServerlessConfig` → instances 0..1 (1..1
 *   with `ProvisionedConcurrency`) with `MaxConcurrency` calls in flight;
 *   `ContainerStartupHealthCheckTimeoutInSeconds` → the model's start timeout.
 * - `AsyncInferenceConfig`: `OutputConfig.S3OutputPath` / `S3FailurePath` → the async output and
 *   failure paths, `ClientConfig.MaxConcurrentInvocationsPerInstance` → calls in flight,
 *   `OutputConfig.NotificationConfig` → the notification topics (SNS ARNs; see `topicFor`).
 *
 * Accepted and ignored (no effect in inferq): instance types (`InstanceType`,
 * `AcceleratorType`, `ServerlessConfig.MemorySizeInMB`), variant weights and variants after the
 * first, KMS keys (`KmsKeyId`, `OutputConfig.KmsKeyId`), `ExecutionRoleArn`, `VpcConfig`,
 * `EnableNetworkIsolation`, `DataCaptureConfig`, `ShadowProductionVariants`, `ExplainerConfig`,
 * `ModelDataDownloadTimeoutInSeconds`, `VolumeSizeInGB`, `RoutingConfig`, container `Mode`,
 * `ContainerHostname` and `ImageConfig`, and the `Environment` of built-in and url models (a url
 * model is a server already running; a built-in reads no environment).
 */
import { z } from 'zod';
import { resolveApiEndpoint, type EndpointConfig, type ImageModel, type TopicConfig } from '../config/index.js';
import { InferqError } from '../errors/index.js';
import { parseS3Url } from './s3-url.js';

/** What an endpoint is deployed from. */
export interface DeploymentInput {
  readonly endpointName: string;
  /** The endpoint config request as stored (CreateEndpointConfig body minus Tags). */
  readonly endpointConfig: Record<string, unknown>;
  /** The CreateModel request (minus Tags) of ProductionVariants[0].ModelName. */
  readonly model: Record<string, unknown>;
  /** `config.images`. */
  readonly images: Readonly<Record<string, ImageModel>>;
  /** `config.topics`. */
  readonly topics: Readonly<Record<string, TopicConfig>>;
  /** `config.server.region` (the region of SNS topics whose ARN names none). */
  readonly region: string;
  /** From Application Auto Scaling, when registered. */
  readonly scaling?: { readonly min: number; readonly max: number; readonly targetBacklogPerInstance?: number };
  /** Where the model data was unpacked (SM_MODEL_DIR), when ModelDataUrl / ModelDataSource is given. */
  readonly modelDir?: string;
}

/** An endpoint ready to serve. */
export interface Deployment {
  readonly endpoint: EndpointConfig;
  /** Topics the endpoint's NotificationConfig needs that config.topics lacks (SNS ARNs with the default SNS client config). */
  readonly extraTopics: readonly TopicConfig[];
}

const Container = z.looseObject({
  Image: z.string().optional(),
  Environment: z.record(z.string(), z.string()).optional(),
  ModelDataUrl: z.string().optional(),
  ModelDataSource: z.looseObject({
    S3DataSource: z.looseObject({
      S3Uri: z.string(),
      S3DataType: z.enum(['S3Prefix', 'S3Object']),
      CompressionType: z.enum(['None', 'Gzip']),
    }).optional(),
  }).optional(),
});

const Model = z.looseObject({ PrimaryContainer: Container.optional(), Containers: z.array(Container).optional() });

const Variant = z.looseObject({
  InitialInstanceCount: z.number().int().min(1).optional(),
  ContainerStartupHealthCheckTimeoutInSeconds: z.number().int().min(1).optional(),
  ServerlessConfig: z.looseObject({ MaxConcurrency: z.number().int().min(1), ProvisionedConcurrency: z.number().int().min(0).optional() }).optional(),
});

const EndpointConfigDoc = z.looseObject({
  ProductionVariants: z.array(Variant).min(1),
  AsyncInferenceConfig: z.looseObject({
    ClientConfig: z.looseObject({ MaxConcurrentInvocationsPerInstance: z.number().int().optional() }).optional(),
    OutputConfig: z.looseObject({
      S3OutputPath: z.string().optional(),
      S3FailurePath: z.string().optional(),
      NotificationConfig: z.looseObject({
        SuccessTopic: z.string().optional(),
        ErrorTopic: z.string().optional(),
        IncludeInferenceResponseIn: z.array(z.enum(['SUCCESS_NOTIFICATION_TOPIC', 'ERROR_NOTIFICATION_TOPIC'])).optional(),
      }).optional(),
    }).optional(),
  }).optional(),
});

type ContainerT = z.infer<typeof Container>;
type VariantT = z.infer<typeof Variant>;
type AsyncT = NonNullable<z.infer<typeof EndpointConfigDoc>['AsyncInferenceConfig']>;

/** An SNS topic ARN: `arn:<partition>:sns:<region>:<account>:<name>` (an empty region: the server's). */
const SNS_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]*):\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

function invalid(message: string): InferqError {
  return new InferqError('ControlPlaneValidation', message);
}

/** Parses a stored document; a mismatch names the SageMaker field (`ProductionVariants.0.InitialInstanceCount`). */
function parseDoc<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw invalid(`The ${what} cannot be deployed: ${issue.path.map(String).join('.') || '(document)'}: ${issue.message}.`);
}

/** The container that runs: PrimaryContainer, else the first of Containers. */
function containerOf(model: Record<string, unknown>): ContainerT {
  const m = parseDoc(Model, model, 'model');
  const container = m.PrimaryContainer ?? m.Containers?.[0];
  if (container === undefined) throw invalid('The model has neither a PrimaryContainer nor Containers.');
  return container;
}

/**
 * Where the model's data is, if it has some: `ModelDataUrl` (a tar.gz) or
 * `ModelDataSource.S3DataSource` (a tar.gz object, or an uncompressed S3Prefix).
 * @throws InferqError ControlPlaneValidation for a location inferq cannot fetch (not s3://, an
 * uncompressed single object, a compressed prefix, or both fields given).
 */
export function modelDataOf(model: Record<string, unknown>): { readonly url: string; readonly compressed: boolean } | undefined {
  const container = containerOf(model);
  const source = container.ModelDataSource?.S3DataSource;
  if (container.ModelDataUrl !== undefined && source !== undefined) throw invalid('Give either ModelDataUrl or ModelDataSource, not both.');
  if (container.ModelDataUrl !== undefined) {
    parseS3Url(container.ModelDataUrl, 'ModelDataUrl');
    return { url: container.ModelDataUrl, compressed: true };
  }
  if (source === undefined) return undefined;
  parseS3Url(source.S3Uri, 'ModelDataSource.S3DataSource.S3Uri');
  if (source.CompressionType === 'Gzip' && source.S3DataType !== 'S3Object') {
    throw invalid('ModelDataSource.S3DataSource: CompressionType Gzip needs S3DataType S3Object (one model.tar.gz).');
  }
  if (source.CompressionType === 'None' && source.S3DataType !== 'S3Prefix') {
    throw invalid('ModelDataSource.S3DataSource: an uncompressed single object (S3DataType S3Object, CompressionType None) is not supported by inferq; use S3DataType S3Prefix.');
  }
  return { url: source.S3Uri, compressed: source.CompressionType === 'Gzip' };
}

/** The `model:` entry for the container's image. */
function modelEntry(container: ContainerT, images: Readonly<Record<string, ImageModel>>, variant: VariantT, modelDir: string | undefined): Record<string, unknown> {
  const image = container.Image;
  if (image === undefined) throw invalid('PrimaryContainer.Image is missing.');
  const mapped = Object.hasOwn(images, image) ? images[image] : undefined;
  if (mapped === undefined) {
    throw invalid(`PrimaryContainer.Image "${image}" is not in the images map of the inferq configuration (images:); inferq/echo and inferq/vad are built in.`);
  }
  const start = variant.ContainerStartupHealthCheckTimeoutInSeconds !== undefined ? { startTimeoutSeconds: variant.ContainerStartupHealthCheckTimeoutInSeconds } : {};
  switch (mapped.kind) {
    case 'builtin':
      return { builtin: mapped.builtin, ...start };
    case 'url':
      return { url: mapped.url, ...start };
    case 'command': {
      // inferq's SM_MODEL_DIR wins over the container's: the data is where inferq unpacked it.
      const env = Object.assign({}, mapped.env, container.Environment, modelDir !== undefined ? { SM_MODEL_DIR: modelDir } : {});
      return { command: [...mapped.command], env, ...(mapped.cwd !== undefined ? { cwd: mapped.cwd } : {}), ...start };
    }
  }
}

/** `instances:` from the variant and the scalable target. */
function instancesEntry(variant: VariantT, scaling: DeploymentInput['scaling'], isUrl: boolean): Record<string, number> {
  // A url model is one server inferq does not start or stop: instance counts have no meaning for it.
  if (isUrl) return { min: 1, max: 1 };
  const serverless = variant.ServerlessConfig;
  const base = serverless !== undefined
    ? { min: (serverless.ProvisionedConcurrency ?? 0) > 0 ? 1 : 0, max: 1 }
    : { min: variant.InitialInstanceCount ?? 1, max: variant.InitialInstanceCount ?? 1 };
  if (scaling === undefined) return base;
  return { min: scaling.min, max: scaling.max, ...(scaling.targetBacklogPerInstance !== undefined ? { targetBacklogPerInstance: scaling.targetBacklogPerInstance } : {}) };
}

/** The topics NotificationConfig's ARNs are looked up in, and the ones synthesized for it. */
interface TopicScope {
  readonly topics: Readonly<Record<string, TopicConfig>>;
  readonly region: string;
  readonly extra: Map<string, TopicConfig>;
}

/** The topic name for an SNS ARN: a configured sns topic with that `topicArn`, else a synthesized one (added to `extra`). */
function topicFor(arn: string, field: string, scope: TopicScope): string {
  const m = SNS_ARN.exec(arn);
  if (!m) throw invalid(`AsyncInferenceConfig.OutputConfig.NotificationConfig.${field} "${arn}" is not an SNS topic ARN (arn:aws:sns:region:account:name).`);
  const configured = Object.values(scope.topics).find((t) => t.target.kind === 'sns' && t.target.topicArn === arn);
  if (configured !== undefined) return configured.name;
  if (!scope.extra.has(arn)) scope.extra.set(arn, { name: arn, target: { kind: 'sns', topicArn: arn, region: m[1] || scope.region } });
  return arn;
}

/** `async:` from AsyncInferenceConfig (absent: inferq's defaults) and ServerlessConfig. */
function asyncEntry(config: AsyncT | undefined, variant: VariantT, scope: TopicScope): Record<string, unknown> {
  const output = config?.OutputConfig;
  const concurrency = config?.ClientConfig?.MaxConcurrentInvocationsPerInstance ?? variant.ServerlessConfig?.MaxConcurrency;
  const n = output?.NotificationConfig;
  const notification = n === undefined ? undefined : Object.assign(
    { includeInferenceResponseIn: n.IncludeInferenceResponseIn ?? [] },
    n.SuccessTopic !== undefined ? { successTopic: topicFor(n.SuccessTopic, 'SuccessTopic', scope) } : {},
    n.ErrorTopic !== undefined ? { errorTopic: topicFor(n.ErrorTopic, 'ErrorTopic', scope) } : {},
  );
  const entry: Record<string, unknown> = {};
  Object.assign(
    entry,
    output?.S3OutputPath !== undefined ? { outputPath: output.S3OutputPath } : {},
    // Without S3FailurePath SageMaker gives no FailureLocation (sagemaker-async-semantics.md §1.3);
    // inferq always writes failures, to its default s3://inferq-async/<endpoint>/failures.
    output?.S3FailurePath !== undefined ? { failurePath: output.S3FailurePath } : {},
    concurrency !== undefined ? { maxConcurrentInvocations: concurrency } : {},
    notification !== undefined ? { notification } : {},
  );
  return entry;
}

/**
 * The endpoint an API-created endpoint serves, and the SNS topics it needs beyond `config.topics`.
 * @throws InferqError ControlPlaneValidation naming the SageMaker field that cannot be served
 * (an unmapped image names `images`).
 */
export function deploymentOf(input: DeploymentInput): Deployment {
  const config = parseDoc(EndpointConfigDoc, input.endpointConfig, 'endpoint config');
  const variant = config.ProductionVariants[0]!;
  const container = containerOf(input.model);
  const model = modelEntry(container, input.images, variant, input.modelDir);
  const scope: TopicScope = { topics: input.topics, region: input.region, extra: new Map() };
  const raw = {
    name: input.endpointName,
    model,
    instances: instancesEntry(variant, input.scaling, 'url' in model),
    async: asyncEntry(config.AsyncInferenceConfig, variant, scope),
  };
  const topics = Object.assign({}, input.topics, Object.fromEntries(scope.extra));
  return { endpoint: resolveApiEndpoint(raw, topics, input.endpointName), extraTopics: [...scope.extra.values()] };
}
