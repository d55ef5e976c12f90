/**
 * WAV decoding for the built-in models: RIFF/WAVE with 16-bit integer PCM (format 1, or
 * WAVE_FORMAT_EXTENSIBLE with a PCM sub-format), any channel count (averaged to mono), and linear
 * interpolation resampling. Malformed or unsupported input throws a {@link HandlerError} 400.
 */
import { HandlerError } from '../handler/index.js';

/** Decoded audio: mono samples in [-1, 1]. */
export interface Audio {
  readonly sampleRate: number;
  readonly samples: Float32Array;
}

const PCM = 1;
const EXTENSIBLE = 0xfffe;
/** Sample rates accepted, in Hz. */
export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 192_000;

function bad(message: string): HandlerError {
  return new HandlerError(400, `not a supported WAV file: ${message}`);
}

interface Format {
  readonly channels: number;
  readonly sampleRate: number;
  readonly bitsPerSample: number;
}

function parseFormat(wav: Buffer, offset: number, size: number): Format {
  if (size < 16) throw bad('fmt chunk is too short');
  let format = wav.readUInt16LE(offset);
  if (format === EXTENSIBLE && size >= 26) format = wav.readUInt16LE(offset + 24);
  const channels = wav.readUInt16LE(offset + 2);
  const sampleRate = wav.readUInt32LE(offset + 4);
  const bitsPerSample = wav.readUInt16LE(offset + 14);
  if (format !== PCM) throw bad(`audio format ${format} is not integer PCM; convert to 16-bit PCM (e.g. ffmpeg -i in -ac 1 -ar 16000 -sample_fmt s16 out.wav)`);
  if (bitsPerSample !== 16) throw bad(`${bitsPerSample}-bit samples; only 16-bit PCM is supported`);
  if (channels < 1) throw bad('zero channels');
  if (sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) throw bad(`sample rate ${sampleRate} Hz is outside ${MIN_SAMPLE_RATE}–${MAX_SAMPLE_RATE} Hz`);
  return { channels, sampleRate, bitsPerSample };
}

function toMono(wav: Buffer, offset: number, bytes: number, channels: number): Float32Array {
  const frames = Math.floor(bytes / (2 * channels));
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += wav.readInt16LE(offset + 2 * (i * channels + c));
    out[i] = sum / channels / 32768;
  }
  return out;
}

/**
 * Decodes a 16-bit PCM WAV file to mono samples. A `data` chunk whose declared size runs past the
 * end (as streaming writers leave it) is read up to the end of the buffer.
 */
export function decodeWav(wav: Buffer): Audio {
  if (wav.length < 12 || wav.toString('latin1', 0, 4) !== 'RIFF' || wav.toString('latin1', 8, 12) !== 'WAVE') {
    throw bad('expected a RIFF/WAVE header');
  }
  let format: Format | undefined;
  for (let offset = 12; offset + 8 <= wav.length;) {
    const id = wav.toString('latin1', offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    const start = offset + 8;
    if (id === 'fmt ') format = parseFormat(wav, start, Math.min(size, wav.length - start));
    if (id === 'data') {
      if (format === undefined) throw bad('data chunk before fmt chunk');
      const samples = toMono(wav, start, Math.min(size, wav.length - start), format.channels);
      return { sampleRate: format.sampleRate, samples };
    }
    offset = start + size + (size % 2);
  }
  throw bad(format === undefined ? 'no fmt chunk' : 'no data chunk');
}

/** Resamples by linear interpolation (no filtering; adequate for speech detection). */
export function resampleLinear(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate || samples.length === 0) return samples;
  const length = Math.max(1, Math.round(samples.length * toRate / fromRate));
  const out = new Float32Array(length);
  const step = fromRate / toRate;
  const last = samples.length - 1;
  for (let i = 0; i < length; i++) {
    const pos = i * step;
    const left = Math.min(Math.floor(pos), last);
    const right = Math.min(left + 1, last);
    const frac = pos - left;
    out[i] = (samples[left] ?? 0) * (1 - frac) + (samples[right] ?? 0) * frac;
  }
  return out;
}
