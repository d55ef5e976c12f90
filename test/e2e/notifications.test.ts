/**
 * Notifications end to end (SQLite queue): a real webhook receiver that fails and then recovers
 * (retries with the same event id, every attempt signed), SageMaker's message with and without
 * `responseBody`, a delivery given up after `notifications.maxAgeSeconds` shown in the status, a
 * SIGKILL between the terminal state and the delivery (delivered after the restart), and an SNS
 * topic of moto_server subscribed to its SQS queue receiving the message unchanged. Lifecycle
 * (issue 13 item 4): a cancelled request, queued (the API records it), running (its worker does) or
 * left leased by an API that died mid-cancel (the worker claiming it does), tells the error topic once; a retried request tells only its final outcome, once.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { Harness, awaitTerminal, getStatus, invokeRaw, readObject, signed } from '../helpers/async.js';
import { python } from '../helpers/clients.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { waitForOutput } from '../helpers/server.js';
import { countingModel, modelCalls } from '../helpers/side-effects.js';
import { WebhookReceiver, awaitNotification, expectedSignature, startUrlModel, type Received } from '../helpers/webhook.js';

const SECRET = 'hook-secret';
const h = new Harness();
const receiver = new WebhookReceiver();
let model: Awaited<ReturnType<typeof startUrlModel>>;

before(async () => {
  await receiver.start();
  model = await startUrlModel();
});

after(async () => {
  await h.cleanup();
  await receiver.close();
  await model.close();
});

/** A config whose endpoint `m` notifies the receiver (body only on success), with fast retries. */
function hookConfig(notifications: Record<string, unknown> = {}, timeoutSeconds = 2): string {
  return h.config({
    topics: { hooks: { webhook: { url: receiver.url, secret: SECRET, timeoutSeconds } } },
    notifications: { initialBackoffSeconds: 0.2, maxBackoffSeconds: 0.4, maxAgeSeconds: 600, pollIntervalSeconds: 0.1, ...notifications },
    endpoints: [{
      name: 'm',
      model: { url: model.url, pingIntervalSeconds: 0.2 },
      async: { notification: { successTopic: 'hooks', errorTopic: 'hooks', includeInferenceResponseIn: ['SUCCESS_NOTIFICATION_TOPIC'] } },
    }],
  });
}

async function invoke(base: string, id: string, body: string): Promise<void> {
  const res = await invokeRaw(base, 'm', { 'x-amzn-sagemaker-inference-id': id, 'x-amzn-sagemaker-content-type': 'text/plain' }, Buffer.from(body));
  assert.equal(res.status, 202, res.body.toString('utf8'));
}

