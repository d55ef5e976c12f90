/**
 * Application Auto Scaling driven by boto3 and the aws CLI, as SageMaker asynchronous users
 * script scale-to-zero: RegisterScalableTarget (MinCapacity 0, then an update that keeps
 * MinCapacity) → DescribeScalableTargets (filters, paginator, and once through the aws CLI) →
 * PutScalingPolicy (target tracking on ApproximateBacklogSizePerInstance) →
 * DescribeScalingPolicies → DeregisterScalableTarget, the errors as botocore parses them
 * (ValidationException for a bad ResourceId and Min > Max, ObjectNotFoundException,
 * UnknownOperationException for an operation inferq does not serve, InvalidSignatureException for
 * a wrong secret), and targets that survive a restart on the same data directory.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Harness } from '../helpers/async.js';
import { PY_CLIENT_ERROR, aws, python } from '../helpers/clients.js';
import type { ServerProcess } from '../helpers/server.js';

const h = new Harness();
let server: ServerProcess;
let dataDir: string;

before(async () => {
  dataDir = h.dir('inferq-autoscaling-data-');
  server = await h.start(undefined, dataDir);
});
after(() => h.cleanup());

const PRELUDE = `import boto3, json, os, botocore.config, botocore.exceptions
cfg = botocore.config.Config(retries={'max_attempts': 1, 'mode': 'standard'})
aas = boto3.client('application-autoscaling', endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-east-1', config=cfg)
rid = 'endpoint/Async-Ep/variant/AllTraffic'
dim = 'sagemaker:variant:DesiredInstanceCount'
${PY_CLIENT_ERROR}`;

/** Runs a boto3 script (PRELUDE first), asserts it exited 0 and returns the JSON it printed last. */
async function boto3(code: string): Promise<Record<string, unknown>> {
  const r = await python(server.url, `${PRELUDE}\n${code}`);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

const BACKLOG_POLICY = `{'TargetValue': 5.0, 'CustomizedMetricSpecification': {'MetricName': 'ApproximateBacklogSizePerInstance', 'Namespace': 'AWS/SageMaker', 'Dimensions': [{'Name': 'EndpointName', 'Value': 'Async-Ep'}], 'Statistic': 'Average'}, 'ScaleInCooldown': 600, 'ScaleOutCooldown': 300}`;

describe('Application Auto Scaling with boto3 and the aws CLI', () => {
  test('register, describe, put and describe a target-tracking policy, deregister', async () => {
    const out = await boto3(`
r = {}
r['arn'] = aas.register_scalable_target(ServiceNamespace='sagemaker', ResourceId=rid, ScalableDimension=dim, MinCapacity=0, MaxCapacity=5)['ScalableTargetARN']
r['updatedArn'] = aas.register_scalable_target(ServiceNamespace='sagemaker', ResourceId='endpoint/async-ep/variant/AllTraffic', ScalableDimension=dim, MaxCapacity=3)['ScalableTargetARN']
aas.register_scalable_target(ServiceNamespace='sagemaker', ResourceId='endpoint/other/variant/v', ScalableDimension=dim, MinCapacity=1, MaxCapacity=2)
t = aas.describe_scalable_targets(ServiceNamespace='sagemaker', ResourceIds=[rid], ScalableDimension=dim)['ScalableTargets']
r['targets'] = [{k: x[k] for k in ['ServiceNamespace', 'ResourceId', 'ScalableDimension', 'MinCapacity', 'MaxCapacity', 'ScalableTargetARN', 'SuspendedState']} for x in t]
r['creationTime'] = type(t[0]['CreationTime']).__name__
r['paginator'] = [x['ResourceId'] for page in aas.get_paginator('describe_scalable_targets').paginate(ServiceNamespace='sagemaker', PaginationConfig={'PageSize': 1}) for x in page['ScalableTargets']]
p = aas.put_scaling_policy(PolicyName='backlog-per-instance', ServiceNamespace='sagemaker', ResourceId=rid, ScalableDimension=dim, PolicyType='TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration=${BACKLOG_POLICY})
r['policyArn'] = p['PolicyARN']
r['alarms'] = p['Alarms']
ps = aas.describe_scaling_policies(ServiceNamespace='sagemaker', ResourceId=rid, ScalableDimension=dim)['ScalingPolicies']
r['policies'] = [[x['PolicyName'], x['PolicyType'], x['TargetTrackingScalingPolicyConfiguration'], x['PolicyARN'], type(x['CreationTime']).__name__] for x in ps]
r['byName'] = [x['PolicyName'] for x in aas.describe_scaling_policies(ServiceNamespace='sagemaker', PolicyNames=['nope'])['ScalingPolicies']]
r['deregister'] = aas.deregister_scalable_target(ServiceNamespace='sagemaker', ResourceId=rid, ScalableDimension=dim)['ResponseMetadata']['HTTPStatusCode']
r['after'] = [x['ResourceId'] for x in aas.describe_scalable_targets(ServiceNamespace='sagemaker')['ScalableTargets']]
r['policiesAfter'] = aas.describe_scaling_policies(ServiceNamespace='sagemaker', ResourceId=rid)['ScalingPolicies']
print(json.dumps(r))
`);
    const arn = String(out['arn']);
    assert.match(arn, /^arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target\/[0-9a-f]{36}$/);
    assert.equal(out['updatedArn'], arn);
    assert.deepEqual(out['targets'], [{
      ServiceNamespace: 'sagemaker', ResourceId: 'endpoint/Async-Ep/variant/AllTraffic', ScalableDimension: 'sagemaker:variant:DesiredInstanceCount', MinCapacity: 0, MaxCapacity: 3,
      ScalableTargetARN: arn, SuspendedState: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
    }]);
    assert.equal(out['creationTime'], 'datetime');
    assert.deepEqual(out['paginator'], ['endpoint/Async-Ep/variant/AllTraffic', 'endpoint/other/variant/v']);
    assert.match(String(out['policyArn']), /^arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:[0-9a-f-]{36}:resource\/sagemaker\/endpoint\/Async-Ep\/variant\/AllTraffic:policyName\/backlog-per-instance$/);
    assert.deepEqual(out['alarms'], []);
    assert.deepEqual(out['policies'], [['backlog-per-instance', 'TargetTrackingScaling', {
      TargetValue: 5, CustomizedMetricSpecification: { MetricName: 'ApproximateBacklogSizePerInstance', Namespace: 'AWS/SageMaker', Dimensions: [{ Name: 'EndpointName', Value: 'Async-Ep' }], Statistic: 'Average' },
      ScaleInCooldown: 600, ScaleOutCooldown: 300,
    }, out['policyArn'], 'datetime']]);
    assert.deepEqual(out['byName'], []);
    assert.equal(out['deregister'], 200);
    assert.deepEqual(out['after'], ['endpoint/other/variant/v']);
    assert.deepEqual(out['policiesAfter'], []);
  });

  test('errors as botocore parses them', async () => {
    const out = await boto3(`
r = {}
r['badResource'] = err(aas.register_scalable_target, ServiceNamespace='sagemaker', ResourceId='endpoint/Async-Ep', ScalableDimension=dim, MinCapacity=0, MaxCapacity=1)
r['otherNamespace'] = err(aas.describe_scalable_targets, ServiceNamespace='ecs')
r['minOverMax'] = err(aas.register_scalable_target, ServiceNamespace='sagemaker', ResourceId=rid, ScalableDimension=dim, MinCapacity=3, MaxCapacity=2)
r['deregisterMissing'] = err(aas.deregister_scalable_target, ServiceNamespace='sagemaker', ResourceId=rid, ScalableDimension=dim)
r['policyWithoutTarget'] = err(aas.put_scaling_policy, PolicyName='p', ServiceNamespace='sagemaker', ResourceId=rid, ScalableDimension=dim, PolicyType='TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration=${BACKLOG_POLICY})
r['badToken'] = err(aas.describe_scalable_targets, ServiceNamespace='sagemaker', NextToken='x')
r['unserved'] = err(aas.put_scheduled_action, ServiceNamespace='sagemaker', ScheduledActionName='nightly', ResourceId=rid, ScalableDimension=dim, Schedule='rate(1 hour)')
bad = boto3.client('application-autoscaling', endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-east-1', config=cfg, aws_access_key_id='test', aws_secret_access_key='wrong')
r['badSecret'] = err(bad.describe_scalable_targets, ServiceNamespace='sagemaker')[0]
print(json.dumps(r))
`);
    const rid = 'endpoint/Async-Ep/variant/AllTraffic';
    assert.deepEqual(out['badResource'], ['ValidationException', 'ResourceId "endpoint/Async-Ep" does not name a SageMaker endpoint variant: it must be endpoint/<endpoint name>/variant/<variant name> (names of letters, digits and hyphens, at most 63), e.g. endpoint/my-endpoint/variant/AllTraffic.', 400]);
    assert.deepEqual(out['otherNamespace'], ['ValidationException', 'ServiceNamespace "ecs" is not served: inferq scales only SageMaker endpoint variants (ServiceNamespace sagemaker).', 400]);
    assert.deepEqual(out['minOverMax'], ['ValidationException', 'Minimum capacity cannot be greater than maximum capacity (MinCapacity 3, MaxCapacity 2).', 400]);
    assert.deepEqual(out['deregisterMissing'], ['ObjectNotFoundException', `No scalable target found for service namespace: sagemaker, resource ID: ${rid}, scalable dimension: sagemaker:variant:DesiredInstanceCount`, 400]);
    assert.deepEqual(out['policyWithoutTarget'], ['ObjectNotFoundException', `No scalable target registered for service namespace: sagemaker, resource ID: ${rid}, scalable dimension: sagemaker:variant:DesiredInstanceCount`, 400]);
    assert.deepEqual(out['badToken'], ['InvalidNextTokenException', 'The NextToken is not valid: pass the NextToken of the previous answer unchanged.', 400]);
    assert.equal((out['unserved'] as unknown[])[0], 'UnknownOperationException');
    assert.match(String((out['unserved'] as unknown[])[1]), /^inferq does not serve the application-autoscaling operation PutScheduledAction \(X-Amz-Target AnyScaleFrontendService\.PutScheduledAction\); it serves only .*Application Auto Scaling of SageMaker variants \(scope application-autoscaling\)/);
    assert.equal(out['badSecret'], 'InvalidSignatureException');
  });

  test('the aws CLI describes the targets, and they survive a restart on the same data directory', async () => {
    await boto3(`
aas.register_scalable_target(ServiceNamespace='sagemaker', ResourceId='endpoint/kept/variant/AllTraffic', ScalableDimension=dim, MinCapacity=0, MaxCapacity=4)
print('{}')
`);
    assert.equal(await server.stop(), 0);
    server = await h.start(undefined, dataDir);
    const r = await aws(server.url, ['application-autoscaling', 'describe-scalable-targets', '--service-namespace', 'sagemaker', '--resource-ids', 'endpoint/kept/variant/AllTraffic', '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const targets = (JSON.parse(r.stdout) as { ScalableTargets: Record<string, unknown>[] }).ScalableTargets;
    assert.deepEqual(targets.map((t) => [t['ResourceId'], t['MinCapacity'], t['MaxCapacity'], t['ScalableDimension']]), [['endpoint/kept/variant/AllTraffic', 0, 4, 'sagemaker:variant:DesiredInstanceCount']]);
  });
});
