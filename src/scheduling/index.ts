/** Scheduling: the per-endpoint slot scheduler shared by real-time calls and async jobs. */
export { SlotScheduler, SlotsSaturatedError } from './slots.js';
export type { SlotLease, SlotSchedulerOptions, SlotStats } from './slots.js';
