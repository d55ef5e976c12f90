/**
 * Durability of the batched async pipeline under load: the built-in echo endpoint at its defaults
 * (64 calls in flight, claims, object commits and finishes in batches) takes thousands of small
 * inline requests over kept-alive connections while it drains them, and the server is SIGKILLed
 * in the middle of it — with requests queued, running, writing their outputs and being recorded.
 * After a restart on the same data directory every acknowledged request ends Succeeded with
 * exactly one terminal object: its own bytes at the output location and nothing at the failure
 * location. A request whose answer the kill swallowed either never existed or ends the same way.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Harness, awaitTerminal, signed, terminalObjects, type AsyncStatus } from '../helpers/async.js';
import { RawClient, requestBytes } from '../helpers/raw-http.js';
import { awaitModelHealthy } from '../helpers/server.js';
import { signHeaders } from '../helpers/sigv4.js';

const h = new Harness();
after(() => h.cleanup());

const TOTAL = 4_000;
const CONNECTIONS = 32;
/** The kill comes when this many requests were acknowledged (the rest are on their way). */
const KILL_AT = 2_500;
/** How many requests go before the kill waits for the first one to finish (so some completed before it). */
const FIRST_WAVE = 400;

interface Sent {
  readonly id: string;
  readonly body: Buffer;
  output?: string;
  failure?: string;
}

/** An InvokeEndpointAsync request with an inline body, serialised for a raw kept-alive connection. */
async function invokeBytes(base: string, sent: Sent): Promise<Buffer> {
  const url = new URL('/endpoints/echo/async-invocations', base);
  const headers = await signHeaders({
    method: 'POST', url, service: 'sagemaker', body: sent.body,
    headers: { 'content-length': String(sent.body.length), 'x-amzn-sagemaker-inference-id': sent.id, 'x-amzn-sagemaker-content-type': 'application/json' },
  });
  return requestBytes('POST', url.pathname, headers, sent.body);
}

/** Runs `task` over `items` with `concurrency` at a time. */
async function eachLimited<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await task(items[next++]!);
  }));
}

/** Asserts the request succeeded with its own bytes at its acknowledged output location and no failure object. */
async function assertOneOutput(base: string, sent: Sent, status: AsyncStatus): Promise<void> {
  assert.equal(status.Status, 'Succeeded', `${sent.id}: ${status.Status} ${status.FailureReason ?? ''}`);
  if (sent.output !== undefined) assert.deepEqual([status.OutputLocation, status.FailureLocation], [sent.output, sent.failure], `${sent.id}: locations changed`);
  const { output, failure } = await terminalObjects(base, status);
  assert.ok(output, `${sent.id}: no output object`);
  assert.ok(output.body.equals(sent.body), `${sent.id}: output bytes differ`);
  assert.equal(failure, undefined, `${sent.id}: a failure object exists next to the output`);
}

test(`SIGKILL while ${TOTAL} inline requests stream in and drain: every acknowledged request ends with exactly one output object`, async () => {
  const config = h.config({ endpoints: [{ name: 'echo', model: { builtin: 'echo' } }] });
  const dataDir = h.dir();
  const first = await h.start(config, dataDir);
  await awaitModelHealthy(first, 'echo');

  const requests: Sent[] = Array.from({ length: TOTAL }, (_, i) => ({ id: `load-${i}`, body: Buffer.from(`{"n":${i},"r":"${randomBytes(3).toString('hex')}"}`) }));
  const bytes = await Promise.all(requests.map((r) => invokeBytes(first.url, r)));
  const acked: Sent[] = [];
  let next = 0;
  let killedAt = 0;
  let firstWaveDone: Promise<unknown> | undefined;
  const sender = async (client: RawClient): Promise<void> => {
    while (next < TOTAL && killedAt === 0) {
      const i = next++;
      if (i === FIRST_WAVE) firstWaveDone = awaitTerminal(first.url, 'echo', requests[0]!.id, 60_000);
      if (i >= FIRST_WAVE) await firstWaveDone;
      const outcome = await client.send({ bytes: bytes[i]!, head: false }).catch(() => undefined);
      if (outcome?.kind !== 'answer' || killedAt !== 0) return;
      assert.equal(outcome.answer.status, 202, outcome.answer.body.toString());
      const sent = requests[i]!;
      sent.output = String(outcome.answer.headers['x-amzn-sagemaker-outputlocation']);
      sent.failure = String(outcome.answer.headers['x-amzn-sagemaker-failurelocation']);
      acked.push(sent);
      if (acked.length === KILL_AT) {
        killedAt = Date.now();
        first.proc.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, () => sender(new RawClient('127.0.0.1', first.port))));
  assert.ok(killedAt > 0, `the server was killed after ${KILL_AT} acknowledgements (got ${acked.length})`);
  await h.kill(first);

  const second = await h.start(config, dataDir);
  const finals = new Map<string, AsyncStatus>();
  await eachLimited(acked, 16, async (sent) => {
    const status = await awaitTerminal(second.url, 'echo', sent.id, 120_000);
    finals.set(sent.id, status);
    await assertOneOutput(second.url, sent, status);
  });
  const statuses = [...finals.values()];
  // The kill came in the middle: some acknowledged requests had completed, others had not (they
  // were queued, running, writing or being recorded; the running ones ran again after the restart).
  const doneBefore = statuses.filter((s) => Date.parse(s.FinishedTime ?? '') < killedAt).length;
  assert.ok(doneBefore > 0, 'some requests had completed before the kill');
  assert.ok(doneBefore < acked.length, 'some acknowledged requests had not completed at the kill');

  // Requests sent but not acknowledged: the kill came before or during their answer.
  const unacked = requests.slice(0, next).filter((r) => !finals.has(r.id));
  await eachLimited(unacked, 16, async (sent) => {
    const res = await signed(second.url, 'sagemaker', 'GET', `/endpoints/echo/async-invocations/${sent.id}`);
    if (res.status === 400) return; // never stored
    await assertOneOutput(second.url, sent, await awaitTerminal(second.url, 'echo', sent.id, 120_000));
  });
});
