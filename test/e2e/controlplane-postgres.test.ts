/**
 * The control plane on PostgreSQL: two API processes (each its own data directory) on one queue
 * schema see the same models, endpoint configs and endpoints at once: what one creates the other
 * describes and lists, what the other deletes is gone for both.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Harness } from '../helpers/async.js';
import { python } from '../helpers/clients.js';
import { PG_URL, dropSchemas, uniqueSchema } from '../helpers/postgres.js';

const h = new Harness();
const SCHEMA = uniqueSchema('t_cp_pg');

after(async () => {
  await h.cleanup();
  await dropSchemas([SCHEMA]);
});

const PRELUDE = `import boto3, json, botocore.config, botocore.exceptions
sm = boto3.client('sagemaker', config=botocore.config.Config(retries={'max_attempts': 1, 'mode': 'standard'}))
def err(call, **kw):
    try:
        call(**kw)
    except botocore.exceptions.ClientError as e:
        return [e.response['Error']['Code'], e.response['Error']['Message']]
    return None
`;

async function boto3(url: string, code: string): Promise<Record<string, unknown>> {
  const r = await python(url, `${PRELUDE}\n${code}`);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

void describe('two API processes on one PostgreSQL schema', () => {
  void test('resources created through one are described, listed and deleted through the other', async () => {
    const config = h.config({ queue: { backend: 'postgres', url: PG_URL, schema: SCHEMA }, worker: { enabled: false } });
    const [a, b] = await Promise.all([h.start(config, h.dir('inferq-cp-pg-a-')), h.start(config, h.dir('inferq-cp-pg-b-'))]);
    await boto3(a.url, `
sm.create_model(ModelName='shared-model', PrimaryContainer={'Image': 'inferq/echo'})
sm.create_endpoint_config(EndpointConfigName='shared-cfg', ProductionVariants=[{'VariantName': 'AllTraffic', 'ModelName': 'shared-model', 'InitialInstanceCount': 1}])
sm.create_endpoint(EndpointName='shared-ep', EndpointConfigName='shared-cfg', Tags=[{'Key': 'k', 'Value': 'v'}])
print('{}')
`);
    const seen = await boto3(b.url, `
d = sm.describe_endpoint(EndpointName='shared-ep')
r = {'config': d['EndpointConfigName'], 'list': [e['EndpointName'] for e in sm.list_endpoints(NameContains='shared')['Endpoints']], 'tags': sm.list_tags(ResourceArn=d['EndpointArn'])['Tags']}
r['dup'] = err(sm.create_model, ModelName='shared-model', PrimaryContainer={'Image': 'inferq/echo'})[0]
sm.delete_endpoint(EndpointName='shared-ep')
print(json.dumps(r))
`);
    assert.deepEqual(seen, { config: 'shared-cfg', list: ['shared-ep'], tags: [{ Key: 'k', Value: 'v' }], dup: 'ValidationException' });
    const gone = await boto3(a.url, `print(json.dumps({'gone': err(sm.describe_endpoint, EndpointName='shared-ep')}))`);
    assert.deepEqual(gone, { gone: ['ValidationException', 'Could not find endpoint "shared-ep".'] });
  });
});
