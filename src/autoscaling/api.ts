/**
 * The Application Auto Scaling front (awsJson1_1, signing service `application-autoscaling`):
 * `POST /` with `X-Amz-Target: AnyScaleFrontendService.<Op>`, a JSON body, answered with JSON.
 * Operations inferq does not serve are refused by the HTTP edge as foreign calls.
 */
import { parseJsonBody } from '../controlplane/index.js';
import { InferqError } from '../errors/index.js';
import { deletePolicy, describePolicies, putPolicy } from './policies.js';
import { deregisterTarget, describeTargets, registerTarget, type AutoscalingDeps } from './targets.js';
import {
  DeleteScalingPolicy, DescribeScalableTargets, DescribeScalingPolicies, PutScalingPolicy, RegisterScalableTarget, ScalableTargetRequest, parseScalingRequest,
} from './wire.js';

/** The Application Auto Scaling API the HTTP edge calls. */
export interface AutoscalingApi {
  /** Whether `target` (the X-Amz-Target header) is an operation inferq serves (others are refused as foreign calls). */
  serves(target: string): boolean;
  /** Runs the operation `target` names on the JSON `body`; resolves to the JSON answer. */
  handle(target: string, body: Buffer): Promise<Record<string, unknown>>;
}

type Operation = (body: unknown) => Promise<Record<string, unknown>>;

function operations(deps: AutoscalingDeps): Record<string, Operation> {
  return {
    RegisterScalableTarget: (b) => registerTarget(deps, parseScalingRequest(RegisterScalableTarget, b)),
    DescribeScalableTargets: (b) => describeTargets(deps, parseScalingRequest(DescribeScalableTargets, b)),
    DeregisterScalableTarget: (b) => deregisterTarget(deps, parseScalingRequest(ScalableTargetRequest, b)),
    PutScalingPolicy: (b) => putPolicy(deps, parseScalingRequest(PutScalingPolicy, b)),
    DescribeScalingPolicies: (b) => describePolicies(deps, parseScalingRequest(DescribeScalingPolicies, b)),
    DeleteScalingPolicy: (b) => deletePolicy(deps, parseScalingRequest(DeleteScalingPolicy, b)),
  };
}

const PREFIX = 'AnyScaleFrontendService.';

/** Creates the Application Auto Scaling API over the resource store. */
export function createAutoscalingApi(deps: AutoscalingDeps): AutoscalingApi {
  const ops = operations(deps);
  const opOf = (target: string): Operation | undefined => {
    const name = target.slice(PREFIX.length);
    return target.startsWith(PREFIX) && Object.hasOwn(ops, name) ? ops[name] : undefined;
  };
  return {
    serves: (target) => opOf(target) !== undefined,
    async handle(target, body) {
      const op = opOf(target);
      if (op === undefined) throw new InferqError('UnknownOperation', `inferq does not serve the Application Auto Scaling operation ${target.replace(/[^\x20-\x7e]/g, '?').slice(0, 100)}.`);
      return op(parseJsonBody(body, 'ScalingValidation'));
    },
  };
}
