/** Composition root. */
export { startInferq, startWorkers } from './compose.js';
export type { RunningInferq } from './compose.js';
export type { NotificationHooks } from './notifications.js';
