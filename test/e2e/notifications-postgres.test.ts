/**
 * Notifications shared by several worker processes on one PostgreSQL queue: a worker SIGKILLed
 * while its delivery is in flight (the request already terminal, the webhook not yet answered)
 * leaves the message in the outbox, and another worker process delivers it (same event id, signed).
 * The webhook timeout (60 s) is far longer than the test: the survivor takes the delivery because
 * it reaps the dead worker (heartbeat older than worker.leaseSeconds), which frees its deliveries.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Harness, awaitTerminal, invokeRaw } from '../helpers/async.js';
import { PG_URL, dropSchemas, uniqueSchema } from '../helpers/postgres.js';
import { Workers } from '../helpers/processes.js';
import { WebhookReceiver, awaitNotification, expectedSignature, startUrlModel } from '../helpers/webhook.js';

const SECRET = 'pg-secret';
const SCHEMA = uniqueSchema('t_notify');
const h = new Harness();
const workers = new Workers();
const receiver = new WebhookReceiver();
let model: Awaited<ReturnType<typeof startUrlModel>>;

before(async () => {
  await receiver.start();
  model = await startUrlModel();
});

after(async () => {
  await workers.cleanup();
  await h.cleanup();
  await receiver.close();
  await model.close();
  await dropSchemas([SCHEMA]);
});

test('a second worker process delivers the outbox of a SIGKILLed one', async () => {
  const config = h.config({
    queue: { backend: 'postgres', url: PG_URL, schema: SCHEMA },
    worker: { enabled: false, leaseSeconds: 3 },
    topics: { hooks: { webhook: { url: receiver.url, secret: SECRET, timeoutSeconds: 60 } } },
    notifications: { initialBackoffSeconds: 0.2, maxBackoffSeconds: 0.4, pollIntervalSeconds: 0.1 },
    endpoints: [{ name: 'm', model: { url: model.url, pingIntervalSeconds: 0.2 }, async: { notification: { successTopic: 'hooks' } } }],
  });
  const api = await h.start(config);
  const doomed = await workers.start(config, api.dataDir);
  receiver.answer = (_r, index) => (index === 0 ? 'hang' : 200);
  const res = await invokeRaw(api.url, 'm', { 'x-amzn-sagemaker-inference-id': 'pg-1' }, Buffer.from('shared'));
  assert.equal(res.status, 202);
  await receiver.waitFor((all) => all.length === 1, 'the first (unanswered) delivery');
  assert.equal((await awaitTerminal(api.url, 'm', 'pg-1')).Status, 'Succeeded');
  const survivor = await workers.start(config, api.dataDir);
  await doomed.kill();
  const [first, second] = await receiver.waitFor((all) => all.length >= 2, 'the delivery by the surviving worker');
  const note = await awaitNotification(api.url, 'm', 'pg-1', 'Delivered');
  assert.equal(note.Attempts, 1, 'only the surviving worker settled it');
  assert.equal(receiver.received.length, 2, 'delivered once more, not by both');
  assert.equal(first!.headers['x-inferq-event-id'], second!.headers['x-inferq-event-id']);
  assert.equal(first!.body, second!.body);
  const ts = String(second!.headers['x-inferq-timestamp']);
  assert.equal(second!.headers['x-inferq-signature'], expectedSignature(SECRET, ts, second!.body));
  assert.equal(JSON.parse(second!.body).inferenceId, 'pg-1');
  assert.ok(!survivor.proc.killed);
});
