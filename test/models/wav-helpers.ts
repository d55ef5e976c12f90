/**
 * Test audio: a 16-bit PCM WAV encoder and the speech fixture (test/fixtures/speech-16k.wav,
 * "Hello world. This is a speech test." spoken by espeak-ng, 16 kHz mono, 2.33 s; made once with
 * `espeak-ng -w s.wav -s 160 "…"`, trimmed and resampled from 22050 Hz).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeWav } from '../../src/models/builtin/wav.js';
import { ROOT } from './helpers.js';

export const SPEECH_WAV = resolve(ROOT, 'test/fixtures/speech-16k.wav');

/** The fixture's samples (16 kHz mono, in [-1, 1]). */
export function speechSamples(): Float32Array {
  return decodeWav(readFileSync(SPEECH_WAV)).samples;
}

/** Encodes mono (or interleaved, with `channels`) samples in [-1, 1] as a 16-bit PCM WAV file. */
export function encodeWav(samples: Float32Array, sampleRate: number, channels = 1): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(v * 32768))), i * 2));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** `before` seconds of silence, the samples, `after` seconds of silence, at `sampleRate`. */
export function padded(samples: Float32Array, sampleRate: number, before: number, after: number): Float32Array {
  const out = new Float32Array(Math.round(before * sampleRate) + samples.length + Math.round(after * sampleRate));
  out.set(samples, Math.round(before * sampleRate));
  return out;
}
