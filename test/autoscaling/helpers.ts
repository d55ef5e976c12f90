/**
 * Test helpers of the Application Auto Scaling tests: the API over a real SQLite ResourceStore in
 * a temp dir, a clock the test moves, calls by operation name and the error a call rejects with.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAutoscalingApi, type AutoscalingApi } from '../../src/autoscaling/index.js';
import { isInferqError } from '../../src/errors/index.js';
import { openSqliteResourceStore, type ResourceStore } from '../../src/queue/index.js';

/** The API, its store and clock, and `close` (store closed, temp dir removed). */
export interface Fixture {
  readonly api: AutoscalingApi;
  readonly store: ResourceStore;
  /** Epoch ms the API sees; move it to tell writes apart. */
  now: number;
  call(operation: string, body: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export const SCOPE = { region: 'us-east-1', account: '000000000000' } as const;
export const DIMENSION = 'sagemaker:variant:DesiredInstanceCount';

/** Opens a fixture on a fresh job database. */
export function openFixture(): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'inferq-autoscaling-'));
  const store = openSqliteResourceStore(join(dir, 'queue.db'));
  const fixture: Fixture = {
    store,
    now: 1_700_000_000_000,
    api: createAutoscalingApi({ store, clock: { now: () => fixture.now }, scope: SCOPE }),
    call: (operation, body) => fixture.api.handle(`AnyScaleFrontendService.${operation}`, Buffer.from(JSON.stringify(body))),
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** The members naming the scalable target of `resourceId`. */
export function target(resourceId: string): Record<string, unknown> {
  return { ServiceNamespace: 'sagemaker', ResourceId: resourceId, ScalableDimension: DIMENSION };
}

/** The [wire `__type`, message] of the InferqError `promise` rejects with. */
export async function failure(promise: Promise<unknown>): Promise<[string, string]> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isInferqError(err), `expected an InferqError, got ${String(err)}`);
    return [err.spec.sagemaker, err.message];
  }
  assert.fail('the call succeeded');
}

/** A target-tracking configuration on ApproximateBacklogSizePerInstance, as SageMaker's scale-to-zero guide writes it. */
export function backlogPolicy(endpoint: string, targetValue: number): Record<string, unknown> {
  return {
    TargetValue: targetValue,
    CustomizedMetricSpecification: {
      MetricName: 'ApproximateBacklogSizePerInstance', Namespace: 'AWS/SageMaker', Dimensions: [{ Name: 'EndpointName', Value: endpoint }], Statistic: 'Average',
    },
    ScaleInCooldown: 600,
    ScaleOutCooldown: 300,
  };
}
