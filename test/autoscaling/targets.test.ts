/**
 * Scalable targets over a real SQLite ResourceStore: RegisterScalableTarget creates and updates
 * (omitted capacities keep their values, the ARN and creation time stay), the endpoint part of a
 * ResourceId is case-insensitive, DescribeScalableTargets filters and pages, DeregisterScalableTarget
 * answers ObjectNotFoundException when nothing is registered, and every refusal is a
 * ValidationException with a message saying what to send.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { DIMENSION, failure, openFixture, target, type Fixture } from './helpers.js';

let f: Fixture;
beforeEach(() => { f = openFixture(); });
afterEach(() => f.close());

const EP = 'endpoint/My-Endpoint/variant/AllTraffic';

async function describeAll(extra: Record<string, unknown> = {}): Promise<Record<string, unknown>[]> {
  return (await f.call('DescribeScalableTargets', { ServiceNamespace: 'sagemaker', ...extra }))['ScalableTargets'] as Record<string, unknown>[];
}

describe('RegisterScalableTarget', () => {
  test('creates a target with MinCapacity 0 and describes it as AWS does', async () => {
    const { ScalableTargetARN } = await f.call('RegisterScalableTarget', { ...target(EP), MinCapacity: 0, MaxCapacity: 4 });
    assert.match(String(ScalableTargetARN), /^arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target\/[0-9a-f]{36}$/);
    assert.deepEqual(await describeAll(), [{
      ServiceNamespace: 'sagemaker', ResourceId: EP, ScalableDimension: DIMENSION, MinCapacity: 0, MaxCapacity: 4,
      RoleARN: 'arn:aws:iam::000000000000:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint',
      CreationTime: 1_700_000_000, SuspendedState: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
      ScalableTargetARN,
    }]);
  });

  test('an update keeps what it omits, the ARN, the creation time and the first spelling of the ResourceId', async () => {
    const first = await f.call('RegisterScalableTarget', { ...target(EP), MinCapacity: 1, MaxCapacity: 4, RoleARN: 'arn:aws:iam::000000000000:role/mine', SuspendedState: { DynamicScalingInSuspended: true } });
    f.now += 60_000;
    const second = await f.call('RegisterScalableTarget', { ...target('endpoint/my-endpoint/variant/AllTraffic'), MaxCapacity: 8 });
    assert.equal(second['ScalableTargetARN'], first['ScalableTargetARN']);
    f.now += 60_000;
    await f.call('RegisterScalableTarget', { ...target(EP), MinCapacity: 0, SuspendedState: { ScheduledScalingSuspended: true } });
    const [only, ...rest] = await describeAll();
    assert.deepEqual(rest, []);
    assert.deepEqual(
      { id: only!['ResourceId'], min: only!['MinCapacity'], max: only!['MaxCapacity'], role: only!['RoleARN'], created: only!['CreationTime'], suspended: only!['SuspendedState'] },
      { id: EP, min: 0, max: 8, role: 'arn:aws:iam::000000000000:role/mine', created: 1_700_000_000, suspended: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: true } },
    );
  });

  test('refuses other namespaces, dimensions and resource ids with a clear ValidationException', async () => {
    const resourceId = (id: string): Promise<[string, string]> => failure(f.call('RegisterScalableTarget', { ...target(id), MinCapacity: 0, MaxCapacity: 1 }));
    for (const bad of ['service/default/web', 'endpoint/ep', 'endpoint/ep/variant/', 'endpoint/ep/variant/a/b', 'endpoint/bad_name/variant/AllTraffic', 'endpoint//variant/x', `endpoint/${'a'.repeat(64)}/variant/x`]) {
      const [type, message] = await resourceId(bad);
      assert.equal(type, 'ValidationException', bad);
      assert.match(message, /must be endpoint\/<endpoint name>\/variant\/<variant name>/, bad);
    }
    assert.deepEqual(await failure(f.call('RegisterScalableTarget', { ...target(EP), ServiceNamespace: 'ecs', MinCapacity: 0, MaxCapacity: 1 })),
      ['ValidationException', 'ServiceNamespace "ecs" is not served: inferq scales only SageMaker endpoint variants (ServiceNamespace sagemaker).']);
    assert.deepEqual(await failure(f.call('RegisterScalableTarget', { ...target(EP), ScalableDimension: 'sagemaker:variant:DesiredProvisionedConcurrency', MinCapacity: 0, MaxCapacity: 1 })),
      ['ValidationException', 'ScalableDimension "sagemaker:variant:DesiredProvisionedConcurrency" is not served: inferq scales only the instance count of a variant (ScalableDimension sagemaker:variant:DesiredInstanceCount).']);
    const [type, message] = await failure(f.call('RegisterScalableTarget', { ServiceNamespace: 'sagemaker', ScalableDimension: DIMENSION }));
    assert.equal(type, 'ValidationException');
    assert.match(message, /^1 validation error detected: Value at 'resourceId' failed to satisfy constraint/);
    assert.deepEqual(await failure(f.api.handle('AnyScaleFrontendService.DescribeScalableTargets', Buffer.from('{nope'))), ['ValidationException', 'The request body is not valid JSON.']);
    assert.deepEqual(await describeAll(), []);
  });

  test('checks capacities: 0..64 and 1..64, Min ≤ Max (also against the stored values), both needed to create', async () => {
    const register = (body: Record<string, unknown>): Promise<[string, string]> => failure(f.call('RegisterScalableTarget', { ...target(EP), ...body }));
    assert.deepEqual(await register({ MinCapacity: 3, MaxCapacity: 2 }), ['ValidationException', 'Minimum capacity cannot be greater than maximum capacity (MinCapacity 3, MaxCapacity 2).']);
    assert.deepEqual(await register({ MinCapacity: -1, MaxCapacity: 2 }), ['ValidationException', 'MinCapacity -1 is out of range: inferq takes 0 to 64 instances (0 scales the variant to zero).']);
    assert.deepEqual(await register({ MinCapacity: 65, MaxCapacity: 64 }), ['ValidationException', 'MinCapacity 65 is out of range: inferq takes 0 to 64 instances (0 scales the variant to zero).']);
    assert.deepEqual(await register({ MinCapacity: 0, MaxCapacity: 0 }), ['ValidationException', 'MaxCapacity 0 is out of range: inferq takes 1 to 64 instances.']);
    assert.deepEqual(await register({ MinCapacity: 0, MaxCapacity: 65 }), ['ValidationException', 'MaxCapacity 65 is out of range: inferq takes 1 to 64 instances.']);
    assert.deepEqual(await register({ MaxCapacity: 2 }), ['ValidationException', `MinCapacity and MaxCapacity are required to register a new scalable target (${EP} is not registered).`]);
    assert.equal((await register({ MinCapacity: 1.5, MaxCapacity: 2 }))[0], 'ValidationException');
    await f.call('RegisterScalableTarget', { ...target(EP), MinCapacity: 0, MaxCapacity: 64 });
    await f.call('RegisterScalableTarget', { ...target(EP), MaxCapacity: 2 });
    assert.deepEqual(await register({ MinCapacity: 3 }), ['ValidationException', 'Minimum capacity cannot be greater than maximum capacity (MinCapacity 3, MaxCapacity 2).']);
    assert.deepEqual((await describeAll()).map((t) => [t['MinCapacity'], t['MaxCapacity']]), [[0, 2]]);
  });
});

describe('DescribeScalableTargets', () => {
  test('filters by ResourceIds (endpoint names case-insensitive) and pages with MaxResults and NextToken', async () => {
    for (const name of ['e1', 'e2', 'e3', 'e4', 'e5']) await f.call('RegisterScalableTarget', { ...target(`endpoint/${name}/variant/v`), MinCapacity: 0, MaxCapacity: 2 });
    const ids = (targets: Record<string, unknown>[]): unknown[] => targets.map((t) => t['ResourceId']);
    assert.deepEqual(ids(await describeAll({ ResourceIds: ['endpoint/E2/variant/v', 'endpoint/e4/variant/v', 'endpoint/e4/variant/V', 'not/a/variant'] })), ['endpoint/e2/variant/v', 'endpoint/e4/variant/v']);
    assert.deepEqual(ids(await describeAll({ ScalableDimension: DIMENSION, ResourceIds: [] })).length, 5);
    const pages: unknown[][] = [];
    let token: string | undefined;
    do {
      const page = await f.call('DescribeScalableTargets', { ServiceNamespace: 'sagemaker', MaxResults: 2, ...(token === undefined ? {} : { NextToken: token }) });
      pages.push(ids(page['ScalableTargets'] as Record<string, unknown>[]));
      token = page['NextToken'] as string | undefined;
    } while (token !== undefined);
    assert.deepEqual(pages, [['endpoint/e1/variant/v', 'endpoint/e2/variant/v'], ['endpoint/e3/variant/v', 'endpoint/e4/variant/v'], ['endpoint/e5/variant/v']]);
  });

  test('refuses a bad NextToken, MaxResults beyond 50, another namespace or dimension, and needs ServiceNamespace', async () => {
    assert.deepEqual(await failure(f.call('DescribeScalableTargets', { ServiceNamespace: 'sagemaker', NextToken: 'garbage' })),
      ['InvalidNextTokenException', 'The NextToken is not valid: pass the NextToken of the previous answer unchanged.']);
    assert.equal((await failure(f.call('DescribeScalableTargets', { ServiceNamespace: 'sagemaker', MaxResults: 51 })))[0], 'ValidationException');
    assert.equal((await failure(f.call('DescribeScalableTargets', { ServiceNamespace: 'dynamodb' })))[0], 'ValidationException');
    assert.equal((await failure(f.call('DescribeScalableTargets', { ServiceNamespace: 'sagemaker', ScalableDimension: 'ecs:service:DesiredCount' })))[0], 'ValidationException');
    assert.match((await failure(f.call('DescribeScalableTargets', {})))[1], /Value at 'serviceNamespace' failed to satisfy constraint/);
  });
});

describe('DeregisterScalableTarget', () => {
  test('deletes the target and answers ObjectNotFoundException when none is registered', async () => {
    await f.call('RegisterScalableTarget', { ...target(EP), MinCapacity: 0, MaxCapacity: 1 });
    assert.deepEqual(await f.call('DeregisterScalableTarget', target('endpoint/MY-ENDPOINT/variant/AllTraffic')), {});
    assert.deepEqual(await describeAll(), []);
    assert.deepEqual(await failure(f.call('DeregisterScalableTarget', target(EP))),
      ['ObjectNotFoundException', `No scalable target found for service namespace: sagemaker, resource ID: ${EP}, scalable dimension: ${DIMENSION}`]);
    assert.equal((await failure(f.call('DeregisterScalableTarget', target('endpoint/x')))) [0], 'ValidationException');
  });

  test('serves the six operations and no other', async () => {
    for (const op of ['RegisterScalableTarget', 'DescribeScalableTargets', 'DeregisterScalableTarget', 'PutScalingPolicy', 'DescribeScalingPolicies', 'DeleteScalingPolicy']) {
      assert.equal(f.api.serves(`AnyScaleFrontendService.${op}`), true, op);
    }
    for (const other of ['AnyScaleFrontendService.PutScheduledAction', 'AnyScaleFrontendService.toString', 'SageMaker.RegisterScalableTarget', 'AnyScaleFrontendService.']) {
      assert.equal(f.api.serves(other), false, other);
    }
    assert.equal((await failure(f.api.handle('AnyScaleFrontendService.PutScheduledAction', Buffer.alloc(0))))[0], 'UnknownOperationException');
  });
});
