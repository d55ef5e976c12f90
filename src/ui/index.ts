/** The dashboard at `/ui/`: page, assets, sign-in sessions and its JSON calls. */
export { createUiApi, ownsRequest } from './api.js';
export type { RequestControl, UiApi, UiDeps } from './api.js';
export { ActivityHistory, HISTORY_WINDOW_MS, SAMPLE_INTERVAL_MS } from './history.js';
export type { EndpointSeries } from './history.js';
export { CSRF_HEADER, SESSION_COOKIE, SESSION_TTL_MS, SessionStore } from './session.js';
export type { Session } from './session.js';
export { presignedPath } from './presign.js';
