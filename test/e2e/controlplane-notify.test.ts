/**
 * NotificationConfig of an endpoint created through the SageMaker control plane, against
 * moto_server's SNS with an SQS queue subscribed to each topic: a SuccessTopic ARN that a
 * `topics:` entry names is published through that entry (its endpoint and keys), an ErrorTopic ARN
 * no entry names through the default SNS client configuration (AWS_ENDPOINT_URL_SNS and the
 * credential chain of inferq's environment). Both messages are SageMaker's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Harness, awaitTerminal } from '../helpers/async.js';
import { awaitNotification } from '../helpers/webhook.js';
import { python } from '../helpers/clients.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';

const h = new Harness();
let moto: MotoServer;

before(async () => {
  moto = await startMoto();
});
after(async () => {
  await h.cleanup();
  await moto.stop();
});

/** Runs a boto3 script against `url` and returns the JSON it printed last. */
async function script(url: string, code: string): Promise<Record<string, unknown>> {
  const r = await python(url, `import boto3, json, botocore.config\n_c = botocore.config.Config(retries={'max_attempts': 1, 'mode': 'standard'}, s3={'addressing_style': 'path'})\n${code}`);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

describe('NotificationConfig of an API-created endpoint (moto_server SNS → SQS)', () => {
  test('SuccessTopic through the matching topics: entry, ErrorTopic through the default SNS client', async () => {
    const setup = await script(moto.url, `sns = boto3.client('sns'); sqs = boto3.client('sqs')
out = {}
for name in ['ok', 'bad']:
    topic = sns.create_topic(Name='cp-' + name)['TopicArn']
    q = sqs.create_queue(QueueName='cp-' + name + '-q')['QueueUrl']
    qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=['QueueArn'])['Attributes']['QueueArn']
    sns.subscribe(TopicArn=topic, Protocol='sqs', Endpoint=qarn)
    out[name] = {'topic': topic, 'queue': q}
print(json.dumps(out))`) as Record<'ok' | 'bad', { topic: string; queue: string }>;
    const server = await h.startWith({
      config: h.config({
        endpoints: [],
        topics: { configured: { sns: { topicArn: setup.ok.topic, endpoint: moto.url, region: 'us-east-1', accessKeyId: 'test', secretAccessKey: 'test' } } },
        notifications: { pollIntervalSeconds: 0.1 },
      }),
      env: { AWS_ENDPOINT_URL_SNS: moto.url, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' },
    });
    const deployed = await script(server.url, `sm = boto3.client('sagemaker', config=_c); rt = boto3.client('sagemaker-runtime', config=_c); s3 = boto3.client('s3', config=_c)
sm.create_model(ModelName='n-model', PrimaryContainer={'Image': 'inferq/echo'})
sm.create_endpoint_config(EndpointConfigName='n-cfg', ProductionVariants=[{'VariantName': 'AllTraffic', 'ModelName': 'n-model', 'InitialInstanceCount': 1}],
    AsyncInferenceConfig={'OutputConfig': {'S3OutputPath': 's3://notify-out/ok', 'S3FailurePath': 's3://notify-out/failed',
        'NotificationConfig': {'SuccessTopic': ${JSON.stringify(setup.ok.topic)}, 'ErrorTopic': ${JSON.stringify(setup.bad.topic)}, 'IncludeInferenceResponseIn': ['SUCCESS_NOTIFICATION_TOPIC']}}})
sm.create_endpoint(EndpointName='n', EndpointConfigName='n-cfg')
sm.get_waiter('endpoint_in_service').wait(EndpointName='n', WaiterConfig={'Delay': 1, 'MaxAttempts': 60})
s3.create_bucket(Bucket='notify-in'); s3.put_object(Bucket='notify-in', Key='x.txt', Body=b'hello')
rt.invoke_endpoint_async(EndpointName='n', InputLocation='s3://notify-in/x.txt', InferenceId='n-ok', ContentType='text/plain')
rt.invoke_endpoint_async(EndpointName='n', InputLocation='s3://notify-in/missing.txt', InferenceId='n-bad')
print(json.dumps({}))`);
    assert.deepEqual(deployed, {});
    const ok = await awaitTerminal(server.url, 'n', 'n-ok');
    const bad = await awaitTerminal(server.url, 'n', 'n-bad');
    assert.deepEqual([ok.Status, bad.Status], ['Succeeded', 'Failed']);
    await awaitNotification(server.url, 'n', 'n-ok', 'Delivered');
    await awaitNotification(server.url, 'n', 'n-bad', 'Delivered');
    const got = await script(moto.url, `sqs = boto3.client('sqs')
res = {}
for name, q in [('ok', ${JSON.stringify(setup.ok.queue)}), ('bad', ${JSON.stringify(setup.bad.queue)})]:
    r = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10, WaitTimeSeconds=5)
    res[name] = [json.loads(json.loads(m['Body'])['Message']) for m in r.get('Messages', [])]
print(json.dumps(res))`) as Record<'ok' | 'bad', Record<string, unknown>[]>;
    assert.equal(got.ok.length, 1, 'one message on the success topic');
    assert.equal(got.bad.length, 1, 'one message on the error topic');
    const success = got.ok[0]!;
    assert.deepEqual([success['inferenceId'], success['invocationStatus'], (success['responseParameters'] as Record<string, unknown>)['outputLocation']], ['n-ok', 'Completed', ok.OutputLocation]);
    assert.equal((success['responseBody'] as Record<string, unknown>)['content'], Buffer.from('hello').toString('base64'), 'IncludeInferenceResponseIn SUCCESS_NOTIFICATION_TOPIC');
    const failure = got.bad[0]!;
    assert.deepEqual([failure['inferenceId'], failure['invocationStatus'], failure['failureReason']], ['n-bad', 'Failed', bad.FailureReason]);
    assert.equal(failure['responseBody'], undefined, 'the error topic is not listed in IncludeInferenceResponseIn');
  });
});
