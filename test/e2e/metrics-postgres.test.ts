/**
 * `GET /metrics` on a PostgreSQL queue: the backlog gauges are read from the shared schema at
 * scrape time, so every `serve` process reports the global backlog of an endpoint, including the
 * requests another process accepted. Two API-only processes (`worker.enabled: false`, so the
 * requests stay queued) share one schema.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, invokeRaw } from '../helpers/async.js';
import { PG_URL, dropSchemas, uniqueSchema } from '../helpers/postgres.js';

const h = new Harness();
const SCHEMA = uniqueSchema('t_metrics');

after(async () => {
  await h.cleanup();
  await dropSchemas([SCHEMA]);
});

/** The value of the one sample `series{endpoint="…"}`, or undefined. */
function backlogSample(text: string, series: string, endpoint: string): number | undefined {
  const m = new RegExp(`^${series}\\{endpoint="${endpoint}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

test('each process reports the backlog the other accepted', async () => {
  const config = h.config({
    queue: { backend: 'postgres', url: PG_URL, schema: SCHEMA },
    worker: { enabled: false },
    endpoints: [{ name: 'echo', model: { builtin: 'echo' } }],
  });
  const one = await h.start(config);
  const two = await h.start(config);
  for (const [server, id] of [[one, 'a-1'], [one, 'a-2'], [two, 'b-1']] as const) {
    const res = await invokeRaw(server.url, 'echo', { 'x-amzn-sagemaker-inference-id': id }, Buffer.from(id));
    assert.equal(res.status, 202, res.body.toString());
  }
  for (const server of [one, two]) {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.equal(backlogSample(text, 'inferq_approximate_backlog_size', 'echo'), 3, server.url);
    assert.ok((backlogSample(text, 'inferq_approximate_age_of_oldest_request_seconds', 'echo') ?? 0) > 0);
  }
});
