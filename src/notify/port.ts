/**
 * The Notifier port: one notification target (a webhook, an SNS topic) that takes a finished
 * request's message. The outbox drain (drain.ts) retries a delivery that rejects, so a target only
 * makes one attempt per call and rejects on anything short of a confirmed delivery.
 */

/** One delivery attempt of a message. */
export interface Delivery {
  /** The message JSON, byte for byte what the target sends. */
  readonly body: string;
  /** Stable across the attempts of one message (consumers dedupe on it). */
  readonly eventId: string;
  /** Aborted when the process stops. */
  readonly signal: AbortSignal;
}

/** A notification target. */
export interface Notifier {
  /** Resolves once the target confirmed the message; rejects (with the reason as message) otherwise. */
  deliver(delivery: Delivery): Promise<void>;
  /** Releases connections. */
  close(): void;
}
