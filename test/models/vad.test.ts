/**
 * The built-in `vad` model (Silero VAD on onnxruntime-node, a handler run by `inferq model serve`).
 * Runs only when the optional dependencies are installed (found in node_modules by the test
 * itself; `builtinModelAvailable('vad')` must agree).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtinModelAvailable, builtinModelCommand, createCommandModelClient, waitForHealthy } from '../../src/models/index.js';
import { resampleLinear } from '../../src/models/builtin/wav.js';
import { segmentsFrom } from '../../src/models/builtin/silero-vad.js';
import { ROOT, call, readAll, recordingLogger } from './helpers.js';
import { startServe, waitForPing } from './serve-helpers.js';
import { SPEECH_WAV, encodeWav, padded, speechSamples } from './wav-helpers.js';
import { vadDependencies } from '../helpers/optional-deps.js';
import { escapeRegExp } from '../helpers/server.js';

interface VadResult { sampleRate: number; durationSeconds: number; segments: { start: number; end: number }[]; speechRatio: number }

const deps = vadDependencies();
const skip = deps.installed ? false : `vad dependencies missing: ${deps.summary}`;

test('builtinModelCommand("vad") runs the vad handler through inferq model serve', () => {
  const command = builtinModelCommand('vad');
  assert.deepEqual(command.slice(0, 3), [process.execPath, '--import', 'tsx']);
  assert.match(command[3]!, /src\/cli\/main\.ts$/);
  assert.deepEqual(command.slice(4, 7), ['model', 'serve', '--handler']);
  assert.match(command[7]!, /src\/models\/builtin\/vad-handler\.ts$/);
  assert.deepEqual(builtinModelAvailable('echo'), { ok: true });
});

test('builtinModelAvailable("vad") agrees with what node_modules holds', () => {
  const available = builtinModelAvailable('vad');
  assert.equal(available.ok, deps.installed, `${deps.summary}, yet builtinModelAvailable says ${JSON.stringify(available)}`);
  if (!available.ok) assert.match(available.reason, new RegExp(deps.missing.map(escapeRegExp).join('|')));
});

test('segmentsFrom: hysteresis, minimum speech, padding and merging', () => {
  const probs = Float32Array.from([0, 0.9, 0.9, 0.4, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.6, 0, 0, 0, 0.8, 0.8, 0.8, 0.8]);
  const segments = segmentsFrom(probs, 0.1, 1.8, { threshold: 0.5, minSilence: 0.3, minSpeech: 0.25, pad: 0.05 });
  assert.deepEqual(segments, [{ start: 0.05, end: 0.65 }, { start: 1.35, end: 1.8 }]);
});

test('the vad model finds speech in speech only, and rejects input that is not a WAV file', { skip }, async () => {
  const logger = recordingLogger();
  const client = createCommandModelClient({ name: 'vad', command: builtinModelCommand('vad'), env: {}, baseEnv: process.env, cwd: ROOT, logger, pingIntervalMs: 200, stopGraceMs: 5000 });
  await client.start();
  try {
    assert.equal(await waitForHealthy(client, 30_000), true);
    const speech = speechSamples();
    const res = await client.invoke(call(encodeWav(padded(speech, 16_000, 1, 1), 16_000), { contentType: 'audio/wav' }));
    assert.equal(res.status, 200);
    assert.equal(res.contentType, 'application/json');
    const out = JSON.parse((await readAll(res.body)).toString()) as VadResult;
    assert.equal(out.sampleRate, 16_000);
    assert.ok(Math.abs(out.durationSeconds - (2 + speech.length / 16_000)) < 0.01);
    assert.ok(out.segments.length >= 1, JSON.stringify(out));
    const speechEnd = 1 + speech.length / 16_000;
    for (const s of out.segments) assert.ok(s.start >= 0.9 && s.end <= speechEnd + 0.15 && s.start < s.end, `segment ${JSON.stringify(s)} inside the speech`);
    assert.ok(out.speechRatio > 0.2 && out.speechRatio < 0.6, `speechRatio ${out.speechRatio}`);

    const silent = await client.invoke(call(encodeWav(new Float32Array(3 * 16_000), 16_000)));
    assert.deepEqual(JSON.parse((await readAll(silent.body)).toString()), { sampleRate: 16_000, durationSeconds: 3, segments: [], speechRatio: 0 });

    const notWav = await client.invoke(call('{"audio": "nope"}', { contentType: 'application/json' }));
    assert.equal(notWav.status, 400);
    assert.match((JSON.parse((await readAll(notWav.body)).toString()) as { message: string }).message, /not a supported WAV file: expected a RIFF\/WAVE header/);
  } finally {
    await client.stop();
  }
});

test('the compiled vad handler: 8 kHz, 48 kHz stereo and 24-bit input', { skip }, async () => {
  const server = await startServe(['--handler', 'dist/models/builtin/vad-handler.js']);
  try {
    await waitForPing(server.url, 200, 30_000);
    const speech = speechSamples();
    const post = async (body: Buffer): Promise<Response> => fetch(`${server.url}/invocations`, { method: 'POST', body, headers: { 'Content-Type': 'audio/wav' } });

    const at8k = await (await post(encodeWav(resampleLinear(padded(speech, 16_000, 0.5, 0.5), 16_000, 8000), 8000))).json() as VadResult;
    assert.ok(at8k.segments.length >= 1 && at8k.segments[0]!.start >= 0.4, JSON.stringify(at8k));

    const mono48 = resampleLinear(padded(speech, 16_000, 0.5, 0.5), 16_000, 48_000);
    const stereo = new Float32Array(mono48.length * 2);
    mono48.forEach((v, i) => { stereo[2 * i] = v; stereo[2 * i + 1] = v; });
    const at48 = await (await post(encodeWav(stereo, 48_000, 2))).json() as VadResult;
    assert.equal(at48.sampleRate, 16_000);
    assert.ok(at48.segments.length >= 1, JSON.stringify(at48));

    const wide = encodeWav(speech, 16_000);
    wide.writeUInt16LE(24, 34);
    const rejected = await post(wide);
    assert.equal(rejected.status, 400);
    assert.match(((await rejected.json()) as { message: string }).message, /24-bit samples; only 16-bit PCM/);

    const started = performance.now();
    const fixture = await post(readFileSync(SPEECH_WAV));
    assert.equal(fixture.status, 200);
    await fixture.arrayBuffer();
    assert.ok(performance.now() - started < 15_000, 'a 2.3 s recording is analysed in seconds (bound generous for 2 shared cores)');
  } finally {
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  }
});
