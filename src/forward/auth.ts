/**
 * Authentication of the forwarding hop (API process → worker process): an HMAC-SHA256, keyed with
 * the shared forward secret, over the method, path, timestamp and endpoint of the call, sent in
 * `x-inferq-forward-auth` as `t=<epoch ms>,s=<hex>`. The worker accepts it within a timestamp
 * window and compares in constant time; it checks this before reading any of the body.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header carrying the hop's signature. */
export const FORWARD_AUTH_HEADER = 'x-inferq-forward-auth';

/** Largest accepted difference between the signing time and the worker's clock. */
export const FORWARD_AUTH_WINDOW_MS = 60_000;

function mac(key: string, method: string, path: string, timestamp: number, endpoint: string): Buffer {
  return createHmac('sha256', key).update(`inferq-forward-v1\n${method}\n${path}\n${timestamp}\n${endpoint}`).digest();
}

/** The header value authenticating `method path` for `endpoint` at `now` (epoch ms). */
export function signForward(key: string, method: string, path: string, endpoint: string, now: number): string {
  return `t=${now},s=${mac(key, method, path, now, endpoint).toString('hex')}`;
}

const HEADER_SHAPE = /^t=(\d{1,16}),s=([0-9a-f]{64})$/;

/**
 * Whether `header` authenticates `method path` for `endpoint`: well-formed, signed within
 * {@link FORWARD_AUTH_WINDOW_MS} of `now`, and the MAC matches (constant-time comparison).
 */
export function verifyForward(key: string, header: string | undefined, method: string, path: string, endpoint: string, now: number): boolean {
  const match = header === undefined ? null : HEADER_SHAPE.exec(header);
  if (match === null) return false;
  const timestamp = Number(match[1]);
  if (Math.abs(now - timestamp) > FORWARD_AUTH_WINDOW_MS) return false;
  const expected = mac(key, method, path, timestamp, endpoint);
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}
