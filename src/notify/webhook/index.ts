/**
 * The webhook target: POSTs the message as the body, signed so the receiver can check it came
 * from inferq: `X-Inferq-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>` with
 * `X-Inferq-Timestamp` (unix seconds) and `X-Inferq-Event-Id` (the same on every retry). Only a 2xx
 * answer within `timeoutMs` counts as delivered.
 */
import { createHmac } from 'node:crypto';
import type { Delivery, Notifier } from '../port.js';

/** Settings of {@link webhookNotifier}. */
export interface WebhookOptions {
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs: number;
  /** Unix seconds of the signature (the process clock by default). */
  readonly nowSeconds?: () => number;
}

/** The `X-Inferq-Signature` value of `body` signed at `timestamp` (unix seconds) with `secret`. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** A Notifier POSTing to `options.url`. */
export function webhookNotifier(options: WebhookOptions): Notifier {
  const nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  return {
    async deliver({ body, eventId, signal }: Delivery): Promise<void> {
      const timestamp = String(nowSeconds());
      const timeout = AbortSignal.timeout(options.timeoutMs);
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          body,
          redirect: 'manual',
          signal: AbortSignal.any([signal, timeout]),
          headers: {
            'Content-Type': 'application/json',
            'User-Agent': 'inferq-notifications',
            'X-Inferq-Event-Id': eventId,
            'X-Inferq-Timestamp': timestamp,
            'X-Inferq-Signature': webhookSignature(options.secret, timestamp, body),
          },
        });
      } catch (err) {
        if (timeout.aborted) throw new Error(`no answer from ${options.url} within ${options.timeoutMs / 1000} s`, { cause: err });
        const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
        throw new Error(`cannot reach ${options.url}${cause}`, { cause: err });
      }
      await response.body?.cancel().catch(() => undefined);
      if (response.status < 200 || response.status > 299) throw new Error(`${options.url} answered HTTP ${response.status}`);
    },
    close(): void {},
  };
}
