/**
 * Scaling policies and `scalingOf` over a real SQLite ResourceStore: PutScalingPolicy needs a
 * registered target, creates or replaces (the ARN stays), checks target-tracking configurations;
 * DescribeScalingPolicies filters and pages; DeleteScalingPolicy and DeregisterScalableTarget
 * remove policies; `scalingOf` gives the target's capacities and the TargetValue of a policy on
 * ApproximateBacklogSizePerInstance (customized metric or metric math), case-insensitive in the
 * endpoint name only.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { deregisterEndpointTargets, scalingOf } from '../../src/autoscaling/index.js';
import { DIMENSION, backlogPolicy, failure, openFixture, target, type Fixture } from './helpers.js';

let f: Fixture;
beforeEach(() => { f = openFixture(); });
afterEach(() => f.close());

const EP = 'endpoint/Async-Ep/variant/AllTraffic';

function register(resourceId = EP, min = 0, max = 4): Promise<Record<string, unknown>> {
  return f.call('RegisterScalableTarget', { ...target(resourceId), MinCapacity: min, MaxCapacity: max });
}

function put(name: string, configuration: Record<string, unknown>, resourceId = EP): Promise<Record<string, unknown>> {
  return f.call('PutScalingPolicy', { ...target(resourceId), PolicyName: name, PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: configuration });
}

async function policies(extra: Record<string, unknown> = {}): Promise<Record<string, unknown>[]> {
  return (await f.call('DescribeScalingPolicies', { ServiceNamespace: 'sagemaker', ...extra }))['ScalingPolicies'] as Record<string, unknown>[];
}

describe('PutScalingPolicy', () => {
  test('stores a target-tracking policy on the backlog metric and describes it; a second put replaces it under the same ARN', async () => {
    await register();
    const { PolicyARN, Alarms } = await put('backlog', backlogPolicy('Async-Ep', 5));
    assert.match(String(PolicyARN), /^arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:[0-9a-f-]{36}:resource\/sagemaker\/endpoint\/Async-Ep\/variant\/AllTraffic:policyName\/backlog$/);
    assert.deepEqual(Alarms, []);
    assert.deepEqual(await policies(), [{
      PolicyARN, PolicyName: 'backlog', ServiceNamespace: 'sagemaker', ResourceId: EP, ScalableDimension: DIMENSION, PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: backlogPolicy('Async-Ep', 5), Alarms: [], CreationTime: 1_700_000_000,
    }]);
    f.now += 1000;
    const again = await put('backlog', backlogPolicy('Async-Ep', 2.5), 'endpoint/async-ep/variant/AllTraffic');
    assert.equal(again['PolicyARN'], PolicyARN);
    assert.deepEqual((await policies()).map((p) => [p['ResourceId'], (p['TargetTrackingScalingPolicyConfiguration'] as Record<string, unknown>)['TargetValue'], p['CreationTime']]), [[EP, 2.5, 1_700_000_000]]);
  });

  test('needs a registered target (ObjectNotFoundException) and a configuration inferq can take', async () => {
    assert.deepEqual(await failure(put('backlog', backlogPolicy('Async-Ep', 5))),
      ['ObjectNotFoundException', `No scalable target registered for service namespace: sagemaker, resource ID: ${EP}, scalable dimension: ${DIMENSION}`]);
    await register();
    const refused = async (body: Record<string, unknown>): Promise<string> => {
      const [type, message] = await failure(f.call('PutScalingPolicy', { ...target(EP), PolicyName: 'p', ...body }));
      assert.equal(type, 'ValidationException', message);
      return message;
    };
    assert.match(await refused({ TargetTrackingScalingPolicyConfiguration: backlogPolicy('e', 5) }), /StepScalingPolicyConfiguration is required for a StepScaling policy \(PolicyType defaults to StepScaling/);
    assert.match(await refused({ PolicyType: 'PredictiveScaling', PredictiveScalingPolicyConfiguration: {} }), /PolicyType "PredictiveScaling" is not served/);
    assert.match(await refused({ PolicyType: 'TargetTrackingScaling' }), /TargetTrackingScalingPolicyConfiguration is required/);
    const both = { TargetValue: 5, PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' }, CustomizedMetricSpecification: (backlogPolicy('e', 5))['CustomizedMetricSpecification'] };
    assert.match(await refused({ PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: both }), /exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification/);
    assert.match(await refused({ PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: { TargetValue: 5 } }), /exactly one of/);
    assert.match(await refused({ PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: { TargetValue: 70, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } } }), /is not a metric of SageMaker variants/);
    assert.match(await refused({ PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: { TargetValue: 5, CustomizedMetricSpecification: { MetricName: 'ApproximateBacklogSizePerInstance' } } }), /either MetricName, Namespace and Statistic, or Metrics/);
    assert.match(await refused({ PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: { TargetValue: 0, PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' } } }), /TargetValue 0 is out of range/);
    assert.match(await refused({ PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: backlogPolicy('e', 0.05) }), /TargetValue 0.05 on ApproximateBacklogSizePerInstance is out of range: inferq's backlog per instance target takes 0.1 to 100000/);
    assert.match(await refused({ PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: { ...backlogPolicy('e', 5), ScaleInCooldown: -1 } }), /^1 validation error detected: Value at 'targetTrackingScalingPolicyConfiguration.scaleInCooldown'/);
    assert.match(await refused({ ServiceNamespace: 'ecs', PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: backlogPolicy('e', 5) }), /ServiceNamespace "ecs" is not served/);
    assert.deepEqual(await policies(), []);
  });

  test('keeps StepScaling policies (SageMaker\'s scale-from-zero recipe) caps a target at 50 policies and pages ten by default', async () => {
    await register();
    const step = { AdjustmentType: 'ChangeInCapacity', MetricAggregationType: 'Average', Cooldown: 300, StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }] };
    await f.call('PutScalingPolicy', { ...target(EP), PolicyName: 'HasBacklogWithoutCapacity-ScalingPolicy', PolicyType: 'StepScaling', StepScalingPolicyConfiguration: step });
    const [described] = await policies();
    assert.deepEqual([described!['PolicyType'], described!['StepScalingPolicyConfiguration']], ['StepScaling', step]);
    for (let i = 1; i < 50; i++) await put(`p${i}`, { TargetValue: 10, PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' } });
    const [type, message] = await failure(put('one-too-many', backlogPolicy('e', 5)));
    assert.deepEqual([type, message], ['LimitExceededException', `The scalable target ${EP} already has 50 scaling policies; delete one first.`]);
    await put('p1', backlogPolicy('e', 5)); // replacing one is no new policy
    const page = await f.call('DescribeScalingPolicies', { ServiceNamespace: 'sagemaker' });
    assert.deepEqual([(page['ScalingPolicies'] as unknown[]).length, typeof page['NextToken']], [10, 'string'], 'ten a page unless MaxResults says otherwise, as AWS');
  });
});

describe('DescribeScalingPolicies and DeleteScalingPolicy', () => {
  test('filter by ResourceId and PolicyNames, page, delete, and answer ObjectNotFoundException for a missing policy', async () => {
    await register();
    await register('endpoint/other/variant/v');
    await put('b', backlogPolicy('Async-Ep', 5));
    await put('a', backlogPolicy('Async-Ep', 6));
    await put('c', backlogPolicy('other', 7), 'endpoint/other/variant/v');
    const names = (list: Record<string, unknown>[]): unknown[] => list.map((p) => `${String(p['ResourceId'])}:${String(p['PolicyName'])}`);
    assert.deepEqual(names(await policies({ ResourceId: 'endpoint/ASYNC-EP/variant/AllTraffic' })), [`${EP}:a`, `${EP}:b`]);
    assert.deepEqual(names(await policies({ PolicyNames: ['c', 'a'] })), [`${EP}:a`, 'endpoint/other/variant/v:c']);
    assert.deepEqual(names(await policies({ ResourceId: 'not-a-variant' })), []);
    const first = await f.call('DescribeScalingPolicies', { ServiceNamespace: 'sagemaker', ScalableDimension: DIMENSION, MaxResults: 2 });
    const second = await f.call('DescribeScalingPolicies', { ServiceNamespace: 'sagemaker', MaxResults: 2, NextToken: first['NextToken'] });
    assert.deepEqual([names(first['ScalingPolicies'] as Record<string, unknown>[]), names(second['ScalingPolicies'] as Record<string, unknown>[]), second['NextToken']],
      [[`${EP}:a`, `${EP}:b`], ['endpoint/other/variant/v:c'], undefined]);
    assert.equal((await failure(f.call('DescribeScalingPolicies', { ServiceNamespace: 'sagemaker', MaxResults: 11 })))[0], 'ValidationException', 'at most 10 a page, as AWS');
    assert.deepEqual(await f.call('DeleteScalingPolicy', { ...target(EP), PolicyName: 'a' }), {});
    assert.deepEqual(await failure(f.call('DeleteScalingPolicy', { ...target(EP), PolicyName: 'a' })),
      ['ObjectNotFoundException', `No scaling policy found for service namespace: sagemaker, resource ID: ${EP}, scalable dimension: ${DIMENSION}, policy name: a`]);
    await f.call('DeregisterScalableTarget', target(EP));
    assert.deepEqual(names(await policies()), ['endpoint/other/variant/v:c'], 'deregistering a target deletes its policies');
  });
});

describe('scalingOf', () => {
  test('is undefined without a target, then gives min and max, and the backlog target of a policy on ApproximateBacklogSizePerInstance', async () => {
    assert.equal(await scalingOf(f.store, 'Async-Ep', 'AllTraffic'), undefined);
    await register(EP, 0, 3);
    assert.deepEqual(await scalingOf(f.store, 'async-EP', 'AllTraffic'), { min: 0, max: 3 });
    assert.equal(await scalingOf(f.store, 'async-ep', 'alltraffic'), undefined, 'variant names are case-sensitive');
    await put('invocations', { TargetValue: 100, PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' } });
    assert.deepEqual(await scalingOf(f.store, 'Async-Ep', 'AllTraffic'), { min: 0, max: 3 }, 'other metrics set no backlog target');
    await put('backlog', backlogPolicy('Async-Ep', 8));
    assert.deepEqual(await scalingOf(f.store, 'ASYNC-EP', 'AllTraffic'), { min: 0, max: 3, targetBacklogPerInstance: 8 });
    const math = { TargetValue: 4, CustomizedMetricSpecification: { Metrics: [{ Id: 'm1', MetricStat: { Metric: { MetricName: 'ApproximateBacklogSizePerInstance', Namespace: 'AWS/SageMaker' }, Stat: 'Average' }, ReturnData: true }] } };
    await put('math', math);
    assert.deepEqual(await scalingOf(f.store, 'Async-Ep', 'AllTraffic'), { min: 0, max: 3, targetBacklogPerInstance: 4 }, 'the lowest TargetValue wins');
    await f.call('RegisterScalableTarget', { ...target(EP), MaxCapacity: 6 });
    await f.call('DeleteScalingPolicy', { ...target(EP), PolicyName: 'math' });
    assert.deepEqual(await scalingOf(f.store, 'Async-Ep', 'AllTraffic'), { min: 0, max: 6, targetBacklogPerInstance: 8 });
    await register('endpoint/Async-Ep/variant/Other', 1, 2);
    assert.deepEqual(await scalingOf(f.store, 'Async-Ep', 'Other'), { min: 1, max: 2 }, 'policies belong to one variant');
    await f.call('DeregisterScalableTarget', target(EP));
    assert.equal(await scalingOf(f.store, 'Async-Ep', 'AllTraffic'), undefined);
  });

  test('metric math counts only when its one returned query is the backlog metric', async () => {
    await register();
    const query = (id: string, returnData?: boolean): Record<string, unknown> => ({ Id: id, MetricStat: { Metric: { MetricName: 'ApproximateBacklogSizePerInstance' }, Stat: 'Average' }, ...(returnData === undefined ? {} : { ReturnData: returnData }) });
    await put('expr', { TargetValue: 3, CustomizedMetricSpecification: { Metrics: [query('m1', false), { Id: 'e1', Expression: 'm1 * 2', ReturnData: true }] } });
    assert.deepEqual(await scalingOf(f.store, 'Async-Ep', 'AllTraffic'), { min: 0, max: 4 });
    await put('two', { TargetValue: 3, CustomizedMetricSpecification: { Metrics: [query('m1'), query('m2')] } });
    assert.deepEqual(await scalingOf(f.store, 'Async-Ep', 'AllTraffic'), { min: 0, max: 4 });
    await put('one', { TargetValue: 3, CustomizedMetricSpecification: { Metrics: [query('m1')] } });
    assert.deepEqual(await scalingOf(f.store, 'Async-Ep', 'AllTraffic'), { min: 0, max: 4, targetBacklogPerInstance: 3 });
  });
});

describe('deregisterEndpointTargets (DeleteEndpoint)', () => {
  test('removes every variant target of the endpoint (any case) with its policies, and nothing of other endpoints', async () => {
    await register();
    await register('endpoint/Async-Ep/variant/Second');
    await register('endpoint/other/variant/AllTraffic');
    await put('backlog', backlogPolicy('Async-Ep', 5));
    await put('other-backlog', backlogPolicy('other', 3), 'endpoint/other/variant/AllTraffic');
    assert.equal(await deregisterEndpointTargets(f.store, 'async-ep'), 2);
    assert.equal(await scalingOf(f.store, 'Async-Ep', 'AllTraffic'), undefined);
    assert.equal(await scalingOf(f.store, 'Async-Ep', 'Second'), undefined);
    assert.deepEqual((await policies()).map((p) => p['PolicyName']), ['other-backlog']);
    assert.deepEqual(await scalingOf(f.store, 'other', 'AllTraffic'), { min: 0, max: 4, targetBacklogPerInstance: 3 });
    assert.equal(await deregisterEndpointTargets(f.store, 'async-ep'), 0, 'nothing left to remove');
  });
});
