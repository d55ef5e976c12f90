/**
 * The event-stream encoder: the 107-byte PayloadPart example of the wire reference (§4.1) byte for
 * byte, frame splitting, exception frames, and a round trip through a minimal decoder that checks
 * both CRCs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { encodeMessage, exceptionFrame, MAX_FRAME_PAYLOAD, payloadPartFrame, payloadPartFrames } from '../../src/runtime/index.js';

const EXAMPLE = Buffer.concat([
  Buffer.from('0000006b0000005999777065', 'hex'),
  Buffer.from([0x0b]), Buffer.from(':event-type'), Buffer.from([0x07, 0x00, 0x0b]), Buffer.from('PayloadPart'),
  Buffer.from([0x0d]), Buffer.from(':content-type'), Buffer.from([0x07, 0x00, 0x18]), Buffer.from('application/octet-stream'),
  Buffer.from([0x0d]), Buffer.from(':message-type'), Buffer.from([0x07, 0x00, 0x05]), Buffer.from('event'),
  Buffer.from('hi'),
  Buffer.from('f0e10a16', 'hex'),
]);

interface Decoded { headers: Record<string, string>; payload: Buffer }

/** Decodes one message, checking lengths and CRCs. */
function decode(message: Buffer): Decoded {
  const total = message.readUInt32BE(0);
  const headersLength = message.readUInt32BE(4);
  assert.equal(total, message.length);
  assert.equal(message.readUInt32BE(8), crc32(message.subarray(0, 8)), 'prelude CRC');
  assert.equal(message.readUInt32BE(total - 4), crc32(message.subarray(0, total - 4)), 'message CRC');
  const headers: Record<string, string> = {};
  let at = 12;
  while (at < 12 + headersLength) {
    const nameLength = message.readUInt8(at);
    const name = message.subarray(at + 1, at + 1 + nameLength).toString('utf8');
    assert.equal(message.readUInt8(at + 1 + nameLength), 7, 'string header');
    const valueLength = message.readUInt16BE(at + 2 + nameLength);
    headers[name] = message.subarray(at + 4 + nameLength, at + 4 + nameLength + valueLength).toString('utf8');
    at += 4 + nameLength + valueLength;
  }
  return { headers, payload: message.subarray(12 + headersLength, total - 4) };
}

test('the PayloadPart frame for "hi" is the 107-byte example of the reference, byte for byte', () => {
  assert.equal(EXAMPLE.length, 107);
  const frame = payloadPartFrame(Buffer.from('hi'));
  assert.equal(frame.toString('hex'), EXAMPLE.toString('hex'));
});

test('frames decode back to their headers and payload; an empty payload is allowed', () => {
  const message = encodeMessage([[':message-type', 'event'], ['x', 'ü']], Buffer.alloc(0));
  assert.deepEqual(decode(message), { headers: { ':message-type': 'event', x: 'ü' }, payload: Buffer.alloc(0) });
});

test('a large chunk is split into PayloadPart frames of at most 64 KiB that reassemble to it', () => {
  const chunk = Buffer.alloc(MAX_FRAME_PAYLOAD * 2 + 100, 7);
  chunk.write('start', 0);
  const frames = payloadPartFrames(chunk);
  assert.deepEqual(frames.map((f) => decode(f).payload.length), [MAX_FRAME_PAYLOAD, MAX_FRAME_PAYLOAD, 100]);
  assert.ok(Buffer.concat(frames.map((f) => decode(f).payload)).equals(chunk));
  assert.deepEqual(payloadPartFrames(Buffer.alloc(0)), []);
});

test('exception frames carry the modeled exception type and a JSON body', () => {
  const stream = decode(exceptionFrame({ type: 'ModelStreamError', message: 'lost', errorCode: 'StreamBroken' }));
  assert.deepEqual(stream.headers, { ':exception-type': 'ModelStreamError', ':content-type': 'application/json', ':message-type': 'exception' });
  assert.deepEqual(JSON.parse(stream.payload.toString()), { Message: 'lost', ErrorCode: 'StreamBroken' });
  const internal = decode(exceptionFrame({ type: 'InternalStreamFailure', message: 'oops' }));
  assert.equal(internal.headers[':exception-type'], 'InternalStreamFailure');
  assert.deepEqual(JSON.parse(internal.payload.toString()), { Message: 'oops' });
});
