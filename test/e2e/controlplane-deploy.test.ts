/**
 * Endpoints created through the SageMaker control plane run (SQLite, embedded): CreateModel →
 * CreateEndpointConfig → CreateEndpoint goes Creating → InService (boto3 waiter) and serves
 * InvokeEndpoint, InvokeEndpointAsync (output under S3OutputPath, SNS NotificationConfig through
 * moto_server) and InvokeEndpointWithResponseStream; a model that exits before /ping makes the
 * endpoint Failed with its exit status and last log line; UpdateEndpoint under continuous load
 * loses nothing and switches output paths, and a failed update rolls back; DeleteEndpoint fails
 * the queued requests with a failure object; ModelDataUrl archives are unpacked into SM_MODEL_DIR
 * and one with a `../` member is refused; Application Auto Scaling sets the instance bounds; and
 * an API-created endpoint is served again after a restart on the same data directory.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Harness, awaitTerminal, getStatus, readObject, signed, terminalObjects } from '../helpers/async.js';
import { python } from '../helpers/clients.js';
import { WEIGHTS_SERVER, controlScript, endpointStatusDoc, makeArchive, pollUntil, submitAsync, type SubmittedRequest } from '../helpers/controlplane.js';
import { FIXTURE_COMMAND } from '../helpers/fixture-model.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { ROOT, waitForOutput, type ServerProcess } from '../helpers/server.js';

const h = new Harness();
let server: ServerProcess;
let moto: MotoServer;
let configFile: string;
let dataDir: string;
let gates: string;
let scripts: string;
let sns: { topic: string; queue: string };

before(async () => {
  moto = await startMoto();
  const r = await python(moto.url, `import boto3, json
sns = boto3.client('sns'); sqs = boto3.client('sqs')
topic = sns.create_topic(Name='deploy-results')['TopicArn']
q = sqs.create_queue(QueueName='deploy-results-q')['QueueUrl']
qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=['QueueArn'])['Attributes']['QueueArn']
sns.subscribe(TopicArn=topic, Protocol='sqs', Endpoint=qarn)
print(json.dumps({'topic': topic, 'queue': q}))`);
  assert.equal(r.code, 0, r.stderr);
  sns = JSON.parse(r.stdout.trim()) as { topic: string; queue: string };
  gates = h.dir('inferq-deploy-gates-');
  scripts = h.dir('inferq-deploy-scripts-');
  writeFileSync(join(scripts, 'serve.py'), WEIGHTS_SERVER);
  configFile = h.config({
    endpoints: [],
    topics: { results: { sns: { topicArn: sns.topic, endpoint: moto.url, region: 'us-east-1', accessKeyId: 'test', secretAccessKey: 'test' } } },
    notifications: { pollIntervalSeconds: 0.1 },
    images: {
      'test/fixture:1': { command: [...FIXTURE_COMMAND], cwd: ROOT, env: { FIXTURE_GATE_DIR: gates } },
      'test/boom:1': { command: ['sh', '-c', 'echo boom >&2; exit 3'] },
      'test/slow-boom:1': { command: ['sh', '-c', 'sleep 2; echo boom >&2; exit 3'] },
      'test/weights:1': { command: ['python3', join(scripts, 'serve.py')] },
    },
  });
  dataDir = h.dir('inferq-deploy-data-');
  server = await h.start(configFile, dataDir);
});

after(async () => {
  await h.cleanup();
  await moto.stop();
});

/** InvokeEndpointAsync on this file's server. */
function submit(endpoint: string, id: string, body: string, attributes = 'mode=echo'): Promise<SubmittedRequest> {
  return submitAsync(server.url, endpoint, id, body, attributes);
}

/** A real-time call of the fixture in mode=inspect: the HTTP status and the model's FIXTURE_TAG. */
async function inspect(endpoint: string): Promise<{ status: number; tag: string | undefined; body: string }> {
  const res = await signed(server.url, 'sagemaker', 'POST', `/endpoints/${endpoint}/invocations`, { 'content-type': 'application/json', 'x-amzn-sagemaker-custom-attributes': 'mode=inspect' }, Buffer.from('{}'));
  const body = res.body.toString('utf8');
  const tag = res.status === 200 ? (JSON.parse(body) as { env: { FIXTURE_TAG?: string } }).env.FIXTURE_TAG : undefined;
  return { status: res.status, tag, body };
}

