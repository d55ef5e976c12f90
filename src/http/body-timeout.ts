/**
 * The body watchdog: a request whose body stops arriving is given up after
 * `server.bodyTimeoutSeconds`, whoever reads it (SageMaker bodies buffered for authentication, S3
 * uploads streamed to the store, bodies drained after an early error). Node's own `requestTimeout`
 * bounds the whole request instead, which would cut off large uploads that are merely slow.
 */
import type { IncomingMessage } from 'node:http';

/** Whether the request announces a body (a positive Content-Length or a Transfer-Encoding). */
function announcesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * Calls `onStall` once when the body of `req` makes no progress for `timeoutMs`. Progress is bytes
 * arriving on the connection (`socket.bytesRead`, which needs no `data` listener and so does not
 * start the stream); time during which the server is not reading (the request's buffer is full)
 * does not count. The watch ends when the body has been read or the request closes; it is checked
 * a few times per timeout, so a stall is noticed within 1.25 × `timeoutMs`.
 */
export function watchBodyProgress(req: IncomingMessage, timeoutMs: number, onStall: () => void): void {
  if (!announcesBody(req) || req.complete) return;
  const { socket } = req;
  let lastRead = socket.bytesRead;
  let lastProgress = performance.now();
  const stop = (): void => {
    clearInterval(timer);
    req.off('end', stop);
    req.off('close', stop);
  };
  const timer = setInterval(() => {
    if (req.complete || socket.destroyed) {
      stop();
      return;
    }
    const now = performance.now();
    const read = socket.bytesRead;
    if (read !== lastRead || req.readableLength >= req.readableHighWaterMark) {
      lastRead = read;
      lastProgress = now;
    } else if (now - lastProgress >= timeoutMs) {
      stop();
      onStall();
    }
  }, Math.max(25, timeoutMs / 4));
  timer.unref();
  // Listeners on the request, not the socket: a kept-alive socket carries many requests.
  req.once('end', stop);
  req.once('close', stop);
}
