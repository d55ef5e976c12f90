/**
 * Rows of the route registry shared by both backends: a route's endpoints are stored as one JSON
 * text column and parsed back through a schema (a row written by another inferq version that does
 * not fit is read as serving nothing rather than trusted).
 */
import { z } from 'zod';
import type { RouteEndpoint, WorkerRoute } from './port.js';

const routeEndpointsSchema = z.array(z.object({
  name: z.string().min(1),
  capacity: z.number().int().min(0),
  inFlight: z.number().int().min(0),
}));

/** The endpoints of a stored route; [] when the text is not a valid list. */
export function parseRouteEndpoints(text: string): RouteEndpoint[] {
  try {
    const parsed = routeEndpointsSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/** A stored route row as the port's WorkerRoute. */
export function toRoute(row: { owner: string; url: string; endpoints: string; updated_at: number | string }): WorkerRoute {
  return { owner: row.owner, url: row.url, endpoints: parseRouteEndpoints(row.endpoints), updatedAt: Number(row.updated_at) };
}

/** The endpoints column of `route`. */
export function routeEndpointsText(route: WorkerRoute): string {
  return JSON.stringify(route.endpoints.map((e) => ({ name: e.name, capacity: e.capacity, inFlight: e.inFlight })));
}
