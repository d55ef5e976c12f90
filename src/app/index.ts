/** Composition root. */
export { startInferq } from './compose.js';
export type { RunningInferq } from './compose.js';