/** eventTime is the completion time: ISO-8601 with ms, within a second of the status's FinishedTime. */
function assertNear(eventTime: unknown, finished: string | undefined): void {
  assert.match(String(eventTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(Math.abs(Date.parse(String(eventTime)) - Date.parse(String(finished))) < 1_000, `${String(eventTime)} vs ${String(finished)}`);
}

function assertSigned(r: Received): void {
  const ts = String(r.headers['x-inferq-timestamp']);
  assert.match(ts, /^\d{10}$/);
  assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 60, 'timestamp is now');
  assert.equal(r.headers['x-inferq-signature'], expectedSignature(SECRET, ts, r.body));
  assert.equal(r.headers['content-type'], 'application/json');
}

void describe('webhook notifications', () => {
  test('retries a failing receiver until it answers 2xx: same event id, each attempt signed, SageMaker message with responseBody', async () => {
    const server = await h.start(hookConfig());
    receiver.answer = (r) => (JSON.parse(r.body).inferenceId === 'ok-1' && receiver.of('ok-1').length <= 2 ? 503 : 200);
    await invoke(server.url, 'ok-1', 'hello');
    const status = await awaitTerminal(server.url, 'm', 'ok-1');
    assert.equal(status.Status, 'Succeeded');
    await receiver.waitFor(() => receiver.of('ok-1').length >= 3, 'third delivery of ok-1');
    const note = await awaitNotification(server.url, 'm', 'ok-1', 'Delivered');
    assert.deepEqual(note, { Topic: 'hooks', State: 'Delivered', Attempts: 3 });
    const got = receiver.of('ok-1');
    assert.equal(got.length, 3, 'no delivery after the 2xx');
    assert.equal(new Set(got.map((r) => r.headers['x-inferq-event-id'])).size, 1, 'one event id across retries');
    assert.match(String(got[0]!.headers['x-inferq-event-id']), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    for (const r of got) assertSigned(r);
    assert.equal(new Set(got.map((r) => r.body)).size, 1, 'the same message every time');
    const message = JSON.parse(got[0]!.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(message).sort(), ['awsRegion', 'eventName', 'eventSource', 'eventTime', 'eventVersion', 'inferenceId', 'invocationStatus', 'receivedTime', 'requestParameters', 'responseBody', 'responseParameters'].sort());
    assert.equal(message.awsRegion, 'us-east-1');
    assert.equal(message.invocationStatus, 'Completed');
    assert.equal(message.inferenceId, 'ok-1');
    assert.equal(message.eventVersion, '1.0');
    assert.equal(message.eventSource, 'aws:sagemaker');
    assert.equal(message.eventName, 'InferenceResult');
    assert.equal(message.receivedTime, status.ReceivedTime);
    assertNear(message.eventTime, status.FinishedTime);
    assert.deepEqual(message.requestParameters, { endpointName: 'm', contentType: 'text/plain' });
    assert.deepEqual(message.responseParameters, { contentType: 'text/csv', outputLocation: status.OutputLocation });
    assert.deepEqual(message.responseBody, { content: Buffer.from('HELLO').toString('base64'), message: 'Check S3 path location(if configured) or Cloudwatch for additional details.', encoding: 'BASE64' });
    assert.equal((await readObject(server.url, status.OutputLocation))?.body.toString('utf8'), 'HELLO');
  });

  test('a failure is told to the error topic with failureReason and, not listed in includeInferenceResponseIn, no responseBody', async () => {
    const server = await h.start(hookConfig());
    receiver.answer = () => 200;
    await invoke(server.url, 'bad-1', 'fail');
    const status = await awaitTerminal(server.url, 'm', 'bad-1');
    assert.equal(status.Status, 'Failed');
    await awaitNotification(server.url, 'm', 'bad-1', 'Delivered');
    const [r] = receiver.of('bad-1');
    assert.ok(r);
    assertSigned(r);
    const message = JSON.parse(r.body) as Record<string, unknown>;
    assert.equal(message.invocationStatus, 'Failed');
    assert.equal(message.failureReason, status.FailureReason);
    assert.match(String(message.failureReason), /^ClientError: Received server error \(500\) from model/);
    assert.equal(message.responseBody, undefined);
    assert.equal(message.responseParameters, undefined);
    assert.deepEqual(message.requestParameters, { endpointName: 'm', contentType: 'text/plain' });
  });

  test('a delivery still failing after maxAgeSeconds is given up, kept and shown in the status with its last error', async () => {
    const server = await h.start(hookConfig({ maxAgeSeconds: 1 }));
    receiver.answer = (r) => (JSON.parse(r.body).inferenceId === 'lost-1' ? 500 : 200);
    await invoke(server.url, 'lost-1', 'x');
    const note = await awaitNotification(server.url, 'm', 'lost-1', 'Failed');
    assert.ok(note.Attempts >= 2, `retried before giving up (${note.Attempts})`);
    assert.equal(note.Attempts, receiver.of('lost-1').length);
    assert.match(String(note.LastError), /answered HTTP 500/);
    assert.match(server.output(), /notification given up/);
  });

  test('SIGKILL after the terminal state, before the delivery was confirmed: delivered after the restart, same event id', async () => {
    const config = hookConfig({}, 60); // the hung delivery never times out within the test
    const first = await h.start(config);
    receiver.answer = (r) => (JSON.parse(r.body).inferenceId === 'kill-1' && receiver.of('kill-1').length === 1 ? 'hang' : 200);
    await invoke(first.url, 'kill-1', 'survive');
    await receiver.waitFor(() => receiver.of('kill-1').length === 1, 'the first (unanswered) delivery');
    assert.equal((await awaitTerminal(first.url, 'm', 'kill-1')).Status, 'Succeeded');
    await h.kill(first);
    const second = await h.start(config, first.dataDir);
    await receiver.waitFor(() => receiver.of('kill-1').length === 2, 'the delivery after the restart');
    const note = await awaitNotification(second.url, 'm', 'kill-1', 'Delivered');
    assert.equal(note.Attempts, 1, 'the killed attempt was never settled');
    const [a, b] = receiver.of('kill-1');
    assert.equal(a!.headers['x-inferq-event-id'], b!.headers['x-inferq-event-id']);
    assert.equal(a!.body, b!.body);
    assertSigned(b!);
  });
});

void describe('notifications of cancelled and retried requests', () => {
  test('a cancelled request, queued or running, tells the error topic once (Failed, cancelled); a retried one only its final outcome, once', async () => {
    const calls = join(h.dir('inferq-notify-calls-'), 'calls.log');
    const server = await h.start(h.config({
      topics: { hooks: { webhook: { url: receiver.url, secret: SECRET } } },
      notifications: { initialBackoffSeconds: 0.2, maxBackoffSeconds: 0.4, pollIntervalSeconds: 0.1 },
      endpoints: [{
        name: 'c',
        model: countingModel(calls),
        async: {
          maxConcurrentInvocations: 1,
          retry: { maxAttempts: 3, backoffSeconds: 0.05, maxBackoffSeconds: 0.2 },
          notification: { successTopic: 'hooks', errorTopic: 'hooks' },
        },
      }],
    }));
    receiver.answer = () => 200;
    const submit = async (id: string, mode: string): Promise<void> => {
      const res = await invokeRaw(server.url, 'c', { 'x-amzn-sagemaker-inference-id': id, 'x-amzn-sagemaker-content-type': 'text/plain', 'x-amzn-sagemaker-custom-attributes': `mode=${mode}` }, Buffer.from(id));
      assert.equal(res.status, 202, res.body.toString('utf8'));
    };
    const cancel = async (id: string): Promise<Record<string, unknown>> => {
      const res = await signed(server.url, 'sagemaker', 'DELETE', `/endpoints/c/async-invocations/${id}`);
      assert.equal(res.status, 200, res.body.toString('utf8'));
      return JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
    };

    await submit('cx-running', 'hang');
    await waitForOutput(server, /counting model hanging inference-id=cx-running/);
    await submit('cx-queued', 'echo');
    assert.equal((await getStatus(server.url, 'c', 'cx-queued')).Status, 'Queued', 'the only slot is taken');
    assert.equal((await cancel('cx-queued')).Status, 'Cancelled', 'recorded by the API');
    assert.equal((await cancel('cx-running')).Status, 'Cancelled', 'recorded by the worker');
    for (const id of ['cx-queued', 'cx-running']) {
      assert.deepEqual(await awaitNotification(server.url, 'c', id, 'Delivered'), { Topic: 'hooks', State: 'Delivered', Attempts: 1 });
      const got = receiver.of(id);
      assert.equal(got.length, 1, `one notification of ${id}`);
      assertSigned(got[0]!);
      const message = JSON.parse(got[0]!.body) as Record<string, unknown>;
      assert.equal(message.invocationStatus, 'Failed');
      assert.equal(message.failureReason, (await getStatus(server.url, 'c', id)).FailureReason);
      assert.match(String(message.failureReason), /^Cancelled: the request was cancelled/);
      assert.equal(message.responseParameters, undefined);
    }
    assert.equal(modelCalls(calls).filter((line) => line === 'cx-queued').length, 0, 'the cancelled queued request never ran');

    await submit('rx-flaky', 'flaky-2-503');
    const ok = await awaitTerminal(server.url, 'c', 'rx-flaky');
    assert.equal(ok.Status, 'Succeeded');
    assert.equal(ok.Attempts, 3);
    await submit('rx-exhausted', 'flaky-9-503');
    const failed = await awaitTerminal(server.url, 'c', 'rx-exhausted');
    assert.equal(failed.Status, 'Failed');
    for (const [id, status] of [['rx-flaky', 'Completed'], ['rx-exhausted', 'Failed']] as const) {
      await awaitNotification(server.url, 'c', id, 'Delivered');
      assert.equal(modelCalls(calls).filter((line) => line === id).length, 3, `${id}: three model calls`);
      const got = receiver.of(id);
      assert.equal(got.length, 1, `${id}: one notification for three calls`);
      assert.equal((JSON.parse(got[0]!.body) as Record<string, unknown>).invocationStatus, status);
    }
  });

  test('a request whose cancel was leased by an API that then died is finished Cancelled by the worker claiming it, never run, told once', async () => {
    const calls = join(h.dir('inferq-notify-calls-'), 'calls.log');
    const config = (workers: boolean): string => h.config({
      worker: { enabled: workers },
      topics: { hooks: { webhook: { url: receiver.url, secret: SECRET } } },
      notifications: { initialBackoffSeconds: 0.2, maxBackoffSeconds: 0.4, pollIntervalSeconds: 0.1 },
      endpoints: [{ name: 'k', model: countingModel(calls), async: { notification: { successTopic: 'hooks', errorTopic: 'hooks' } } }],
    });
    receiver.answer = () => 200;
    const apiOnly = await h.start(config(false));
    const res = await invokeRaw(apiOnly.url, 'k', { 'x-amzn-sagemaker-inference-id': 'kx-lost', 'x-amzn-sagemaker-content-type': 'text/plain' }, Buffer.from('x'));
    assert.equal(res.status, 202, res.body.toString('utf8'));
    await h.kill(apiOnly);
    // What an API process leaves when it dies between leasing a queued request for its cancel (the
    // queue's cancel statement) and finishing it: running, cancel requested, its lease run out.
    const db = new Database(join(apiOnly.dataDir, 'queue/jobs.db'));
    const leased = db.prepare(`UPDATE jobs SET state = 'running', cancel_requested = 1, lease_owner = 'api:dead', lease_until = 1, lease_counted = 0,
      not_before = NULL WHERE endpoint = 'k' AND inference_id = 'kx-lost' AND state = 'queued'`).run();
    db.close();
    assert.equal(leased.changes, 1);
    const server = await h.start(config(true), apiOnly.dataDir);
    assert.deepEqual(await awaitNotification(server.url, 'k', 'kx-lost', 'Delivered'), { Topic: 'hooks', State: 'Delivered', Attempts: 1 });
    const status = await getStatus(server.url, 'k', 'kx-lost');
    assert.equal(status.Status, 'Cancelled');
    const got = receiver.of('kx-lost');
    assert.equal(got.length, 1);
    const message = JSON.parse(got[0]!.body) as Record<string, unknown>;
    assert.equal(message.invocationStatus, 'Failed');
    assert.equal(message.failureReason, status.FailureReason);
    assert.match(String(message.failureReason), /^Cancelled: /);
    assert.equal(modelCalls(calls).length, 0, 'the model was never called');
  });
});

void describe('SNS notifications (moto_server SNS → SQS)', () => {
  let moto: MotoServer;
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto.stop();
  });

  async function boto(code: string): Promise<Record<string, unknown>> {
    const r = await python(moto.url, `import boto3, json\nsns = boto3.client('sns')\nsqs = boto3.client('sqs')\n${code}`);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  }

  test('publishes the exact message as the SNS Message; the subscribed SQS queue receives it', async () => {
    const setup = await boto(`topic = sns.create_topic(Name='results')['TopicArn']
q = sqs.create_queue(QueueName='results-q')['QueueUrl']
qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=['QueueArn'])['Attributes']['QueueArn']
sns.subscribe(TopicArn=topic, Protocol='sqs', Endpoint=qarn)
print(json.dumps({'topic': topic, 'queue': q}))`);
    const server = await h.start(h.config({
      topics: { results: { sns: { topicArn: setup.topic, endpoint: moto.url, region: 'us-east-1', accessKeyId: 'test', secretAccessKey: 'test' } } },
      notifications: { pollIntervalSeconds: 0.1 },
      endpoints: [{
        name: 'm',
        model: { url: model.url, pingIntervalSeconds: 0.2 },
        async: { notification: { successTopic: 'results', errorTopic: 'results', includeInferenceResponseIn: ['ERROR_NOTIFICATION_TOPIC'] } },
      }],
    }));
    await invoke(server.url, 'sns-ok', 'abc');
    await invoke(server.url, 'sns-bad', 'fail');
    const ok = await awaitTerminal(server.url, 'm', 'sns-ok');
    const bad = await awaitTerminal(server.url, 'm', 'sns-bad');
    await awaitNotification(server.url, 'm', 'sns-ok', 'Delivered');
    await awaitNotification(server.url, 'm', 'sns-bad', 'Delivered');
    const got = await boto(`msgs = []
for _ in range(10):
    r = sqs.receive_message(QueueUrl=${JSON.stringify(setup.queue)}, MaxNumberOfMessages=10, WaitTimeSeconds=2)
    msgs += [json.loads(m['Body']) for m in r.get('Messages', [])]
    if len(msgs) >= 2: break
print(json.dumps({'messages': msgs}))`);
    const envelopes = got.messages as { Type: string; TopicArn: string; Message: string }[];
    assert.equal(envelopes.length, 2);
    for (const e of envelopes) {
      assert.equal(e.Type, 'Notification');
      assert.equal(e.TopicArn, setup.topic);
    }
    const byId = new Map(envelopes.map((e) => {
      const m = JSON.parse(e.Message) as Record<string, unknown>;
      return [m.inferenceId, m];
    }));
    const success = byId.get('sns-ok')!;
    assertNear(success.eventTime, ok.FinishedTime);
    assert.deepEqual(success, {
      awsRegion: 'us-east-1', eventTime: success.eventTime, receivedTime: ok.ReceivedTime, invocationStatus: 'Completed',
      requestParameters: { endpointName: 'm', contentType: 'text/plain' },
      responseParameters: { contentType: 'text/csv', outputLocation: ok.OutputLocation },
      inferenceId: 'sns-ok', eventVersion: '1.0', eventSource: 'aws:sagemaker', eventName: 'InferenceResult',
    }, 'no responseBody: the success topic is not listed');
    const failure = byId.get('sns-bad')!;
    assertNear(failure.eventTime, bad.FinishedTime);
    assert.deepEqual(failure, {
      awsRegion: 'us-east-1', eventTime: failure.eventTime, receivedTime: bad.ReceivedTime, invocationStatus: 'Failed',
      failureReason: bad.FailureReason, requestParameters: { endpointName: 'm', contentType: 'text/plain' },
      inferenceId: 'sns-bad', eventVersion: '1.0', eventSource: 'aws:sagemaker', eventName: 'InferenceResult',
      responseBody: { content: Buffer.from('{"error":"model says no"}').toString('base64'), message: 'Check S3 path location(if configured) or Cloudwatch for additional details.', encoding: 'BASE64' },
    });
  });
});
