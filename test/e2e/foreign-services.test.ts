/**
 * Calls to AWS services inferq does not serve get an error in that service's own protocol, so the
 * real aws CLI prints a clean message naming the service and operation (not a parse error):
 * awsQuery (STS, IAM, EC2) as `<ErrorResponse>` / `<Response><Errors>` XML, awsJson (DynamoDB,
 * SQS, the SageMaker control plane) with `__type`, restJson (Lambda) with `x-amzn-ErrorType`.
 * Signatures are still checked first.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, rawRequest, signed } from '../helpers/async.js';
import { aws } from '../helpers/clients.js';
import { RawClient, requestBytes } from '../helpers/raw-http.js';
import { signRaw } from '../helpers/raw-sign.js';
import { sha256Hex } from '../helpers/sigv4.js';
import type { ServerProcess } from '../helpers/server.js';

const h = new Harness();
let server: ServerProcess;

before(async () => {
  server = await h.start(h.config({ endpoints: [{ name: 'echo', model: { builtin: 'echo' } }] }));
});
after(() => h.cleanup());

const NOT_SERVED = 'it serves only Amazon S3 (scope s3), the Amazon SageMaker Runtime and control plane (scope sagemaker), Application Auto Scaling of SageMaker variants (scope application-autoscaling) and STS GetCallerIdentity.';

describe('the aws CLI against services inferq does not serve', () => {
  const cases: [string[], string, string, string][] = [
    [['iam', 'list-users'], 'InvalidAction', 'ListUsers', 'inferq does not serve the iam operation ListUsers;'],
    [['ec2', 'describe-instances'], 'InvalidAction', 'DescribeInstances', 'inferq does not serve the ec2 operation DescribeInstances;'],
    [['dynamodb', 'list-tables'], 'UnknownOperationException', 'ListTables', 'inferq does not serve the dynamodb operation ListTables (X-Amz-Target DynamoDB_20120810.ListTables);'],
    [['sagemaker', 'list-training-jobs'], 'UnknownOperationException', 'ListTrainingJobs', 'inferq does not serve the sagemaker operation ListTrainingJobs (X-Amz-Target SageMaker.ListTrainingJobs);'],
    [['lambda', 'list-functions'], 'UnknownOperationException', 'ListFunctions', 'inferq does not serve the lambda operation GET /2015-03-31/functions;'],
  ];
  test('each prints "An error occurred (<Code>) when calling the <Operation> operation: inferq does not serve …"', async () => {
    const results = await Promise.all(cases.map(([args]) => aws(server.url, args)));
    cases.forEach(([args, code, operation, text], i) => {
      const r = results[i]!;
      assert.equal(r.code, 255, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), `An error occurred (${code}) when calling the ${operation} operation: ${text} ${NOT_SERVED}`, args.join(' '));
    });
  });

  test('a wrong secret is SignatureDoesNotMatch and an unknown key InvalidClientTokenId / UnrecognizedClientException, in the same shapes', async () => {
    const [badSecret, badKey, badKeyJson] = await Promise.all([
      aws(server.url, ['sts', 'get-caller-identity'], { accessKeyId: 'test', secretAccessKey: 'wrong' }),
      aws(server.url, ['iam', 'list-users'], { accessKeyId: 'nobody', secretAccessKey: 'test' }),
      aws(server.url, ['dynamodb', 'list-tables'], { accessKeyId: 'nobody', secretAccessKey: 'test' }),
    ]);
    assert.match(badSecret.stderr, /An error occurred \(SignatureDoesNotMatch\) when calling the GetCallerIdentity operation: The request signature we calculated/);
    assert.match(badKey.stderr, /An error occurred \(InvalidClientTokenId\) when calling the ListUsers operation: The AWS Access Key Id you provided does not exist/);
    assert.match(badKeyJson.stderr, /An error occurred \(UnrecognizedClientException\) when calling the ListTables operation/);
  });
});

describe('the wire shapes', () => {
  const host = (): string => new URL(server.url).host;

  async function send(service: string, path: string, headers: Record<string, string>, body: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const { hostname, port } = new URL(server.url);
    const bytes = Buffer.from(body);
    const { headers: all } = signRaw({ method: 'POST', rawUrl: path, host: host(), headers, payloadHash: sha256Hex(bytes), service, omitPayloadHeader: true });
    const conn = new RawClient(hostname, Number(port));
    const out = await conn.send({ bytes: requestBytes('POST', path, { ...all, 'content-length': String(bytes.length) }, bytes), head: false });
    conn.reset();
    assert.equal(out.kind, 'answer');
    if (out.kind !== 'answer') throw new Error('no answer');
    return { status: out.answer.status, headers: out.answer.headers, body: out.answer.body.toString() };
  }

  test('awsQuery: 400 <ErrorResponse> with Type Sender, Code InvalidAction and the RequestId of the x-amzn-RequestId header', async () => {
    const r = await send('sns', '/', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, 'Action=Publish&Version=2010-03-31');
    assert.equal(r.status, 400);
    assert.equal(r.headers['content-type'], 'text/xml');
    const id = r.headers['x-amzn-requestid'];
    assert.equal(r.body, `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>inferq does not serve the sns operation Publish; ${NOT_SERVED}</Message></Error><RequestId>${id}</RequestId></ErrorResponse>`);
  });

  test('EC2: <Response><Errors><Error> with RequestID', async () => {
    const r = await send('ec2', '/', { 'content-type': 'application/x-www-form-urlencoded' }, 'Action=DescribeVpcs&Version=2016-11-15');
    assert.equal(r.status, 400);
    assert.match(r.body, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>InvalidAction<\/Code><Message>inferq does not serve the ec2 operation DescribeVpcs;[^<]*<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/);
  });

  test('awsJson: __type and message, in the content type the caller used', async () => {
    const r = await send('kinesis', '/', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.ListStreams' }, '{}');
    assert.equal(r.status, 400);
    assert.equal(r.headers['content-type'], 'application/x-amz-json-1.1');
    assert.deepEqual(JSON.parse(r.body), { __type: 'UnknownOperationException', message: `inferq does not serve the kinesis operation ListStreams (X-Amz-Target Kinesis_20131202.ListStreams); ${NOT_SERVED}` });
    const v10 = await send('dynamodb', '/', { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Scan' }, '{}');
    assert.equal(v10.headers['content-type'], 'application/x-amz-json-1.0');
  });

  test('restJson: x-amzn-ErrorType and a JSON message', async () => {
    const r = await signed(server.url, 's3', 'GET', '/'); // control: S3 scope is still S3
    assert.equal(r.status, 200);
    const { hostname, port } = new URL(server.url);
    const { headers } = signRaw({ method: 'GET', rawUrl: '/2015-03-31/functions/', host: host(), headers: {}, payloadHash: sha256Hex(Buffer.alloc(0)), service: 'lambda', omitPayloadHeader: true });
    const conn = new RawClient(hostname, Number(port));
    const out = await conn.send({ bytes: requestBytes('GET', '/2015-03-31/functions/', headers), head: false });
    conn.reset();
    assert.ok(out.kind === 'answer');
    assert.equal(out.answer.status, 400);
    assert.equal(out.answer.headers['x-amzn-errortype'], 'UnknownOperationException');
    assert.match(JSON.parse(out.answer.body.toString()).message as string, /^inferq does not serve the lambda operation GET \/2015-03-31\/functions\/;/);
  });

  test('unsigned awsQuery and awsJson calls get MissingAuthenticationToken in their own shape', async () => {
    const query = await rawRequest('POST', new URL('/', server.url), { 'content-type': 'application/x-www-form-urlencoded' }, Buffer.from('Action=GetCallerIdentity&Version=2011-06-15'));
    assert.equal(query.status, 403);
    assert.match(query.body.toString(), /<ErrorResponse><Error><Type>Sender<\/Type><Code>MissingAuthenticationToken<\/Code>/);
    const json = await rawRequest('POST', new URL('/', server.url), { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' }, Buffer.from('{}'));
    assert.equal(json.status, 403);
    assert.equal(JSON.parse(json.body.toString()).__type, 'MissingAuthenticationTokenException');
  });
});
