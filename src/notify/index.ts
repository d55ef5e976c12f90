/** Notifications of finished async requests: the Notifier port, webhook and SNS targets, the message and the outbox drain. */
export { OutboxDrain, eventIdOf, retryDelayMs } from './drain.js';
export type { DrainDeps } from './drain.js';
export { MAX_RESPONSE_BODY_BYTES, RESPONSE_BODY_MESSAGE, notificationFor, notificationMessage, withResponseBody } from './message.js';
export type { FinishedOutcome } from './message.js';
export type { Delivery, Notifier } from './port.js';
export { snsNotifier } from './sns/index.js';
export type { SnsOptions } from './sns/index.js';
export { webhookNotifier, webhookSignature } from './webhook/index.js';
export type { WebhookOptions } from './webhook/index.js';
export { notifiersFor } from './targets.js';
