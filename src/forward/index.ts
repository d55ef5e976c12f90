/**
 * Real-time calls across processes: the authenticated forwarding hop between API-only processes
 * and worker processes (auth), the worker's listener (server) and route publication (publisher),
 * and the API side's route table (routes: which worker takes a call) and its forwarding
 * ModelClient (client), the remote worker seen as one more model client.
 */
export { FORWARD_AUTH_HEADER, FORWARD_AUTH_WINDOW_MS, signForward, verifyForward } from './auth.js';
export { createForwardClient, forwardPath } from './client.js';
export type { ForwardClientOptions } from './client.js';
export { startRoutePublisher } from './publisher.js';
export type { RoutePublisher, RoutePublisherOptions } from './publisher.js';
export { chooseRoute, RouteTable } from './routes.js';
export type { RouteChoice, RouteTableOptions } from './routes.js';
export { startForwardServer } from './server.js';
export type { ForwardServer, ForwardServerOptions } from './server.js';
