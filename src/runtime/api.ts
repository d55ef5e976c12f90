/**
 * The SageMaker Runtime API front (`POST /endpoints/{name}/…`). This first version knows no
 * endpoints yet: it routes and validates the endpoint name and answers as SageMaker does for an
 * endpoint that does not exist.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InferqError } from '../errors/index.js';

/** Operations of the runtime API. */
export type RuntimeOperation = 'InvokeEndpointAsync' | 'InvokeEndpoint' | 'InvokeEndpointWithResponseStream';

const OPERATIONS: Readonly<Record<string, RuntimeOperation>> = {
  'async-invocations': 'InvokeEndpointAsync',
  invocations: 'InvokeEndpoint',
  'invocations-response-stream': 'InvokeEndpointWithResponseStream',
};

const ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;

/** The account id inferq reports in ARNs and messages. */
export const ACCOUNT_ID = '000000000000';

/** A routed runtime request. */
export interface RuntimeRoute {
  readonly operation: RuntimeOperation;
  readonly endpointName: string;
}

/**
 * Routes a raw URL: split the path on `/` first, then percent-decode the name, then validate it.
 * @throws InferqError ValidationError-shaped codes for bad names, NotImplemented for unknown routes.
 */
export function routeRuntimeRequest(method: string, rawUrl: string): RuntimeRoute {
  const path = rawUrl.split('?', 1)[0] ?? '';
  const segments = path.split('/');
  const operation = segments.length === 4 && segments[1] === 'endpoints' ? OPERATIONS[segments[3] ?? ''] : undefined;
  if (method !== 'POST' || operation === undefined) throw new InferqError('NotImplemented', `No SageMaker Runtime operation at ${method} ${path}.`);
  let endpointName: string;
  try {
    endpointName = decodeURIComponent(segments[2] ?? '');
  } catch {
    throw new InferqError('InvalidArgument', 'EndpointName is not valid percent-encoding.');
  }
  if (endpointName.length < 1 || endpointName.length > 63 || !ENDPOINT_NAME.test(endpointName)) {
    throw new InferqError('InvalidArgument', `1 validation error detected: Value '${endpointName}' at 'endpointName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])* and have length 1 to 63`);
  }
  return { operation, endpointName };
}

/** The runtime API. */
export interface RuntimeApi {
  handle(req: IncomingMessage, res: ServerResponse, route: RuntimeRoute, body: Buffer): Promise<void>;
}

/** Creates the runtime API (no endpoints are served yet). */
export function createRuntimeApi(): RuntimeApi {
  return {
    handle(_req, _res, route) {
      return Promise.reject(new InferqError('InvalidArgument', `Endpoint ${route.endpointName} of account ${ACCOUNT_ID} not found.`));
    },
  };
}