void describe('an API-created endpoint runs', () => {
  void test('create → Creating → InService (waiter); InvokeEndpoint, InvokeEndpointAsync (S3OutputPath, SNS notification) and the response stream', async () => {
    const out = await controlScript(server.url, `
s3.create_bucket(Bucket='life-out'); s3.create_bucket(Bucket='life-in')
s3.put_object(Bucket='life-in', Key='in.json', Body=b'{"async": true}')
model('life-model', 'inferq/echo')
config('life-cfg', 'life-model', count=1, output='s3://life-out/results', concurrency=2, notification={'SuccessTopic': ${JSON.stringify(sns.topic)}, 'ErrorTopic': ${JSON.stringify(sns.topic)}, 'IncludeInferenceResponseIn': ['SUCCESS_NOTIFICATION_TOPIC']})
sm.create_endpoint(EndpointName='life', EndpointConfigName='life-cfg')
r = {'created': sm.describe_endpoint(EndpointName='life')['EndpointStatus'], 'wait': wait('life')}
d = sm.describe_endpoint(EndpointName='life')
r['status'] = [d['EndpointStatus'], d.get('FailureReason'), d['ProductionVariants'][0]['VariantName']]
i = rt.invoke_endpoint(EndpointName='life', Body=b'{"x": 1}', ContentType='application/json')
r['invoke'] = [i['Body'].read().decode(), i['ContentType'], i['InvokedProductionVariant']]
a = rt.invoke_endpoint_async(EndpointName='life', InputLocation='s3://life-in/in.json', ContentType='application/json', InferenceId='life-1')
r['async'] = [a['InferenceId'], a['OutputLocation'], a.get('FailureLocation')]
st = rt.invoke_endpoint_with_response_stream(EndpointName='life', Body=b'streamed body', ContentType='text/plain')
r['stream'] = b''.join(e['PayloadPart']['Bytes'] for e in st['Body'] if 'PayloadPart' in e).decode()
print(json.dumps(r))`);
    assert.equal(out['created'], 'Creating');
    assert.equal(out['wait'], null);
    assert.deepEqual(out['status'], ['InService', null, 'AllTraffic']);
    assert.deepEqual(out['invoke'], ['{"x": 1}', 'application/json', 'AllTraffic']);
    const [id, output, failure] = out['async'] as [string, string, string | null];
    assert.equal(id, 'life-1');
    assert.match(output, /^s3:\/\/life-out\/results\/out\//);
    assert.match(String(failure), /^s3:\/\/life-out\/results\/failed\//);
    assert.equal(out['stream'], 'streamed body');
    const done = await awaitTerminal(server.url, 'life', 'life-1', 60_000);
    assert.equal(done.Status, 'Succeeded', JSON.stringify(done));
    assert.equal(done.OutputLocation, output);
    assert.equal((await readObject(server.url, output))?.body.toString(), '{"async": true}');
    const got = await python(moto.url, `import boto3, json
sqs = boto3.client('sqs')
for _ in range(15):
    m = sqs.receive_message(QueueUrl=${JSON.stringify(sns.queue)}, MaxNumberOfMessages=10, WaitTimeSeconds=2).get('Messages', [])
    if m:
        print(json.dumps([json.loads(json.loads(x['Body'])['Message']) for x in m])); break
else:
    print('[]')`);
    assert.equal(got.code, 0, got.stderr);
    const messages = JSON.parse(got.stdout.trim()) as Record<string, unknown>[];
    assert.equal(messages.length, 1, got.stdout);
    assert.equal(messages[0]!['inferenceId'], 'life-1');
    assert.equal(messages[0]!['invocationStatus'], 'Completed');
    assert.deepEqual(messages[0]!['responseParameters'], { contentType: 'application/json', outputLocation: output });
    assert.ok(messages[0]!['responseBody'], 'IncludeInferenceResponseIn SUCCESS_NOTIFICATION_TOPIC carries the body');
  });

  void test('a model that exits before /ping: Failed with the exit status and the last log line; the waiter raises', async () => {
    const out = await controlScript(server.url, `
r = {'created': deploy('boom', 'test/boom:1'), 'wait': wait('boom')}
d = sm.describe_endpoint(EndpointName='boom')
r['status'] = d['EndpointStatus']; r['reason'] = d.get('FailureReason')
r['invoke'] = err(rt.invoke_endpoint, EndpointName='boom', Body=b'{}', ContentType='application/json')
sm.delete_endpoint(EndpointName='boom')
r['deleted'] = wait('boom', 'endpoint_deleted', 30)
print(json.dumps(r))`);
    assert.match(String(out['wait']), /Waiter EndpointInService failed: Waiter encountered a terminal failure state/);
    assert.equal(out['status'], 'Failed');
    assert.match(String(out['reason']), /exited with status 3/);
    assert.match(String(out['reason']), /boom/);
    assert.notEqual(out['invoke'], null, 'a Failed endpoint does not serve');
    assert.equal(out['deleted'], null, 'a Failed endpoint can be deleted');
  });
});

type Phase = 'before' | 'during' | 'after';

void describe('UpdateEndpoint', () => {
  void test('under continuous async and real-time load: Updating → InService, nothing lost, new requests use the new S3OutputPath', async () => {
    const setup = await controlScript(server.url, `
s3.create_bucket(Bucket='upd-out')
r = {'created': deploy('upd', 'test/fixture:1', env={'FIXTURE_TAG': 'a'}, output='s3://upd-out/a', concurrency=4)}
model('upd-b-model', 'test/fixture:1', {'FIXTURE_TAG': 'b'})
config('upd-b-cfg', 'upd-b-model', 1, 's3://upd-out/b', 4)
r['wait'] = wait('upd')
print(json.dumps(r))`);
    assert.deepEqual(setup, { created: 'Creating', wait: null });

    let phase: Phase = 'before';
    let stop = false;
    const asyncDone: { phase: Phase; id: string; body: string; output: string; failure: string }[] = [];
    const failures: unknown[] = [];
    const realtime: { phase: Phase; status: number; tag: string | undefined; body: string }[] = [];
    let n = 0;
    const asyncLane = async (): Promise<void> => {
      while (!stop) {
        const p = phase;
        const id = `upd-${n++}`;
        const sent = await submit('upd', id, `payload of ${id}`, 'mode=echo-after-150');
        const status = await awaitTerminal(server.url, 'upd', id, 90_000);
        assert.equal(status.Status, 'Succeeded', JSON.stringify(status));
        asyncDone.push({ phase: p, id, body: `payload of ${id}`, output: sent.output, failure: sent.failure });
      }
    };
    const realtimeLane = async (): Promise<void> => {
      while (!stop) {
        const p = phase;
        realtime.push({ phase: p, ...(await inspect('upd')) });
      }
    };
    const lanes = [...Array.from({ length: 6 }, asyncLane), realtimeLane(), realtimeLane()].map((lane) => lane.catch((err: unknown) => {
      stop = true;
      failures.push(err);
    }));
    const count = (p: Phase): number => {
      if (failures.length > 0) throw failures[0];
      return asyncDone.filter((d) => d.phase === p).length;
    };
    await pollUntil('async requests done before the update', () => (count('before') >= 6 ? true : undefined), 60_000, 50);
    phase = 'during';
    const update = await controlScript(server.url, `
sm.update_endpoint(EndpointName='upd', EndpointConfigName='upd-b-cfg')
r = {'status': sm.describe_endpoint(EndpointName='upd')['EndpointStatus'], 'wait': wait('upd')}
d = sm.describe_endpoint(EndpointName='upd')
r['after'] = [d['EndpointStatus'], d['EndpointConfigName'], d.get('FailureReason')]
print(json.dumps(r))`);
    phase = 'after';
    await pollUntil('async and real-time requests after InService', () => (count('after') >= 6 && realtime.filter((r) => r.phase === 'after').length >= 3 ? true : undefined), 60_000, 50);
    stop = true;
    await Promise.all(lanes);
    if (failures.length > 0) throw failures[0];

    assert.deepEqual(update, { status: 'Updating', wait: null, after: ['InService', 'upd-b-cfg', null] });
    process.stdout.write(`# async requests before/during/after the update: ${count('before')}/${count('during')}/${count('after')}; real-time calls: ${realtime.length}\n`);
    assert.ok(count('during') > 0, 'requests were submitted while the endpoint was Updating');
    for (const d of asyncDone) {
      const objects = await terminalObjects(server.url, { OutputLocation: d.output, FailureLocation: d.failure });
      assert.equal(objects.output?.body.toString(), d.body, `${d.id}: its output object`);
      assert.equal(objects.failure, undefined, `${d.id}: no failure object`);
      if (d.phase === 'before') assert.match(d.output, /^s3:\/\/upd-out\/a\/out\//, d.id);
      if (d.phase === 'after') assert.match(d.output, /^s3:\/\/upd-out\/b\/out\//, `${d.id} was submitted after InService`);
    }
    const failed = realtime.filter((r) => r.status !== 200);
    assert.deepEqual(failed, [], 'every real-time call during the update was answered');
    assert.deepEqual([...new Set(realtime.filter((r) => r.phase === 'before').map((r) => r.tag))], ['a']);
    assert.deepEqual([...new Set(realtime.filter((r) => r.phase === 'after').map((r) => r.tag))], ['b']);
  });

  void test('an update whose new model fails to start rolls back: InService on the old config, with a FailureReason', async () => {
    const out = await controlScript(server.url, `
model('upd-bad-model', 'test/boom:1')
config('upd-bad-cfg', 'upd-bad-model')
sm.update_endpoint(EndpointName='upd', EndpointConfigName='upd-bad-cfg')
r = {'status': sm.describe_endpoint(EndpointName='upd')['EndpointStatus'], 'wait': wait('upd')}
d = sm.describe_endpoint(EndpointName='upd')
r['after'] = [d['EndpointStatus'], d['EndpointConfigName'], d.get('FailureReason')]
i = rt.invoke_endpoint(EndpointName='upd', Body=b'{}', ContentType='application/json', CustomAttributes='mode=inspect')
r['tag'] = json.loads(i['Body'].read())['env']['FIXTURE_TAG']
sm.delete_endpoint(EndpointName='upd')
r['deleted'] = wait('upd', 'endpoint_deleted', 60)
print(json.dumps(r))`);
    assert.equal(out['status'], 'Updating');
    assert.equal(out['wait'], null);
    const [status, configName, reason] = out['after'] as [string, string, string | null];
    assert.deepEqual([status, configName], ['InService', 'upd-b-cfg']);
    assert.match(String(reason), /exited with status 3/);
    assert.match(String(reason), /boom/);
    assert.equal(out['tag'], 'b', 'the old model still serves');
    assert.equal(out['deleted'], null);
  });
  void test('while Updating, the old endpoint config and model are still in use: deleting them is refused (ResourceInUse)', async () => {
    const out = await controlScript(server.url, `
r = {'created': deploy('keep-old', 'test/fixture:1'), 'wait': wait('keep-old')}
model('keep-old-bad-model', 'test/slow-boom:1')
config('keep-old-bad-cfg', 'keep-old-bad-model')
sm.update_endpoint(EndpointName='keep-old', EndpointConfigName='keep-old-bad-cfg')
r['config'] = err(sm.delete_endpoint_config, EndpointConfigName='keep-old-cfg')
r['model'] = err(sm.delete_model, ModelName='keep-old-model')
r['rolledBack'] = wait('keep-old')
sm.delete_endpoint(EndpointName='keep-old')
r['deleted'] = wait('keep-old', 'endpoint_deleted', 60)
print(json.dumps(r))`);
    assert.deepEqual([out['wait'], out['rolledBack'], out['deleted']], [null, null, null]);
    assert.equal((out['config'] as unknown[] | null)?.[0], 'ResourceInUse', `DeleteEndpointConfig of the config being replaced: ${JSON.stringify(out['config'])}`);
    assert.equal((out['model'] as unknown[] | null)?.[0], 'ResourceInUse', `DeleteModel of the model being replaced: ${JSON.stringify(out['model'])}`);
  });
});

void describe('DeleteEndpoint', () => {
  void test('Deleting → gone (endpoint_deleted waiter); queued requests end Failed with a failure object saying the endpoint was deleted; the name can be created again', async () => {
    const setup = await controlScript(server.url, `
s3.create_bucket(Bucket='doomed-out')
r = {'created': deploy('doomed', 'test/fixture:1', output='s3://doomed-out/x', concurrency=1), 'wait': wait('doomed')}
print(json.dumps(r))`);
    assert.deepEqual(setup, { created: 'Creating', wait: null });
    const from = server.output().length;
    const held = await submit('doomed', 'doomed-0', 'held', 'mode=held-doomgate-1');
    await waitForOutput(server, /fixture held inference-id=doomed-0/, from, 60_000);
    const queued = [];
    for (let i = 1; i <= 3; i++) queued.push(await submit('doomed', `doomed-${i}`, `queued ${i}`));
    for (const q of queued) assert.equal((await getStatus(server.url, 'doomed', q.id)).Status, 'Queued', q.id);
    const deleting = await controlScript(server.url, `
sm.delete_endpoint(EndpointName='doomed')
print(json.dumps({'status': sm.describe_endpoint(EndpointName='doomed')['EndpointStatus']}))`);
    writeFileSync(join(gates, 'doomgate'), '');
    const gone = await controlScript(server.url, `print(json.dumps({'wait': wait('doomed', 'endpoint_deleted', 60), 'describe': err(sm.describe_endpoint, EndpointName='doomed')}))`);
    assert.equal(deleting['status'], 'Deleting');
    assert.deepEqual(gone, { wait: null, describe: ['ValidationException', 'Could not find endpoint "doomed".', 400] });
    for (const q of queued) {
      assert.match(q.failure, /^s3:\/\/doomed-out\/x\/failed\//);
      const failure = await pollUntil(`failure object of ${q.id}`, () => readObject(server.url, q.failure), 15_000);
      assert.match(failure.body.toString(), /Endpoint doomed was deleted before this request ran\./, q.id);
      assert.equal(await readObject(server.url, q.output), undefined, `${q.id} has no output`);
    }
    const first = await pollUntil('a terminal object of the running request', async () => {
      const o = await terminalObjects(server.url, { OutputLocation: held.output, FailureLocation: held.failure });
      return o.output !== undefined || o.failure !== undefined ? o : undefined;
    }, 15_000);
    assert.ok((first.output === undefined) !== (first.failure === undefined), 'the running request ended with exactly one object');
    const again = await controlScript(server.url, `
sm.create_endpoint(EndpointName='doomed', EndpointConfigName='doomed-cfg')
r = {'wait': wait('doomed'), 'invoke': rt.invoke_endpoint(EndpointName='doomed', Body=b'reborn', ContentType='text/plain')['Body'].read().decode()}
sm.delete_endpoint(EndpointName='doomed')
r['deleted'] = wait('doomed', 'endpoint_deleted', 60)
print(json.dumps(r))`);
    assert.deepEqual(again, { wait: null, invoke: 'reborn', deleted: null }, 'the name can be used again once the endpoint is gone');
  });
});

/** Every file below `dir` (absolute paths). */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => join(e.parentPath, e.name));
}

void describe('ModelDataUrl', () => {
  void test('a model.tar.gz from inferq\'s S3 is unpacked and the model process sees it as SM_MODEL_DIR', async () => {
    const tar = await makeArchive(scripts, 'weights', { 'weights.txt': 'w = 0.42\n', 'sub/notes.txt': 'nested' });
    const out = await controlScript(server.url, `
s3.create_bucket(Bucket='model-data')
s3.upload_file(${JSON.stringify(tar)}, 'model-data', 'weights/model.tar.gz')
r = {'created': deploy('weights', 'test/weights:1', data='s3://model-data/weights/model.tar.gz'), 'wait': wait('weights')}
r['answer'] = json.loads(rt.invoke_endpoint(EndpointName='weights', Body=b'{}', ContentType='application/json')['Body'].read())
sm.delete_endpoint(EndpointName='weights')
r['deleted'] = wait('weights', 'endpoint_deleted', 30)
print(json.dumps(r))`);
    assert.equal(out['wait'], null);
    const answer = out['answer'] as { dir: string; weights: string; files: string[] };
    assert.equal(answer.weights, 'w = 0.42\n');
    assert.deepEqual(answer.files, ['sub/notes.txt', 'weights.txt']);
    assert.ok(answer.dir.startsWith(`${dataDir}/`), `SM_MODEL_DIR ${answer.dir} is in the data dir`);
    assert.equal(out['deleted'], null);
  });

  void test('an archive with a ../escape.txt member, or with a symbolic link: Failed, the reason names the member, nothing is written', async () => {
    const startedMs = Date.now();
    const tar = await makeArchive(scripts, 'evil', { 'inside-evil.txt': 'fine', '../escape.txt': 'out' });
    /** Deploys a model whose ModelDataUrl is `file`; the waiter's error, the status and the FailureReason. */
    const deployArchive = (name: string, file: string): Promise<Record<string, unknown>> => controlScript(server.url, `
s3.upload_file(${JSON.stringify(file)}, 'model-data', '${name}/model.tar.gz')
r = {'created': deploy('${name}', 'test/weights:1', data='s3://model-data/${name}/model.tar.gz'), 'wait': wait('${name}')}
d = sm.describe_endpoint(EndpointName='${name}')
r['status'] = d['EndpointStatus']; r['reason'] = d.get('FailureReason')
print(json.dumps(r))`);
    const out = await deployArchive('evil', tar);
    assert.match(String(out['wait']), /terminal failure state/);
    assert.equal(out['status'], 'Failed');
    assert.match(String(out['reason']), /\.\.\/escape\.txt/);
    const link = await deployArchive('linked', await makeArchive(scripts, 'linked', { 'inside-linked.txt': 'fine' }, { 'weights.txt': '/etc/passwd' }));
    assert.equal(link['status'], 'Failed', JSON.stringify(link));
    assert.match(String(link['reason']), /weights\.txt/, 'the reason names the link member');
    const written = filesBelow(dataDir).filter((f) => /(escape|inside-evil|inside-linked)\.txt$/.test(f));
    assert.deepEqual(written, [], 'nothing of the refused archive is in the data dir');
    for (let d = dataDir; d !== dirname(d); d = dirname(d)) {
      const f = join(d, 'escape.txt');
      assert.ok(!existsSync(f) || statSync(f).mtimeMs < startedMs, `${f} was written`);
    }
  });
});

void describe('Application Auto Scaling', () => {
  void test('register_scalable_target (MinCapacity 0, MaxCapacity 2) sets the instance bounds; deregister restores InitialInstanceCount', async () => {
    const target = "ServiceNamespace='sagemaker', ResourceId='endpoint/scaled/variant/AllTraffic', ScalableDimension='sagemaker:variant:DesiredInstanceCount'";
    const out = await controlScript(server.url, `
r = {'created': deploy('scaled', 'inferq/echo'), 'wait': wait('scaled')}
aas.register_scalable_target(${target}, MinCapacity=0, MaxCapacity=2)
t = aas.describe_scalable_targets(ServiceNamespace='sagemaker', ResourceIds=['endpoint/scaled/variant/AllTraffic'])['ScalableTargets']
r['targets'] = [[x['ResourceId'], x['ScalableDimension'], x['MinCapacity'], x['MaxCapacity']] for x in t]
print(json.dumps(r))`);
    assert.equal(out['wait'], null);
    assert.deepEqual(out['targets'], [['endpoint/scaled/variant/AllTraffic', 'sagemaker:variant:DesiredInstanceCount', 0, 2]]);
    const bounds = async (min: number, max: number): Promise<true | undefined> => {
      const doc = await endpointStatusDoc(server.url, 'scaled');
      const i = doc?.['Instances'] as { Min: number; Max: number } | undefined;
      return i?.Min === min && i.Max === max ? true : undefined;
    };
    await pollUntil('Instances.Min 0 and Max 2 in the status document', () => bounds(0, 2), 30_000);
    const after = await controlScript(server.url, `
r = {'invoke': rt.invoke_endpoint(EndpointName='scaled', Body=b'still here', ContentType='text/plain')['Body'].read().decode()}
aas.deregister_scalable_target(${target})
r['targets'] = aas.describe_scalable_targets(ServiceNamespace='sagemaker')['ScalableTargets']
print(json.dumps(r))`);
    assert.deepEqual(after, { invoke: 'still here', targets: [] });
    await pollUntil('Instances.Min 1 and Max 1 after deregistering', () => bounds(1, 1), 30_000);
  });

  void test('DeleteEndpoint deregisters the endpoint\'s scalable targets and their policies, as Application Auto Scaling does', async () => {
    const target = "ServiceNamespace='sagemaker', ResourceId='endpoint/dropped/variant/AllTraffic', ScalableDimension='sagemaker:variant:DesiredInstanceCount'";
    const out = await controlScript(server.url, `
r = {'created': deploy('dropped', 'inferq/echo'), 'wait': wait('dropped')}
aas.register_scalable_target(${target}, MinCapacity=0, MaxCapacity=2)
aas.put_scaling_policy(PolicyName='backlog', PolicyType='TargetTrackingScaling', ${target}, TargetTrackingScalingPolicyConfiguration={'TargetValue': 5.0,
    'CustomizedMetricSpecification': {'MetricName': 'ApproximateBacklogSizePerInstance', 'Namespace': 'AWS/SageMaker', 'Dimensions': [{'Name': 'EndpointName', 'Value': 'dropped'}], 'Statistic': 'Average'}})
sm.delete_endpoint(EndpointName='dropped')
r['deleted'] = wait('dropped', 'endpoint_deleted', 30)
r['targets'] = aas.describe_scalable_targets(ServiceNamespace='sagemaker', ResourceIds=['endpoint/dropped/variant/AllTraffic'])['ScalableTargets']
r['policies'] = aas.describe_scaling_policies(ServiceNamespace='sagemaker', ResourceId='endpoint/dropped/variant/AllTraffic')['ScalingPolicies']
print(json.dumps(r))`);
    assert.deepEqual(out, { created: 'Creating', wait: null, deleted: null, targets: [], policies: [] });
  });
});

void describe('persistence', () => {
  void test('after a restart on the same data directory the API-created endpoint is InService and invokable without any call', async () => {
    const setup = await controlScript(server.url, `print(json.dumps({'created': deploy('kept', 'test/fixture:1', env={'FIXTURE_TAG': 'kept'}), 'wait': wait('kept')}))`);
    assert.deepEqual(setup, { created: 'Creating', wait: null });
    assert.equal(await server.stop(), 0);
    server = await h.start(configFile, dataDir);
    const out = await controlScript(server.url, `
r = {'tag': json.loads(rt.invoke_endpoint(EndpointName='kept', Body=b'{}', ContentType='application/json', CustomAttributes='mode=inspect')['Body'].read())['env']['FIXTURE_TAG']}
r['life'] = rt.invoke_endpoint(EndpointName='life', Body=b'again', ContentType='text/plain')['Body'].read().decode()
r['status'] = sm.describe_endpoint(EndpointName='kept')['EndpointStatus']
print(json.dumps(r))`);
    assert.deepEqual(out, { tag: 'kept', life: 'again', status: 'InService' }, 'the first call after the restart is served');
  });
});
