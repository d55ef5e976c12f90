/**
 * deploymentOf, modelDataOf and resolveApiEndpoint: stored CreateModel / CreateEndpointConfig
 * documents become the EndpointConfig an endpoint of the configuration file would resolve to
 * (images, instances, serverless, scaling, async paths and concurrency, notification topics by
 * ARN), fields inferq ignores are accepted, and what cannot be served is a ControlPlaneValidation
 * error naming the SageMaker field.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { resolveApiEndpoint, resolveConfig, type ImageModel, type TopicConfig } from '../../src/config/index.js';
import { deploymentOf, modelDataOf, type DeploymentInput } from '../../src/deploy/index.js';
import { isInferqError } from '../../src/errors/index.js';

const dir = mkdtempSync(join(tmpdir(), 'inferq-deploy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const IMAGES: Readonly<Record<string, ImageModel>> = {
  'inferq/echo': { kind: 'builtin', builtin: 'echo' },
  'inferq/vad': { kind: 'builtin', builtin: 'vad' },
  'acct.dkr.ecr.us-east-1.amazonaws.com/my-model:1': { kind: 'command', command: ['python3', 'serve.py'], env: { A: 'image', B: 'image' }, cwd: '/srv/models' },
  'my-registry/tgi:latest': { kind: 'url', url: 'http://gpu-host:8080/' },
};
const MY_MODEL = 'acct.dkr.ecr.us-east-1.amazonaws.com/my-model:1';
const CONFIGURED_ARN = 'arn:aws:sns:eu-west-1:123456789012:done';
const TOPICS: Readonly<Record<string, TopicConfig>> = {
  done: { name: 'done', target: { kind: 'sns', topicArn: CONFIGURED_ARN, region: 'eu-west-1', endpoint: 'http://127.0.0.1:4566' } },
  hook: { name: 'hook', target: { kind: 'webhook', url: 'http://127.0.0.1:9/h', secret: 's', timeoutMs: 10_000 } },
};

function input(endpointConfig: Record<string, unknown>, model: Record<string, unknown>, extra: Partial<DeploymentInput> = {}): DeploymentInput {
  return Object.assign({ endpointName: 'ep-1', endpointConfig, model, images: IMAGES, topics: TOPICS, region: 'us-west-2' }, extra);
}

function variant(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { EndpointConfigName: 'cfg', ProductionVariants: [Object.assign({ VariantName: 'AllTraffic', ModelName: 'm', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }, fields)] };
}

function model(image: string, container: Record<string, unknown> = {}): Record<string, unknown> {
  return { ModelName: 'm', PrimaryContainer: Object.assign({ Image: image }, container), ExecutionRoleArn: 'arn:aws:iam::123456789012:role/r' };
}

/** Asserts that `fn` throws ControlPlaneValidation whose message matches `message`. */
function refuses(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isInferqError(err, 'ControlPlaneValidation'), `expected ControlPlaneValidation, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

test('a built-in image with no AsyncInferenceConfig gets inferq defaults, as a file endpoint would', () => {
  const { endpoint, extraTopics } = deploymentOf(input(variant(), model('inferq/echo')));
  const file = join(dir, 'echo.yaml');
  writeFileSync(file, 'endpoints:\n  - name: ep-1\n    model: { builtin: echo }\n');
  assert.deepEqual(endpoint, resolveConfig({ configFile: file }).endpoints[0]);
  assert.deepEqual(endpoint.async.output, { bucket: 'inferq-async', prefix: 'ep-1/output' });
  assert.deepEqual(endpoint.async.failure, { bucket: 'inferq-async', prefix: 'ep-1/failures' });
  assert.deepEqual(extraTopics, []);
  assert.ok(Object.isFrozen(endpoint.model));
});

test('a command image: image env under the container Environment, SM_MODEL_DIR, cwd, instance count', () => {
  const { endpoint } = deploymentOf(input(variant({ InitialInstanceCount: 3 }), model(MY_MODEL, { Environment: { B: 'container', C: 'container', SM_MODEL_DIR: '/opt/ml/model' } }), { modelDir: '/data/models/m-abc' }));
  assert.deepEqual(endpoint.model, {
    kind: 'command', command: ['python3', 'serve.py'], cwd: '/srv/models',
    env: { A: 'image', B: 'container', C: 'container', SM_MODEL_DIR: '/data/models/m-abc' },
    startTimeoutMs: 240_000, pingIntervalMs: 5000,
  });
  assert.deepEqual([endpoint.instances.min, endpoint.instances.max], [3, 3]);
  assert.equal(endpoint.async.maxConcurrentInvocations, 4);
});

test('a built-in ignores the model directory and Environment; Containers[0] stands in for PrimaryContainer', () => {
  const { endpoint } = deploymentOf(input(variant(), { ModelName: 'm', Containers: [{ Image: 'inferq/vad', Environment: { X: '1' } }, { Image: 'inferq/echo' }] }, { modelDir: '/d' }));
  assert.deepEqual(endpoint.model, { kind: 'builtin', builtin: 'vad', startTimeoutMs: 240_000, pingIntervalMs: 5000 });
});

test('a url image is one server whatever the counts, serverless config or scaling say', () => {
  for (const extra of [{}, { scaling: { min: 0, max: 5 } }]) {
    const { endpoint } = deploymentOf(input(variant({ InitialInstanceCount: 4 }), model('my-registry/tgi:latest'), extra));
    assert.deepEqual(endpoint.model, { kind: 'url', url: 'http://gpu-host:8080', pingIntervalMs: 5000 });
    assert.deepEqual([endpoint.instances.min, endpoint.instances.max], [1, 1]);
  }
});

test('an image missing from the images map is refused naming images', () => {
  refuses(() => deploymentOf(input(variant(), model('nobody/unknown:1'))), /PrimaryContainer\.Image "nobody\/unknown:1" is not in the images map .*\(images:\)/);
  refuses(() => deploymentOf(input(variant(), { ModelName: 'm' })), /neither a PrimaryContainer nor Containers/);
  refuses(() => deploymentOf(input(variant(), { ModelName: 'm', PrimaryContainer: {} })), /PrimaryContainer\.Image is missing/);
});

test('a registered scalable target overrides the instance count, target backlog included', () => {
  const { endpoint } = deploymentOf(input(variant({ InitialInstanceCount: 2 }), model('inferq/echo'), { scaling: { min: 0, max: 4, targetBacklogPerInstance: 2.5 } }));
  assert.deepEqual(endpoint.instances, { min: 0, max: 4, targetBacklogPerInstance: 2.5, idleTimeoutMs: 300_000 });
  const kept = deploymentOf(input(variant(), model('inferq/echo'), { scaling: { min: 1, max: 3 } })).endpoint.instances;
  assert.deepEqual([kept.min, kept.max, kept.targetBacklogPerInstance], [1, 3, 5]);
});

test('ServerlessConfig: scale to zero (one instance with provisioned concurrency), MaxConcurrency calls in flight', () => {
  const serverless = { InitialInstanceCount: undefined, InstanceType: undefined, ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 7 } };
  const cold = deploymentOf(input(variant(serverless), model(MY_MODEL))).endpoint;
  assert.deepEqual([cold.instances.min, cold.instances.max, cold.async.maxConcurrentInvocations], [0, 1, 7]);
  const warm = deploymentOf(input(variant({ ...serverless, ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 3, ProvisionedConcurrency: 2 } }), model(MY_MODEL))).endpoint;
  assert.deepEqual([warm.instances.min, warm.instances.max, warm.async.maxConcurrentInvocations], [1, 1, 3]);
});

test('AsyncInferenceConfig: output and failure paths, MaxConcurrentInvocationsPerInstance', () => {
  const cfg = Object.assign(variant(), {
    AsyncInferenceConfig: {
      ClientConfig: { MaxConcurrentInvocationsPerInstance: 9 },
      OutputConfig: { S3OutputPath: 's3://my-bucket/async/out/', S3FailurePath: 's3://fail-bucket/f', KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k' },
    },
  });
  const { endpoint } = deploymentOf(input(cfg, model(MY_MODEL)));
  assert.deepEqual(endpoint.async.output, { bucket: 'my-bucket', prefix: 'async/out' });
  assert.deepEqual(endpoint.async.failure, { bucket: 'fail-bucket', prefix: 'f' });
  assert.equal(endpoint.async.maxConcurrentInvocations, 9);
  assert.equal(endpoint.async.notification, undefined);
});

test('without S3FailurePath failures go to the inferq default under the endpoint name', () => {
  const cfg = Object.assign(variant(), { AsyncInferenceConfig: { OutputConfig: { S3OutputPath: 's3://my-bucket/out' } } });
  const { endpoint } = deploymentOf(input(cfg, model('inferq/echo'), { endpointName: 'Async-EP' }));
  assert.deepEqual(endpoint.async.output, { bucket: 'my-bucket', prefix: 'out' });
  assert.deepEqual(endpoint.async.failure, { bucket: 'inferq-async', prefix: 'Async-EP/failures' });
});

test('NotificationConfig: a configured topic is used by its ARN, another ARN becomes an extra SNS topic', () => {
  const other = 'arn:aws:sns:ap-south-1:210987654321:errors';
  const cfg = Object.assign(variant(), {
    AsyncInferenceConfig: { OutputConfig: { S3OutputPath: 's3://my-bucket/out', NotificationConfig: { SuccessTopic: CONFIGURED_ARN, ErrorTopic: other, IncludeInferenceResponseIn: ['ERROR_NOTIFICATION_TOPIC'] } } },
  });
  const { endpoint, extraTopics } = deploymentOf(input(cfg, model('inferq/echo')));
  assert.deepEqual(endpoint.async.notification, { successTopic: 'done', errorTopic: other, includeBodyOnSuccess: false, includeBodyOnError: true });
  assert.deepEqual(extraTopics, [{ name: other, target: { kind: 'sns', topicArn: other, region: 'ap-south-1' } }]);
});

test('one unknown ARN for both topics is one extra topic; an ARN without a region takes the server region', () => {
  const arn = 'arn:aws:sns::123456789012:both';
  const cfg = Object.assign(variant(), { AsyncInferenceConfig: { OutputConfig: { NotificationConfig: { SuccessTopic: arn, ErrorTopic: arn } } } });
  const { endpoint, extraTopics } = deploymentOf(input(cfg, model('inferq/echo')));
  assert.deepEqual(endpoint.async.notification, { successTopic: arn, errorTopic: arn, includeBodyOnSuccess: false, includeBodyOnError: false });
  assert.deepEqual(extraTopics, [{ name: arn, target: { kind: 'sns', topicArn: arn, region: 'us-west-2' } }]);
});

test('settings inferq cannot serve are refused naming the SageMaker field', () => {
  const withOutput = (output: Record<string, unknown>): Record<string, unknown> => Object.assign(variant(), { AsyncInferenceConfig: { OutputConfig: output } });
  refuses(() => deploymentOf(input(withOutput({ SuccessTopic: 'x', NotificationConfig: { ErrorTopic: 'arn:aws:sqs:us-east-1:123456789012:q' } }), model('inferq/echo'))), /NotificationConfig\.ErrorTopic "arn:aws:sqs:.*" is not an SNS topic ARN/);
  refuses(() => deploymentOf(input(withOutput({ S3OutputPath: 'https://my-bucket.s3.amazonaws.com/out' }), model('inferq/echo'))), /^Endpoint ep-1: AsyncInferenceConfig\.OutputConfig\.S3OutputPath: must be s3:\/\/bucket/);
  refuses(() => deploymentOf(input(withOutput({ S3FailurePath: 's3://X_bad/f' }), model('inferq/echo'))), /AsyncInferenceConfig\.OutputConfig\.S3FailurePath: must be s3:\/\//);
  refuses(() => deploymentOf(input(variant({ InitialInstanceCount: 100 }), model('inferq/echo'))), /ProductionVariants\[0\]\.InitialInstanceCount .*: Too big/);
  refuses(() => deploymentOf(input(variant(), model('inferq/echo'), { scaling: { min: 3, max: 2 } })), /MinCapacity \/ MaxCapacity: min must not exceed max/);
  refuses(() => deploymentOf(input(Object.assign(variant(), { AsyncInferenceConfig: { ClientConfig: { MaxConcurrentInvocationsPerInstance: 5000 } } }), model('inferq/echo'))), /ClientConfig\.MaxConcurrentInvocationsPerInstance: Too big/);
  refuses(() => deploymentOf(input(variant(), model('inferq/echo'), { endpointName: 'bad_name' })), /^Endpoint bad_name: EndpointName: must match/);
  refuses(() => deploymentOf(input({ EndpointConfigName: 'cfg', ProductionVariants: [] }, model('inferq/echo'))), /The endpoint config cannot be deployed: ProductionVariants: /);
  refuses(() => deploymentOf(input(variant({ InitialInstanceCount: 'two' }), model('inferq/echo'))), /ProductionVariants\.0\.InitialInstanceCount/);
});

test('the start timeout comes from ContainerStartupHealthCheckTimeoutInSeconds; ignored fields are accepted', () => {
  const cfg = Object.assign(variant({ ContainerStartupHealthCheckTimeoutInSeconds: 120, ModelDataDownloadTimeoutInSeconds: 600, VolumeSizeInGB: 30, InitialVariantWeight: 1 }), {
    KmsKeyId: 'k', DataCaptureConfig: { EnableCapture: true, InitialSamplingPercentage: 100, DestinationS3Uri: 's3://c/d', CaptureOptions: [{ CaptureMode: 'Input' }] },
    ShadowProductionVariants: [{ VariantName: 'shadow', ModelName: 'm2' }],
  });
  const m = Object.assign(model(MY_MODEL, { Mode: 'SingleModel', ContainerHostname: 'h', ImageConfig: { RepositoryAccessMode: 'Platform' } }), { VpcConfig: { SecurityGroupIds: ['sg-1'], Subnets: ['subnet-1'] }, EnableNetworkIsolation: true });
  const { endpoint } = deploymentOf(input(cfg, m));
  assert.equal(endpoint.model.kind === 'command' ? endpoint.model.startTimeoutMs : 0, 120_000);
});

test('modelDataOf: ModelDataUrl and ModelDataSource, compressed or an uncompressed prefix', () => {
  assert.equal(modelDataOf(model('inferq/echo')), undefined);
  assert.deepEqual(modelDataOf(model(MY_MODEL, { ModelDataUrl: 's3://models/m/model.tar.gz' })), { url: 's3://models/m/model.tar.gz', compressed: true });
  assert.deepEqual(modelDataOf({ Containers: [{ Image: MY_MODEL, ModelDataUrl: 's3://models/c.tar.gz' }] }), { url: 's3://models/c.tar.gz', compressed: true });
  const source = (S3DataType: string, CompressionType: string, S3Uri = 's3://models/m/'): Record<string, unknown> => model(MY_MODEL, { ModelDataSource: { S3DataSource: { S3Uri, S3DataType, CompressionType } } });
  assert.deepEqual(modelDataOf(source('S3Prefix', 'None')), { url: 's3://models/m/', compressed: false });
  assert.deepEqual(modelDataOf(source('S3Object', 'Gzip', 's3://models/m.tar.gz')), { url: 's3://models/m.tar.gz', compressed: true });
  refuses(() => modelDataOf(source('S3Prefix', 'Gzip')), /CompressionType Gzip needs S3DataType S3Object/);
  refuses(() => modelDataOf(source('S3Object', 'None')), /uncompressed single object .* is not supported/);
  refuses(() => modelDataOf(source('S3Prefix', 'None', 'https://models.s3.amazonaws.com/m/')), /ModelDataSource\.S3DataSource\.S3Uri "https:.*" must be an s3:\/\/bucket\/key URL/);
  refuses(() => modelDataOf(model(MY_MODEL, { ModelDataUrl: 'https://x/model.tar.gz' })), /ModelDataUrl "https:\/\/x\/model\.tar\.gz" must be an s3:/);
  refuses(() => modelDataOf(model(MY_MODEL, { ModelDataUrl: 's3://a/b.tar.gz', ModelDataSource: { S3DataSource: { S3Uri: 's3://a/', S3DataType: 'S3Prefix', CompressionType: 'None' } } })), /either ModelDataUrl or ModelDataSource, not both/);
  refuses(() => modelDataOf(model(MY_MODEL, { ModelDataSource: { S3DataSource: { S3Uri: 's3://a/', S3DataType: 'Prefix', CompressionType: 'None' } } })), /PrimaryContainer\.ModelDataSource\.S3DataSource\.S3DataType/);
});

test('resolveApiEndpoint resolves like a file endpoint and reports ControlPlaneValidation, never ConfigError', () => {
  const raw = { name: 'direct', model: { command: ['/bin/model'], cwd: '/abs/dir' }, instances: { min: 0, max: 2 }, async: { notification: { errorTopic: 'hook' } } };
  const e = resolveApiEndpoint(raw, TOPICS, 'direct');
  assert.deepEqual(e.model, { kind: 'command', command: ['/bin/model'], env: {}, cwd: '/abs/dir', startTimeoutMs: 240_000, pingIntervalMs: 5000 });
  assert.deepEqual(e.async.notification, { errorTopic: 'hook', includeBodyOnSuccess: false, includeBodyOnError: false });
  refuses(() => resolveApiEndpoint({ ...raw, async: { notification: { successTopic: 'nope' } } }, TOPICS, 'direct'), /^Endpoint direct: AsyncInferenceConfig\.OutputConfig\.NotificationConfig\.SuccessTopic: unknown topic nope/);
  refuses(() => resolveApiEndpoint({ name: 'u', model: { url: 'http://h:1' }, instances: { min: 2, max: 2 } }, TOPICS, 'u'), /^Endpoint u: ProductionVariants\[0\]\.InitialInstanceCount .*: instances apply to command and built-in models/);
  refuses(() => resolveApiEndpoint({ ...raw, extra: 1 }, TOPICS, 'direct'), /^Endpoint direct: extra: unknown setting\.$/);
  refuses(() => resolveApiEndpoint('not an object', TOPICS, 'x'), /^Endpoint x: \(endpoint\): /);
});
