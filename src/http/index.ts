/** The HTTP edge: one server for every API, error rendering per API family. */
export { createGatewayServer } from './server.js';
export type { GatewayServer } from './server.js';
export type { HttpServerDeps } from './dispatch.js';
export type { MetricsScrape } from './metrics-route.js';
