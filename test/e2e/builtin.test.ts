/**
 * The zero-config server: it lists the built-in `echo` and `vad` endpoints in `GET /endpoints`
 * (vad InService when its optional dependencies are installed, else OutOfService with the reason),
 * and the real `vad` model answers InvokeEndpoint (JS SDK) with the speech segments of the
 * committed WAV.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { Harness, signed } from '../helpers/async.js';
import { vadDependencies } from '../helpers/optional-deps.js';
import { ROOT, escapeRegExp, type ServerProcess } from '../helpers/server.js';

/** Whether this checkout has the vad model's optional dependencies, found by the test itself (not by asking the code under test). */
const vad = vadDependencies();
const h = new Harness();
let server: ServerProcess;
let sm: SageMakerRuntimeClient;

before(async () => {
  server = await h.start();
  sm = h.client(server.url);
});
after(() => h.cleanup());

interface StatusDoc {
  EndpointName: string;
  EndpointStatus: string;
  FailureReason?: string;
  Instances?: { Current: number; Min: number; Max: number };
}

test('a zero-config server lists echo and vad in GET /endpoints (vad off with its reason when its dependencies are missing)', async () => {
  const res = await signed(server.url, 'sagemaker', 'GET', '/endpoints');
  assert.equal(res.status, 200, res.body.toString());
  const { Endpoints } = JSON.parse(res.body.toString('utf8')) as { Endpoints: StatusDoc[] };
  assert.deepEqual(Endpoints.map((d) => d.EndpointName).sort(), ['echo', 'vad']);
  const echo = Endpoints.find((d) => d.EndpointName === 'echo')!;
  assert.equal(echo.EndpointStatus, 'InService');
  const doc = Endpoints.find((d) => d.EndpointName === 'vad')!;
  if (vad.installed) {
    assert.equal(doc.EndpointStatus, 'InService', `the dependencies are installed (${vad.summary}), yet: ${doc.FailureReason ?? ''}`);
    assert.equal(doc.FailureReason, undefined);
    assert.ok(doc.Instances, 'an endpoint in service reports its instances');
  } else {
    assert.equal(doc.EndpointStatus, 'OutOfService');
    assert.match(doc.FailureReason ?? '', new RegExp(vad.missing.map(escapeRegExp).join('|')), 'the reason names what is missing');
    assert.match(server.output(), /endpoint vad is off/);
  }
});

test('vad end to end: InvokeEndpoint (JS SDK) with the committed WAV returns its speech segments', { skip: vad.installed ? false : `vad dependencies missing: ${vad.summary}` }, async () => {
  const wav = readFileSync(join(ROOT, 'test/fixtures/speech-16k.wav'));
  const res = await sm.send(new InvokeEndpointCommand({ EndpointName: 'vad', Body: wav, ContentType: 'audio/wav' }));
  assert.equal(res.ContentType, 'application/json');
  const out = JSON.parse(Buffer.from(res.Body).toString('utf8')) as { sampleRate: number; durationSeconds: number; segments: { start: number; end: number }[]; speechRatio: number };
  assert.equal(out.sampleRate, 16_000);
  assert.ok(Math.abs(out.durationSeconds - 2.332) < 0.01, `duration ${out.durationSeconds}`);
  // "Hello world. This is a speech test.": two phrases with a pause (README: 0.034–0.862 s and 1.154–2.332 s).
  assert.equal(out.segments.length, 2, JSON.stringify(out));
  const [first, second] = out.segments as [{ start: number; end: number }, { start: number; end: number }];
  assert.ok(first.start < 0.2 && first.end > 0.7 && first.end < 1.0, `first phrase ${JSON.stringify(first)}`);
  assert.ok(second.start > first.end && second.start < 1.3 && second.end > 2.2, `second phrase ${JSON.stringify(second)}`);
  assert.ok(out.speechRatio > 0.7 && out.speechRatio <= 1, `speechRatio ${out.speechRatio}`);
});
