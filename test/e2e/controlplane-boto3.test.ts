/**
 * The SageMaker control plane driven by boto3 and the aws CLI: CreateModel → CreateEndpointConfig
 * (AsyncInferenceConfig) → CreateEndpoint, Describe*, List* (NameContains, StatusEquals, SortBy,
 * SortOrder, pagination), tags, UpdateEndpoint, DeleteEndpoint with the endpoint_deleted waiter,
 * the errors SDKs expect (ValidationException "Could not find …", ResourceInUse), endpoints of the
 * configuration file (listed, InService for the endpoint_in_service waiter, changes refused),
 * STS GetCallerIdentity, and resources that survive a restart on the same data directory. (Running API-created endpoints:
 * controlplane-deploy*.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Harness } from '../helpers/async.js';
import { PY_CLIENT_ERROR, aws, awsEnv, python, run } from '../helpers/clients.js';
import { CLI, type ServerProcess } from '../helpers/server.js';

const h = new Harness();
let server: ServerProcess;
let dataDir: string;
let configFile: string;

before(async () => {
  dataDir = h.dir('inferq-cp-data-');
  configFile = h.config({
    endpoints: [{ name: 'echo', model: { builtin: 'echo' } }],
    images: { '123456789012.dkr.ecr.us-east-1.amazonaws.com/my-model:1': { command: ['python3', 'serve.py'], cwd: '.' }, 'my-registry/tgi:latest': { url: 'http://127.0.0.1:1' } },
  });
  server = await h.start(configFile, dataDir);
});
after(() => h.cleanup());

const PRELUDE = `import boto3, json, botocore.config, botocore.exceptions
sm = boto3.client('sagemaker', config=botocore.config.Config(retries={'max_attempts': 1, 'mode': 'standard'}))
${PY_CLIENT_ERROR}def ts(v):
    return v.timestamp()
`;

/** Runs a boto3 script (PRELUDE first), asserts it exited 0 and returns the JSON it printed last. */
async function boto3(code: string): Promise<Record<string, unknown>> {
  const r = await python(server.url, `${PRELUDE}\n${code}`);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

describe('the control-plane lifecycle with boto3', () => {
  test('create, describe, list, tag, update and delete (endpoint_deleted waiter), with SageMaker ARNs and errors', async () => {
    const out = await boto3(`
r = {}
r['model'] = sm.create_model(ModelName='My-Model', PrimaryContainer={'Image': 'inferq/echo', 'Environment': {'A': '1'}}, ExecutionRoleArn='arn:aws:iam::000000000000:role/x')['ModelArn']
sm.create_model(ModelName='other-model', PrimaryContainer={'Image': 'inferq/echo'})
r['dupModel'] = err(sm.create_model, ModelName='my-model', PrimaryContainer={'Image': 'inferq/echo'})
r['configMissingModel'] = err(sm.create_endpoint_config, EndpointConfigName='c0', ProductionVariants=[{'VariantName': 'AllTraffic', 'ModelName': 'nope', 'InitialInstanceCount': 1}])
async_cfg = {'OutputConfig': {'S3OutputPath': 's3://out-bucket/results', 'S3FailurePath': 's3://out-bucket/failures'}, 'ClientConfig': {'MaxConcurrentInvocationsPerInstance': 4}}
r['config'] = sm.create_endpoint_config(EndpointConfigName='cfg-1', ProductionVariants=[{'VariantName': 'AllTraffic', 'ModelName': 'My-Model', 'InitialInstanceCount': 2, 'InstanceType': 'ml.g5.xlarge'}], AsyncInferenceConfig=async_cfg)['EndpointConfigArn']
sm.create_endpoint_config(EndpointConfigName='cfg-2', ProductionVariants=[{'VariantName': 'AllTraffic', 'ModelName': 'other-model', 'InitialInstanceCount': 1}])
r['endpoint'] = sm.create_endpoint(EndpointName='ep-one', EndpointConfigName='cfg-1', Tags=[{'Key': 'team', 'Value': 'a'}])['EndpointArn']
sm.create_endpoint(EndpointName='ep-two', EndpointConfigName='cfg-2')
r['dupEndpoint'] = err(sm.create_endpoint, EndpointName='ep-one', EndpointConfigName='cfg-1')
r['created'] = sm.describe_endpoint(EndpointName='ep-two')['EndpointStatus']
for name in ['ep-one', 'ep-two']:
    sm.get_waiter('endpoint_in_service').wait(EndpointName=name, WaiterConfig={'Delay': 1, 'MaxAttempts': 60})
rt = boto3.client('sagemaker-runtime', config=botocore.config.Config(retries={'max_attempts': 1, 'mode': 'standard'}))
r['invokeStored'] = rt.invoke_endpoint(EndpointName='ep-two', Body=b'{"a": 1}', ContentType='application/json')['Body'].read().decode()
d = sm.describe_endpoint(EndpointName='ep-one')
r['describe'] = {k: d[k] for k in ['EndpointName', 'EndpointArn', 'EndpointConfigName', 'EndpointStatus', 'AsyncInferenceConfig']}
r['variant'] = {k: d['ProductionVariants'][0][k] for k in ['VariantName', 'DesiredInstanceCount', 'CurrentInstanceCount']}
r['times'] = [type(d['CreationTime']).__name__, ts(d['LastModifiedTime']) >= ts(d['CreationTime'])]
m = sm.describe_model(ModelName='my-model')
r['describeModel'] = [m['ModelName'], m['ModelArn'], m['PrimaryContainer'], m['ExecutionRoleArn']]
c = sm.describe_endpoint_config(EndpointConfigName='cfg-1')
r['describeConfig'] = [c['EndpointConfigName'], c['ProductionVariants'][0]['InstanceType'], c['AsyncInferenceConfig']['ClientConfig']]
r['listAsc'] = [e['EndpointName'] for e in sm.list_endpoints(SortBy='Name', SortOrder='Ascending')['Endpoints']]
r['listContains'] = [e['EndpointName'] for e in sm.list_endpoints(NameContains='TWO')['Endpoints']]
r['listStatus'] = sorted(e['EndpointName'] for e in sm.list_endpoints(StatusEquals='InService')['Endpoints'])
p1 = sm.list_endpoints(SortBy='Name', SortOrder='Descending', MaxResults=2)
p2 = sm.list_endpoints(SortBy='Name', SortOrder='Descending', MaxResults=2, NextToken=p1['NextToken'])
r['pages'] = [[e['EndpointName'] for e in p1['Endpoints']], [e['EndpointName'] for e in p2['Endpoints']], 'NextToken' in p2]
r['paginator'] = [e['EndpointName'] for page in sm.get_paginator('list_endpoints').paginate(SortBy='Name', SortOrder='Ascending', PaginationConfig={'PageSize': 1}) for e in page['Endpoints']]
r['models'] = sorted(x['ModelName'] for x in sm.list_models()['Models'])
r['configs'] = sorted(x['EndpointConfigName'] for x in sm.list_endpoint_configs(NameContains='cfg')['EndpointConfigs'])
sm.add_tags(ResourceArn=r['endpoint'], Tags=[{'Key': 'env', 'Value': 'test'}, {'Key': 'team', 'Value': 'b'}])
r['tags'] = sorted((t['Key'], t['Value']) for t in sm.list_tags(ResourceArn=r['endpoint'])['Tags'])
sm.delete_tags(ResourceArn=r['endpoint'], TagKeys=['team'])
r['tagsAfter'] = [(t['Key'], t['Value']) for t in sm.list_tags(ResourceArn=r['endpoint'])['Tags']]
r['inUseModel'] = err(sm.delete_model, ModelName='My-Model')
r['inUseConfig'] = err(sm.delete_endpoint_config, EndpointConfigName='cfg-1')
sm.update_endpoint(EndpointName='ep-one', EndpointConfigName='cfg-2')
r['updated'] = sm.describe_endpoint(EndpointName='ep-one')['EndpointConfigName']
sm.get_waiter('endpoint_in_service').wait(EndpointName='ep-one', WaiterConfig={'Delay': 1, 'MaxAttempts': 60})
sm.delete_endpoint_config(EndpointConfigName='cfg-1')
sm.delete_endpoint(EndpointName='ep-one')
sm.get_waiter('endpoint_deleted').wait(EndpointName='ep-one', WaiterConfig={'Delay': 1, 'MaxAttempts': 5})
r['missing'] = err(sm.describe_endpoint, EndpointName='ep-one')
r['missingModel'] = err(sm.describe_model, ModelName='nope')
r['missingConfig'] = err(sm.delete_endpoint_config, EndpointConfigName='cfg-1')
r['badName'] = err(sm.describe_endpoint, EndpointName='bad_name')
r['noContainer'] = err(sm.create_model, ModelName='empty')
r['mapped'] = [sm.create_model(ModelName='ecr-model', PrimaryContainer={'Image': '123456789012.dkr.ecr.us-east-1.amazonaws.com/my-model:1'})['ModelArn'], sm.create_model(ModelName='tgi', Containers=[{'Image': 'my-registry/tgi:latest'}])['ModelArn']]
r['unmapped'] = err(sm.create_model, ModelName='unmapped', PrimaryContainer={'Image': 'nobody/else:2'})
print(json.dumps(r))
`);
    const arn = (kind: string, name: string): string => `arn:aws:sagemaker:us-east-1:000000000000:${kind}/${name}`;
    assert.equal(out['model'], arn('model', 'my-model'));
    assert.equal(out['config'], arn('endpoint-config', 'cfg-1'));
    assert.equal(out['endpoint'], arn('endpoint', 'ep-one'));
    assert.deepEqual(out['dupModel'], ['ValidationException', `Cannot create already existing model "${arn('model', 'my-model')}".`, 400]);
    assert.deepEqual(out['configMissingModel'], ['ValidationException', 'Could not find model "nope".', 400]);
    assert.deepEqual(out['dupEndpoint'], ['ValidationException', `Cannot create already existing endpoint "${arn('endpoint', 'ep-one')}".`, 400]);
    assert.match(String(out['created']), /^(Creating|InService)$/, 'CreateEndpoint answers before the model runs');
    assert.equal(out['invokeStored'], '{"a": 1}', 'an API-created endpoint is served once InService');
    assert.deepEqual(out['describe'], {
      EndpointName: 'ep-one', EndpointArn: arn('endpoint', 'ep-one'), EndpointConfigName: 'cfg-1', EndpointStatus: 'InService',
      AsyncInferenceConfig: { OutputConfig: { S3OutputPath: 's3://out-bucket/results', S3FailurePath: 's3://out-bucket/failures' }, ClientConfig: { MaxConcurrentInvocationsPerInstance: 4 } },
    });
    assert.deepEqual(out['variant'], { VariantName: 'AllTraffic', DesiredInstanceCount: 2, CurrentInstanceCount: 2 });
    assert.deepEqual(out['times'], ['datetime', true]);
    assert.deepEqual(out['describeModel'], ['My-Model', arn('model', 'my-model'), { Image: 'inferq/echo', Environment: { A: '1' } }, 'arn:aws:iam::000000000000:role/x']);
    assert.deepEqual(out['describeConfig'], ['cfg-1', 'ml.g5.xlarge', { MaxConcurrentInvocationsPerInstance: 4 }]);
    assert.deepEqual(out['listAsc'], ['echo', 'ep-one', 'ep-two']);
    assert.deepEqual(out['listContains'], ['ep-two']);
    assert.deepEqual(out['listStatus'], ['echo', 'ep-one', 'ep-two']);
    assert.deepEqual(out['pages'], [['ep-two', 'ep-one'], ['echo'], false]);
    assert.deepEqual(out['paginator'], ['echo', 'ep-one', 'ep-two']);
    assert.deepEqual(out['models'], ['My-Model', 'other-model']);
    assert.deepEqual(out['configs'], ['cfg-1', 'cfg-2']);
    assert.deepEqual(out['tags'], [['env', 'test'], ['team', 'b']]);
    assert.deepEqual(out['tagsAfter'], [['env', 'test']]);
    assert.equal((out['inUseModel'] as unknown[])[0], 'ResourceInUse');
    assert.match(String((out['inUseModel'] as unknown[])[1]), /endpoint ep-one uses it/);
    assert.equal((out['inUseConfig'] as unknown[])[0], 'ResourceInUse');
    assert.equal(out['updated'], 'cfg-2');
    assert.deepEqual(out['missing'], ['ValidationException', 'Could not find endpoint "ep-one".', 400]);
    assert.deepEqual(out['missingModel'], ['ValidationException', 'Could not find model "nope".', 400]);
    assert.deepEqual(out['missingConfig'], ['ValidationException', 'Could not find endpoint configuration "cfg-1".', 400]);
    assert.equal((out['badName'] as unknown[])[0], 'ValidationException');
    assert.match(String((out['badName'] as unknown[])[1]), /^1 validation error detected: Value at 'endpointName' failed to satisfy constraint/);
    assert.deepEqual(out['noContainer'], ['ValidationException', 'Either PrimaryContainer or Containers must be given.', 400]);
    assert.deepEqual(out['mapped'], [arn('model', 'ecr-model'), arn('model', 'tgi')]);
    assert.deepEqual(out['unmapped'], ['ValidationException', 'Image "nobody/else:2" is not in the images map of the inferq configuration (images:); inferq/echo and inferq/vad are built in.', 400]);
  });

  test('a configuration-file endpoint is InService for the endpoint_in_service waiter and refuses API changes', async () => {
    const out = await boto3(`
sm.get_waiter('endpoint_in_service').wait(EndpointName='echo', WaiterConfig={'Delay': 1, 'MaxAttempts': 5})
d = sm.describe_endpoint(EndpointName='echo')
r = {'status': d['EndpointStatus'], 'arn': d['EndpointArn'], 'instances': d['ProductionVariants'][0]['DesiredInstanceCount']}
r['delete'] = err(sm.delete_endpoint, EndpointName='echo')
r['create'] = err(sm.create_endpoint, EndpointName='echo', EndpointConfigName='cfg-2')
r['tags'] = sm.list_tags(ResourceArn=d['EndpointArn'])['Tags']
r['addTags'] = err(sm.add_tags, ResourceArn=d['EndpointArn'], Tags=[{'Key': 'a', 'Value': 'b'}])
print(json.dumps(r))
`);
    assert.equal(out['status'], 'InService');
    assert.equal(out['arn'], 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/echo');
    assert.equal(out['instances'], 1);
    assert.equal((out['delete'] as unknown[])[0], 'ValidationException');
    assert.match(String((out['delete'] as unknown[])[1]), /managed by the configuration file/);
    assert.equal((out['create'] as unknown[])[0], 'ValidationException');
    assert.deepEqual(out['tags'], [{ Key: 'inferq:managed-by', Value: 'configuration-file' }]);
    assert.equal((out['addTags'] as unknown[])[0], 'ValidationException');
  });
});

describe('the aws CLI', () => {
  test('list-endpoints prints the endpoints; describe-endpoint of a missing one prints the ValidationException', async () => {
    const list = await aws(server.url, ['sagemaker', 'list-endpoints', '--sort-by', 'Name', '--sort-order', 'Ascending', '--output', 'json']);
    assert.equal(list.code, 0, list.stderr);
    const names = (JSON.parse(list.stdout) as { Endpoints: { EndpointName: string }[] }).Endpoints.map((e) => e.EndpointName);
    assert.equal(names[0], 'echo');
    const missing = await aws(server.url, ['sagemaker', 'describe-endpoint', '--endpoint-name', 'no-such-endpoint']);
    assert.equal(missing.code, 255, missing.stderr);
    assert.equal(missing.stderr.trim(), 'An error occurred (ValidationException) when calling the DescribeEndpoint operation: Could not find endpoint "no-such-endpoint".');
  });

  test('a wrong secret or an unknown key is refused before any change, in the JSON protocol', async () => {
    const [badSecret, badKey] = await Promise.all([
      aws(server.url, ['sagemaker', 'delete-endpoint', '--endpoint-name', 'echo'], { accessKeyId: 'test', secretAccessKey: 'wrong' }),
      aws(server.url, ['sagemaker', 'create-model', '--model-name', 'x', '--primary-container', 'Image=inferq/echo'], { accessKeyId: 'nobody', secretAccessKey: 'test' }),
    ]);
    assert.match(badSecret.stderr, /An error occurred \(InvalidSignatureException\) when calling the DeleteEndpoint operation: The request signature we calculated/);
    assert.match(badKey.stderr, /An error occurred \(UnrecognizedClientException\) when calling the CreateModel operation/);
    const models = await aws(server.url, ['sagemaker', 'list-models', '--name-contains', 'x', '--output', 'json']);
    assert.deepEqual((JSON.parse(models.stdout) as { Models: unknown[] }).Models.filter((m) => (m as { ModelName: string }).ModelName === 'x'), []);
  });
});

describe('inferq endpoints', () => {
  test('list shows every endpoint, describe prints DescribeEndpoint, delete removes one and refuses a configuration-file endpoint', async () => {
    const cli = (args: string[]) => run(process.execPath, [CLI, 'endpoints', ...args, '--endpoint-url', server.url], awsEnv('http://127.0.0.1:1'));
    await boto3(`
sm.create_model(ModelName='cli-model', PrimaryContainer={'Image': 'inferq/echo'})
sm.create_endpoint_config(EndpointConfigName='cli-cfg', ProductionVariants=[{'VariantName': 'AllTraffic', 'ModelName': 'cli-model', 'InitialInstanceCount': 1}])
sm.create_endpoint(EndpointName='cli-ep', EndpointConfigName='cli-cfg')
print('{}')
`);
    const list = await cli(['list']);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.match(lines[0]!, /^ENDPOINT\s+STATUS\s+CREATED\s+MODIFIED$/);
    assert.ok(lines.some((l) => /^cli-ep\s+(Creating|InService)\s+\d{4}-\d\d-\d\dT/.test(l)), list.stdout);
    assert.ok(lines.some((l) => /^echo\s+InService\s/.test(l)), list.stdout);
    const described = await cli(['describe', 'cli-ep']);
    assert.equal(described.code, 0, described.stderr);
    assert.equal((JSON.parse(described.stdout) as { EndpointConfigName: string }).EndpointConfigName, 'cli-cfg');
    const deleted = await cli(['delete', 'cli-ep']);
    assert.deepEqual([deleted.code, deleted.stdout], [0, 'deleted endpoint cli-ep\n'], deleted.stderr);
    const gone = await cli(['describe', 'cli-ep']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /ValidationException: Could not find endpoint "cli-ep"\./);
    const managed = await cli(['delete', 'echo']);
    assert.equal(managed.code, 1);
    assert.match(managed.stderr, /ValidationException: Endpoint echo is managed by the configuration file/);
    const usage = await cli(['rename']);
    assert.equal(usage.code, 2);
  });
});

describe('STS', () => {
  test('aws sts get-caller-identity and boto3 answer the account and the caller ARN; other STS actions are InvalidAction', async () => {
    const cli = await aws(server.url, ['sts', 'get-caller-identity', '--output', 'json']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(JSON.parse(cli.stdout), { UserId: 'test', Account: '000000000000', Arn: 'arn:aws:iam::000000000000:user/test' });
    const out = await boto3(`
sts = boto3.client('sts', config=botocore.config.Config(retries={'max_attempts': 1, 'mode': 'standard'}))
i = sts.get_caller_identity()
print(json.dumps({'account': i['Account'], 'arn': i['Arn'], 'other': err(sts.get_session_token)}))
`);
    assert.deepEqual(out, {
      account: '000000000000', arn: 'arn:aws:iam::000000000000:user/test',
      other: ['InvalidAction', 'inferq does not serve the sts operation GetSessionToken; of STS it serves only GetCallerIdentity.', 400],
    });
  });
});

describe('persistence', () => {
  test('models, configs and endpoints survive a restart on the same data directory', async () => {
    await boto3(`
sm.create_model(ModelName='kept-model', PrimaryContainer={'Image': 'inferq/echo'})
sm.create_endpoint_config(EndpointConfigName='kept-cfg', ProductionVariants=[{'VariantName': 'AllTraffic', 'ModelName': 'kept-model', 'InitialInstanceCount': 1}])
sm.create_endpoint(EndpointName='kept-ep', EndpointConfigName='kept-cfg')
print('{}')
`);
    assert.equal(await server.stop(), 0);
    server = await h.start(configFile, dataDir);
    const out = await boto3(`
print(json.dumps({'ep': sm.describe_endpoint(EndpointName='kept-ep')['EndpointConfigName'], 'model': sm.describe_model(ModelName='kept-model')['ModelName'], 'cfg': sm.describe_endpoint_config(EndpointConfigName='kept-cfg')['ProductionVariants'][0]['ModelName']}))
`);
    assert.deepEqual(out, { ep: 'kept-cfg', model: 'kept-model', cfg: 'kept-model' });
  });
});
