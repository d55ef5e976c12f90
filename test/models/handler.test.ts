/**
 * `inferq model serve --handler FILE`, run as a real process: the ping lifecycle around load(),
 * every kind of result, errors with and without a status, bad modules, and SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDirs } from '../helpers/fs.js';
import { awaitOutput } from '../helpers/server.js';
import { ROOT } from './helpers.js';
import { spawnServe, startServe, waitForPing } from './serve-helpers.js';

const TS_HANDLER = resolve(ROOT, 'test/models/fixtures/handler.ts');
const TSX = ['--import', 'tsx'];

function invoke(url: string, mode: string, body: string | Uint8Array = 'payload', headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/invocations`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'text/plain', 'X-Amzn-SageMaker-Custom-Attributes': `mode=${mode}`, ...headers },
  });
}

const tempDir = tempDirs('inferq-handler-');

function tempModule(name: string, source: string): string {
  const dir = tempDir();
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

test('ping answers 503 while load() runs and 200 after; every result shape; SIGTERM exits 0', async () => {
  const gate = join(tempDir(), 'open');
  const server = await startServe(['--handler', TS_HANDLER], { HANDLER_LOAD_GATE: gate }, TSX);
  try {
    const before = await fetch(`${server.url}/ping`);
    assert.equal(before.status, 503);
    assert.equal((await invoke(server.url, 'bytes')).status, 503);
    writeFileSync(gate, '');
    await waitForPing(server.url, 200);

    const bytes = await invoke(server.url, 'bytes', 'abc');
    assert.equal(bytes.status, 200);
    assert.equal(bytes.headers.get('content-type'), 'application/octet-stream');
    assert.equal(await bytes.text(), 'got:abc');

    const text = await invoke(server.url, 'string', 'abcd');
    assert.equal(text.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await text.text(), '4 bytes');

    const json = await invoke(server.url, 'object', '{"a":1}', { Accept: 'application/json', 'X-Amzn-SageMaker-Inference-Id': 'inf-7' });
    assert.equal(json.headers.get('content-type'), 'application/json');
    assert.deepEqual(await json.json(), {
      text: '{"a":1}',
      ctx: { contentType: 'text/plain', accept: 'application/json', customAttributes: 'mode=object', inferenceId: 'inf-7' },
    });

    const explicit = await invoke(server.url, 'explicit');
    assert.equal(explicit.status, 201);
    assert.equal(explicit.headers.get('content-type'), 'text/html');
    assert.equal(explicit.headers.get('x-amzn-sagemaker-custom-attributes'), 'answer=42');
    assert.equal(await explicit.text(), '<b>hi</b>');

    const brand = await invoke(server.url, 'brand');
    assert.equal(brand.headers.get('content-type'), 'image/x-test');
    assert.deepEqual([...new Uint8Array(await brand.arrayBuffer())], [1, 2, 3]);
  } finally {
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  }
  assert.match(server.stderr(), /received SIGTERM; closing/);
});

test('errors: statusCode 400–599 is kept, other errors are 500, all as JSON {message}', async () => {
  const server = await startServe(['--handler', TS_HANDLER], {}, TSX);
  try {
    await waitForPing(server.url, 200);
    const bad = await invoke(server.url, 'throw400');
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('content-type'), 'application/json');
    assert.deepEqual(await bad.json(), { message: 'bad input: expected JSON' });

    const teapot = await invoke(server.url, 'teapot');
    assert.equal(teapot.status, 418);
    assert.deepEqual(await teapot.json(), { message: 'short and stout' });

    const boom = await invoke(server.url, 'throw');
    assert.equal(boom.status, 500);
    assert.deepEqual(await boom.json(), { message: 'boom' });

    const nothing = await invoke(server.url, 'undefined');
    assert.equal(nothing.status, 500);
    assert.match(((await nothing.json()) as { message: string }).message, /invoke returned undefined/);

    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    assert.match(server.stderr(), /500 failed: Error: boom\n\s+at /);
  } finally {
    await server.kill();
  }
});

test('a slow invocation does not hold up /ping or other invocations', async () => {
  const gate = join(tempDir(), 'open');
  const server = await startServe(['--handler', TS_HANDLER], { HANDLER_INVOKE_GATE: gate }, TSX);
  try {
    await waitForPing(server.url, 200);
    let slowDone = false;
    const slow = invoke(server.url, 'gated').then(async (res) => { slowDone = true; return res.text(); });
    // The handler is running the slow invocation (it says so), and cannot finish until the gate opens.
    await awaitOutput(server.child, () => server.stderr(), (err) => (err.includes('gated invocation started') ? true : undefined), 'the gated invocation to start');
    assert.equal((await fetch(`${server.url}/ping`)).status, 200);
    assert.equal(await (await invoke(server.url, 'string', 'xy')).text(), '2 bytes');
    assert.equal(slowDone, false, 'ping and a fast invocation answered while the slow one ran');
    writeFileSync(gate, '');
    assert.equal(await slow, 'gated');
  } finally {
    await server.kill();
  }
});

test('--max-body-bytes: larger bodies get 413', async () => {
  const server = await startServe(['--handler', TS_HANDLER, '--max-body-bytes', '1000'], {}, TSX);
  try {
    await waitForPing(server.url, 200);
    assert.equal((await invoke(server.url, 'string', new Uint8Array(1000))).status, 200);
    const big = await invoke(server.url, 'string', new Uint8Array(5000));
    assert.equal(big.status, 413);
    assert.match(((await big.json()) as { message: string }).message, /exceeds 1000 bytes/);
  } finally {
    await server.kill();
  }
});

test('a load() that fails: /ping answers 500 with the error, which is logged', async () => {
  const server = await startServe(['--handler', TS_HANDLER], { HANDLER_LOAD_FAIL: '1' }, TSX);
  try {
    const res = await waitForPing(server.url, 500);
    assert.deepEqual(await res.json(), { message: 'load() failed: weights missing' });
    assert.match(server.stderr(), /load\(\) failed; \/ping answers 500: Error: weights missing/);
  } finally {
    await server.kill();
  }
});

test('a plain .mjs handler without load() runs without tsx; --port wins over SAGEMAKER_BIND_TO_PORT', async () => {
  const file = tempModule('upper.mjs', 'export function invoke(body) { return body.toString().toUpperCase(); }\n');
  const server = await startServe(['--handler', file, '--port', '0'], { SAGEMAKER_BIND_TO_PORT: 'not-a-port' });
  try {
    await waitForPing(server.url, 200);
    assert.equal(await (await invoke(server.url, 'x', 'hello')).text(), 'HELLO');
  } finally {
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  }
});

for (const [what, name, source, message] of [
  ['no invoke export', 'no-invoke.mjs', 'export const load = () => {};\n', /handler .*no-invoke\.mjs: must export a function invoke\(body, ctx\); its invoke export is undefined/],
  ['a load that is not a function', 'bad-load.mjs', 'export const invoke = () => 1; export const load = 3;\n', /bad-load\.mjs: its load export must be a function/],
  ['a syntax error', 'broken.mjs', 'export function invoke( {\n', /broken\.mjs: import failed: /],
  ['a TypeScript file without tsx', 'typed.ts', 'export function invoke(body: Buffer): string { return "x"; }\n', /typed\.ts: import failed: .*need `node --import tsx`/],
] as const) {
  test(`a handler with ${what} fails at start with an error naming the file, exit code 1`, async () => {
    const file = tempModule(name, source);
    const run = spawnServe(['--handler', file]);
    run.listening.catch(() => undefined);
    assert.equal(await run.exited, 1);
    assert.match(run.stderr(), message);
  });
}

test('a missing handler file and a missing --handler are reported', async () => {
  const missing = spawnServe(['--handler', 'test/models/fixtures/nope.mjs']);
  missing.listening.catch(() => undefined);
  assert.equal(await missing.exited, 1);
  assert.match(missing.stderr(), /handler .*nope\.mjs: no such file/);

  const none = spawnServe([]);
  none.listening.catch(() => undefined);
  assert.equal(await none.exited, 2);
  assert.match(none.stderr(), /--handler.*required/);
});
