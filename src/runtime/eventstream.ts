/**
 * The AWS event-stream encoder (application/vnd.amazon.eventstream) for
 * InvokeEndpointWithResponseStream: prelude (total length, headers length, prelude CRC32),
 * headers, payload, message CRC32 — all big-endian, CRC32 IEEE (`zlib.crc32`). Only string headers
 * (type 7) are written: that is all the runtime sends.
 */
import { crc32 } from 'node:zlib';

/** Largest payload inferq puts in one PayloadPart frame; bigger model chunks are split. */
export const MAX_FRAME_PAYLOAD = 64 * 1024;

const PRELUDE = 12;
const TRAILER = 4;
const STRING_TYPE = 7;

/**
 * Encodes one event-stream message with string headers, in the order given.
 * @throws RangeError when a header name or value is too long for the format.
 */
export function encodeMessage(headers: readonly (readonly [string, string])[], payload: Uint8Array): Buffer {
  const encoded = headers.map(([name, value]) => {
    const n = Buffer.from(name, 'utf8');
    const v = Buffer.from(value, 'utf8');
    if (n.length > 255) throw new RangeError(`event-stream header name too long: ${name}`);
    if (v.length > 0xffff) throw new RangeError(`event-stream header value too long: ${name}`);
    const out = Buffer.alloc(1 + n.length + 1 + 2 + v.length);
    out.writeUInt8(n.length, 0);
    n.copy(out, 1);
    out.writeUInt8(STRING_TYPE, 1 + n.length);
    out.writeUInt16BE(v.length, 2 + n.length);
    v.copy(out, 4 + n.length);
    return out;
  });
  const headersLength = encoded.reduce((sum, h) => sum + h.length, 0);
  const total = PRELUDE + headersLength + payload.length + TRAILER;
  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headersLength, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  let offset = PRELUDE;
  for (const h of encoded) offset += h.copy(message, offset);
  offset += Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).copy(message, offset);
  message.writeUInt32BE(crc32(message.subarray(0, offset)), offset);
  return message;
}

/** A `PayloadPart` event carrying `bytes` (keep it ≤ {@link MAX_FRAME_PAYLOAD}). */
export function payloadPartFrame(bytes: Uint8Array): Buffer {
  return encodeMessage([[':event-type', 'PayloadPart'], [':content-type', 'application/octet-stream'], [':message-type', 'event']], bytes);
}

/** `PayloadPart` frames for one model chunk, split into pieces of at most {@link MAX_FRAME_PAYLOAD} bytes. */
export function payloadPartFrames(chunk: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let start = 0; start < chunk.length; start += MAX_FRAME_PAYLOAD) frames.push(payloadPartFrame(chunk.subarray(start, start + MAX_FRAME_PAYLOAD)));
  return frames;
}

/** Modeled in-stream exceptions of InvokeEndpointWithResponseStream. */
export type StreamException =
  | { readonly type: 'ModelStreamError'; readonly message: string; readonly errorCode: 'StreamBroken' | 'ModelInvocationTimeExceeded' }
  | { readonly type: 'InternalStreamFailure'; readonly message: string };

/** An exception frame (`:message-type` exception) that both SDKs raise as the modeled error. */
export function exceptionFrame(exception: StreamException): Buffer {
  const body = exception.type === 'ModelStreamError'
    ? { Message: exception.message, ErrorCode: exception.errorCode }
    : { Message: exception.message };
  return encodeMessage([[':exception-type', exception.type], [':content-type', 'application/json'], [':message-type', 'exception']], Buffer.from(JSON.stringify(body), 'utf8'));
}
