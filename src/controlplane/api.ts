/**
 * The SageMaker control-plane front (awsJson1_1): `POST /` with `X-Amz-Target: SageMaker.<Op>`,
 * a JSON body, answered with JSON (`{}` for Delete*). Operations inferq does not serve are
 * UnknownOperation, rendered by the HTTP edge like every control-plane error.
 */
import { InferqError } from '../errors/index.js';
import type { Clock } from '../util/index.js';
import { ControlPlane, type ControlPlaneDeps } from './service.js';
import { addTags, deleteTags, listTags, type TagDeps } from './tags.js';
import {
  AddTags, ByEndpointConfigName, ByEndpointName, ByModelName, CreateEndpoint, CreateEndpointConfig, CreateModel, DeleteTags, ListRequest, ListTags, UpdateEndpoint, parseJsonBody, parseRequest,
} from './wire.js';

/** The control-plane API the HTTP edge calls. */
export interface ControlPlaneApi {
  /** Whether `target` (the X-Amz-Target header) is a control-plane operation inferq serves (others are refused as foreign calls). */
  serves(target: string): boolean;
  /** Runs the operation `target` names on the JSON `body`; resolves to the JSON answer. */
  handle(target: string, body: Buffer): Promise<Record<string, unknown>>;
}

type Operation = (body: unknown) => Promise<Record<string, unknown>>;

function operations(cp: ControlPlane, tags: TagDeps): Record<string, Operation> {
  return {
    CreateModel: (b) => cp.createModel(parseRequest(CreateModel, b)),
    DescribeModel: (b) => cp.describeModel(parseRequest(ByModelName, b).ModelName),
    DeleteModel: (b) => cp.deleteModel(parseRequest(ByModelName, b).ModelName),
    ListModels: (b) => cp.listModels(parseRequest(ListRequest, b)),
    CreateEndpointConfig: (b) => cp.createEndpointConfig(parseRequest(CreateEndpointConfig, b)),
    DescribeEndpointConfig: (b) => cp.describeEndpointConfig(parseRequest(ByEndpointConfigName, b).EndpointConfigName),
    DeleteEndpointConfig: (b) => cp.deleteEndpointConfig(parseRequest(ByEndpointConfigName, b).EndpointConfigName),
    ListEndpointConfigs: (b) => cp.listEndpointConfigs(parseRequest(ListRequest, b)),
    CreateEndpoint: (b) => cp.createEndpoint(parseRequest(CreateEndpoint, b)),
    DescribeEndpoint: (b) => cp.describeEndpoint(parseRequest(ByEndpointName, b).EndpointName),
    UpdateEndpoint: (b) => cp.updateEndpoint(parseRequest(UpdateEndpoint, b)),
    DeleteEndpoint: (b) => cp.deleteEndpoint(parseRequest(ByEndpointName, b).EndpointName),
    ListEndpoints: (b) => cp.listEndpoints(parseRequest(ListRequest, b)),
    AddTags: (b) => addTags(tags, parseRequest(AddTags, b)),
    ListTags: (b) => listTags(tags, parseRequest(ListTags, b)),
    DeleteTags: (b) => deleteTags(tags, parseRequest(DeleteTags, b)),
  };
}

const PREFIX = 'SageMaker.';

/** Creates the control-plane API over the resource store. */
export function createControlPlaneApi(deps: ControlPlaneDeps & { readonly clock: Clock }): ControlPlaneApi {
  const cp = new ControlPlane(deps);
  const tags: TagDeps = {
    store: deps.store,
    clock: deps.clock,
    isConfigManaged: (key) => deps.configEndpoints().some((e) => e.name.toLowerCase() === key),
  };
  const ops = operations(cp, tags);
  return {
    serves: (target) => target.startsWith(PREFIX) && Object.hasOwn(ops, target.slice(PREFIX.length)),
    async handle(target, body) {
      const name = target.slice(PREFIX.length);
      const op = target.startsWith(PREFIX) && Object.hasOwn(ops, name) ? ops[name] : undefined;
      if (op === undefined) throw new InferqError('UnknownOperation', `inferq does not serve the SageMaker operation ${name.replace(/[^\x20-\x7e]/g, '?').slice(0, 100)}.`);
      return op(parseJsonBody(body));
    },
  };
}
