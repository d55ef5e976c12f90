/**
 * Test helper for the fuzz test: request templates over every route (S3 buckets, objects,
 * multipart, listings; SageMaker Runtime invocations, async, stream, status; /ping; unknown paths
 * and other AWS services), mutations of their query, headers, path, XML bodies and aws-chunked
 * framing, and the signing that lets most of them reach the handlers past authentication.
 */
import { createHash } from 'node:crypto';
import { computeChecksum } from '../../src/auth/index.js';
import { type Prng, encodedValue, headerValueFor, LOCATIONS, NUMBERS, RANGES, textValue, xmlDocument } from './fuzz-values.js';
import { requestBytes } from './raw-http.js';
import { awsChunked, signRaw, type ChunkFrame } from './raw-sign.js';
import { sha256Hex } from './sigv4.js';

/** What exists on the server before the fuzz starts. */
export interface FuzzWorld {
  readonly host: string;
  readonly bucket: string;
  /** Existing object keys (encoded for a path). */
  readonly keys: readonly string[];
  readonly uploadId: string;
  readonly endpoint: string;
  readonly inferenceIds: readonly string[];
}

type PayloadMode = 'sha256' | 'unsigned' | 'omit' | 'streaming-signed' | 'streaming-signed-trailer' | 'streaming-trailer';

/** A request being built: every part still editable. */
interface Draft {
  readonly template: string;
  /** Credential scope service; undefined sends the request unsigned. */
  service: string | undefined;
  method: string;
  path: string;
  query: [string, string | undefined][];
  headers: Record<string, string>;
  body: Buffer;
  payload: PayloadMode;
  chunks?: ChunkFrame[];
  trailers?: Record<string, string>;
  readonly mutations: string[];
}

/** A request ready to go on the wire. */
export interface FuzzRequest {
  readonly index: number;
  /** Template and mutations, for the failure report. */
  readonly label: string;
  readonly bytes: Buffer;
  readonly head: boolean;
  /** The connection is dropped after this request (its framing may leave bytes behind). */
  readonly closeAfter: boolean;
  /** No answer (a closed connection or a timeout) is acceptable: the bytes are not HTTP. */
  readonly junk: boolean;
  /** The client drops the connection mid-body instead of waiting for an answer. */
  readonly abort: boolean;
}

function draft(template: string, service: string | undefined, method: string, path: string, query: [string, string | undefined][] = [], headers: Record<string, string> = {}, body: Buffer = Buffer.alloc(0), payload: PayloadMode = 'sha256'): Draft {
  return { template, service, method, path, query, headers, body, payload, mutations: [] };
}

function key(rng: Prng, w: FuzzWorld): string {
  return rng.chance(0.7) ? rng.pick(w.keys) : `fz-${rng.int(50)}`;
}

function upload(rng: Prng, w: FuzzWorld): Draft {
  const data = rng.bytes(rng.int(3) === 0 ? 0 : 1 + rng.int(3000));
  const d = draft('PutObject', 's3', 'PUT', `/${w.bucket}/fz-${rng.int(50)}`, [], { 'content-type': 'application/octet-stream' }, data, rng.pick(['sha256', 'unsigned', 'streaming-signed', 'streaming-signed-trailer', 'streaming-trailer'] as const));
  if (d.payload.startsWith('streaming')) {
    const cut = data.length === 0 ? 0 : rng.int(data.length);
    d.chunks = cut === 0 ? [{ data }] : [{ data: data.subarray(0, cut) }, { data: data.subarray(cut) }];
    if (d.payload.endsWith('trailer')) d.trailers = { 'x-amz-checksum-crc32': computeChecksum('CRC32', data) };
  }
  return d;
}

function completeXml(rng: Prng): string {
  const parts = Array.from({ length: 1 + rng.int(3) }, (_, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>"${createHash('md5').update(String(i)).digest('hex')}"</ETag></Part>`);
  return parts.join('');
}

function deleteXml(rng: Prng): string {
  return `<Quiet>${rng.chance(0.5)}</Quiet>${Array.from({ length: 1 + rng.int(3) }, () => `<Object><Key>fz-${rng.int(50)}</Key></Object>`).join('')}`;
}

function xmlBody(rng: Prng, root: string, inner: string): Buffer {
  return Buffer.from(rng.chance(0.5) ? `<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</${root}>` : xmlDocument(rng, root, inner), 'utf8');
}

type Template = (rng: Prng, w: FuzzWorld) => Draft;

const S3_TEMPLATES: readonly Template[] = [
  () => draft('ListBuckets', 's3', 'GET', '/'),
  (rng) => draft('CreateBucket', 's3', 'PUT', `/fz-bucket-${rng.int(5)}`, [], {}, rng.chance(0.3) ? xmlBody(rng, 'CreateBucketConfiguration', '<LocationConstraint>eu-west-1</LocationConstraint>') : Buffer.alloc(0)),
  (_rng, w) => draft('HeadBucket', 's3', 'HEAD', `/${w.bucket}`),
  (rng, w) => draft('ListObjectsV2', 's3', 'GET', `/${w.bucket}`, [['list-type', '2'], ['prefix', rng.pick(['', 'obj', 'fz-'])], ['max-keys', String(rng.int(5))], ['delimiter', '/']]),
  (rng, w) => draft('ListObjectsV2-token', 's3', 'GET', `/${w.bucket}`, [['list-type', '2'], ['continuation-token', rng.pick(['djE6b2JqLTE', 'djE6', 'xx', '', '%%%'])], ['start-after', 'obj']]),
  (rng, w) => draft('ListObjects', 's3', 'GET', `/${w.bucket}`, [['marker', rng.pick(['', 'obj-1', 'zzz'])], ['max-keys', '2'], ['encoding-type', 'url']]),
  (_rng, w) => draft('GetBucketLocation', 's3', 'GET', `/${w.bucket}`, [['location', undefined]]),
  upload,
  (rng, w) => draft('GetObject', 's3', 'GET', `/${w.bucket}/${key(rng, w)}`, rng.chance(0.5) ? [['response-content-type', 'text/plain'], ['response-cache-control', 'no-cache']] : [], rng.chance(0.5) ? { range: rng.pick(RANGES) } : {}),
  (rng, w) => draft('HeadObject', 's3', 'HEAD', `/${w.bucket}/${key(rng, w)}`, [], rng.chance(0.5) ? { 'if-none-match': '*' } : {}),
  (rng, w) => draft('DeleteObject', 's3', 'DELETE', `/${w.bucket}/fz-${rng.int(50)}`),
  (rng, w) => draft('CopyObject', 's3', 'PUT', `/${w.bucket}/fz-${rng.int(50)}`, [], { 'x-amz-copy-source': `/${w.bucket}/${key(rng, w)}`, 'x-amz-metadata-directive': rng.pick(['COPY', 'REPLACE']) }),
  (rng, w) => draft('CreateMultipartUpload', 's3', 'POST', `/${w.bucket}/mp-${rng.int(5)}`, [['uploads', undefined]]),
  (rng, w) => draft('UploadPart', 's3', 'PUT', `/${w.bucket}/mp`, [['partNumber', String(1 + rng.int(3))], ['uploadId', w.uploadId]], {}, rng.bytes(1 + rng.int(2000))),
  (rng, w) => draft('CompleteMultipartUpload', 's3', 'POST', `/${w.bucket}/mp`, [['uploadId', rng.chance(0.5) ? w.uploadId : 'nope']], {}, xmlBody(rng, 'CompleteMultipartUpload', completeXml(rng))),
  (rng, w) => draft('AbortMultipartUpload', 's3', 'DELETE', `/${w.bucket}/mp`, [['uploadId', rng.pick(['nope', '', 'x'.repeat(300)])]]),
  (_rng, w) => draft('ListParts', 's3', 'GET', `/${w.bucket}/mp`, [['uploadId', w.uploadId], ['max-parts', '2'], ['part-number-marker', '1']]),
  (rng, w) => {
    const body = xmlBody(rng, 'Delete', deleteXml(rng));
    return draft('DeleteObjects', 's3', 'POST', `/${w.bucket}`, [['delete', undefined]], { 'content-md5': createHash('md5').update(body).digest('base64') }, body);
  },
];

const SAGEMAKER_TEMPLATES: readonly Template[] = [
  (rng, w) => draft('InvokeEndpoint', 'sagemaker', 'POST', `/endpoints/${w.endpoint}/invocations`, [], { 'content-type': 'application/json', accept: 'application/json', 'x-amzn-sagemaker-custom-attributes': 'a=b' }, Buffer.from(`{"x":${rng.int(1000)}}`), rng.pick(['omit', 'sha256'] as const)),
  (rng, w) => draft('InvokeEndpointWithResponseStream', 'sagemaker', 'POST', `/endpoints/${w.endpoint}/invocations-response-stream`, [], { 'content-type': 'text/plain', 'x-amzn-sagemaker-accept': 'text/plain' }, Buffer.from('hello'), rng.pick(['omit', 'sha256'] as const)),
  (rng, w) => draft('InvokeEndpointAsync', 'sagemaker', 'POST', `/endpoints/${w.endpoint}/async-invocations`, [], { 'x-amzn-sagemaker-content-type': 'text/plain', 'x-amzn-sagemaker-inference-id': `fz-${rng.int(100)}` }, Buffer.from('inline'), 'omit'),
  (rng, w) => draft('InvokeEndpointAsync-location', 'sagemaker', 'POST', `/endpoints/${w.endpoint}/async-invocations`, [], { 'x-amzn-sagemaker-inputlocation': rng.pick(LOCATIONS), 'x-amzn-sagemaker-requestttlseconds': rng.pick(['60', '3600', ...NUMBERS]), 'x-amzn-sagemaker-filename': rng.pick(['out.json', 'a..b', '.x']) }, Buffer.alloc(0), 'omit'),
  (rng, w) => draft('GetAsyncInvocation', 'sagemaker', 'GET', `/endpoints/${w.endpoint}/async-invocations/${rng.chance(0.5) ? rng.pick(w.inferenceIds) : `missing-${rng.int(9)}`}`, [['waitSeconds', '0']], {}, Buffer.alloc(0), 'omit'),
  () => draft('ListEndpointStatus', 'sagemaker', 'GET', '/endpoints', [], {}, Buffer.alloc(0), 'omit'),
  (rng, w) => draft('GetEndpointStatus', 'sagemaker', 'GET', `/endpoints/${rng.chance(0.7) ? w.endpoint : 'nope'}`, [], {}, Buffer.alloc(0), 'omit'),
  (rng, w) => draft('UnknownRuntimePath', 'sagemaker', rng.pick(['GET', 'POST', 'PUT', 'DELETE']), rng.pick([`/endpoints/${w.endpoint}/nope`, '/', '/ping', '/endpoints//invocations', `/endpoints/${w.endpoint}/async-invocations/a/b`, '/favicon.ico']), [], {}, Buffer.alloc(0), 'omit'),
];

const OTHER_TEMPLATES: readonly Template[] = [
  () => draft('Ping', undefined, 'GET', '/ping'),
  (rng) => draft('Unsigned', undefined, rng.pick(['GET', 'PUT', 'POST', 'HEAD', 'DELETE']), rng.pick(['/', '/endpoints', '/endpoints/echo/invocations', '/fuzz-bucket/obj-1', '/x/y/z'])),
  (rng) => draft('QueryService', rng.pick(['sts', 'iam', 'sns', 'ec2', 'cloudformation']), 'POST', '/', [], { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, Buffer.from(`Action=${rng.pick(['GetCallerIdentity', 'ListUsers', 'Publish', 'DescribeInstances', '', '%zz'])}&Version=2011-06-15`), 'omit'),
  (rng) => draft('JsonService', rng.pick(['dynamodb', 'sqs', 'sagemaker', 'logs', 'kinesis']), 'POST', '/', [], { 'content-type': rng.pick(['application/x-amz-json-1.0', 'application/x-amz-json-1.1']), 'x-amz-target': rng.pick(['DynamoDB_20120810.ListTables', 'AmazonSQS.ListQueues', 'SageMaker.ListEndpoints', 'Logs_20140328.DescribeLogGroups', '', '.', 'NoDot']) }, Buffer.from('{}'), 'omit'),
  (rng, w) => draft('PresignedV4', undefined, rng.pick(['GET', 'PUT', 'HEAD']), rng.chance(0.7) ? `/${w.bucket}/${key(rng, w)}` : `/endpoints/${w.endpoint}/invocations`, [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'], ['X-Amz-Credential', `test%2F${rng.pick(['20261201', '2026', ''])}%2Fus-east-1%2F${rng.pick(['s3', 'sagemaker', 'sts'])}%2Faws4_request`],
    ['X-Amz-Date', rng.pick(['20261201T000000Z', '99999999T999999Z', ''])], ['X-Amz-Expires', rng.pick(['60', ...NUMBERS])], ['X-Amz-SignedHeaders', rng.pick(['host', 'Host;a', ''])], ['X-Amz-Signature', rng.pick(['0'.repeat(64), 'zz', ''])],
  ]),
  (rng, w) => draft('PresignedV2', undefined, rng.pick(['GET', 'PUT']), `/${w.bucket}/${key(rng, w)}`, [['AWSAccessKeyId', rng.pick(['test', 'nobody', '%zz'])], ['Expires', rng.pick(['99999999999', ...NUMBERS])], ['Signature', rng.pick(['AAAA', '%zz', '+/+/', ''])], ['response-content-type', 'text/plain']]),
  (rng) => draft('RestService', rng.pick(['lambda', 'route53', 'cloudfront', 'execute-api']), 'GET', rng.pick(['/2015-03-31/functions/', '/2013-04-01/hostedzone', '/', '/%zz']), [['MaxItems', '1']], {}, Buffer.alloc(0), 'omit'),
];

const QUERY_NAMES = ['max-keys', 'prefix', 'delimiter', 'marker', 'continuation-token', 'start-after', 'encoding-type', 'list-type', 'uploadId', 'partNumber', 'max-parts', 'part-number-marker', 'response-content-type', 'response-content-language', 'response-expires', 'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'waitSeconds', 'unlessStatus', 'location', 'uploads', 'delete', 'versionId', 'acl', 'tagging', 'x-id', 'X-Amz-Expires', 'Action'];
const HEADER_NAMES = ['range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'content-md5', 'content-type', 'content-encoding', 'expires', 'cache-control', 'x-amz-checksum-crc32', 'x-amz-checksum-crc32c', 'x-amz-checksum-crc64nvme', 'x-amz-checksum-sha1', 'x-amz-checksum-sha256', 'x-amz-sdk-checksum-algorithm', 'x-amz-checksum-algorithm', 'x-amz-trailer', 'x-amz-copy-source', 'x-amz-metadata-directive', 'x-amz-meta-fuzz', 'x-amz-decoded-content-length', 'x-amz-copy-source-if-match', 'x-amz-copy-source-if-modified-since', 'x-amz-checksum-mode', 'accept', 'host', 'x-amzn-sagemaker-content-type', 'x-amzn-sagemaker-accept', 'x-amzn-sagemaker-custom-attributes', 'x-amzn-sagemaker-inference-id', 'x-amzn-sagemaker-inputlocation', 'x-amzn-sagemaker-s3outputpathextension', 'x-amzn-sagemaker-filename', 'x-amzn-sagemaker-requestttlseconds', 'x-amzn-sagemaker-invocationtimeoutseconds', 'x-amzn-sagemaker-target-variant', 'x-amzn-sagemaker-session-id', 'x-amzn-sagemaker-target-model', 'x-amz-target', 'expect'];

/** Mutations applied before signing: the signature stays valid, so the handlers see them. */
const MUTATIONS: Readonly<Record<string, (rng: Prng, d: Draft) => void>> = {
  queryValue: (rng, d) => {
    if (d.query.length === 0) d.query.push([rng.pick(QUERY_NAMES), encodedValue(rng)]);
    else (d.query[rng.int(d.query.length)] as [string, string | undefined])[1] = encodedValue(rng);
  },
  queryAdd: (rng, d) => void d.query.push([rng.chance(0.8) ? rng.pick(QUERY_NAMES) : encodedValue(rng), rng.chance(0.2) ? undefined : encodedValue(rng)]),
  header: (rng, d) => {
    const name = rng.pick(HEADER_NAMES);
    if (name === 'expect') d.headers[name] = '100-continue';
    else if (name === 'host') d.headers[name] = rng.pick(['fuzz-bucket.localhost', 'No_Such.localhost', 'a.b.localhost:1', textValue(rng)]);
    else d.headers[name] = headerValueFor(rng, name);
  },
  path: (rng, d) => {
    const segments = d.path.split('/');
    const i = 1 + rng.int(Math.max(1, segments.length - 1));
    segments[i] = rng.chance(0.5) ? encodedValue(rng) : `${segments[i] ?? ''}${encodedValue(rng)}`;
    d.path = segments.join('/');
  },
  body: (rng, d) => {
    if (d.chunks !== undefined) mutateChunks(rng, d);
    else if (d.body.length > 0 && d.body[0] === 0x3c) d.body = Buffer.from(xmlDocument(rng, d.template === 'DeleteObjects' ? 'Delete' : 'CompleteMultipartUpload', completeXml(rng)));
    else d.body = rng.chance(0.5) ? rng.bytes(rng.int(400)) : Buffer.from(textValue(rng), 'latin1');
  },
  method: (rng, d) => void (d.method = rng.pick(['GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'TRACE'])),
  payloadMode: (rng, d) => {
    d.payload = rng.pick(['sha256', 'unsigned', 'omit', 'streaming-signed', 'streaming-signed-trailer', 'streaming-trailer'] as const);
    if (d.payload.startsWith('streaming') && d.chunks === undefined) d.chunks = [{ data: d.body }];
  },
};

function mutateChunks(rng: Prng, d: Draft): void {
  const chunks = d.chunks ?? [];
  const i = rng.int(chunks.length);
  const frame = chunks[i] ?? { data: Buffer.alloc(0) };
  const sizes = ['zz', '-1', 'fffffffffffffff', '', ' 5', '0x5', '1'.repeat(20), (frame.data.length + 1).toString(16), Math.max(0, frame.data.length - 1).toString(16), '0'];
  switch (rng.int(4)) {
    case 0: chunks[i] = { ...frame, sizeText: rng.pick(sizes) }; break;
    case 1: chunks[i] = { ...frame, signature: rng.pick(['0'.repeat(64), 'x', '', 'A'.repeat(64)]) }; break;
    case 2: d.trailers = { [rng.pick(['x-amz-checksum-crc32', 'x-amz-checksum-sha256', 'x-amz-trailer-signature', 'bogus'])]: textValue(rng) }; break;
    default: d.headers['x-amz-decoded-content-length'] = rng.pick(NUMBERS);
  }
}

const PAYLOAD_HASH: Readonly<Record<PayloadMode, string | undefined>> = {
  sha256: undefined,
  omit: undefined,
  unsigned: 'UNSIGNED-PAYLOAD',
  'streaming-signed': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'streaming-signed-trailer': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'streaming-trailer': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
};

function rawUrlOf(d: Draft): string {
  return d.query.length === 0 ? d.path : `${d.path}?${d.query.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join('&')}`;
}

/** Signs a draft and frames its body; content-length is added after signing (it is not signed). */
function signAndFrame(d: Draft, host: string): { headers: Record<string, string>; body: Buffer } {
  const rawUrl = rawUrlOf(d);
  const streaming = d.payload.startsWith('streaming');
  const headers = { ...d.headers };
  if (streaming) {
    headers['content-encoding'] ??= 'aws-chunked';
    headers['x-amz-decoded-content-length'] ??= String((d.chunks ?? []).reduce((n, c) => n + c.data.length, 0));
    if (d.trailers !== undefined) headers['x-amz-trailer'] ??= Object.keys(d.trailers).join(',');
  }
  if (d.service === undefined) return { headers: { host, ...headers }, body: streaming ? awsChunked(d.chunks ?? [], undefined, d.trailers) : d.body };
  const payloadHash = PAYLOAD_HASH[d.payload] ?? sha256Hex(d.body);
  const signed = signRaw({ method: d.method, rawUrl, host, headers, payloadHash, service: d.service, omitPayloadHeader: d.payload === 'omit' });
  const body = !streaming ? d.body : awsChunked(d.chunks ?? [], d.payload === 'streaming-trailer' ? undefined : signed.chunk, d.trailers);
  return { headers: signed.headers, body };
}

/** Mutations after signing: the request no longer verifies. */
function breakSignature(rng: Prng, headers: Record<string, string>): string {
  const auth = headers['authorization'] ?? '';
  switch (rng.int(5)) {
    case 0: headers['authorization'] = auth.slice(0, -1) + (auth.endsWith('0') ? '1' : '0'); return 'badSignature';
    case 1: delete headers['x-amz-date']; return 'noDate';
    case 2: headers['authorization'] = auth.replace('Credential=test/', 'Credential=nobody/'); return 'unknownKey';
    case 3: headers['authorization'] = textValue(rng).replace(/^/, rng.chance(0.5) ? 'AWS4-HMAC-SHA256 ' : ''); return 'junkAuthorization';
    default: headers['x-amz-date'] = '20000101T000000Z'; return 'staleDate';
  }
}

/** Builds request `index`: a template, 0–3 mutations, mostly signed; a few framing and junk cases. */
export function fuzzRequest(rng: Prng, w: FuzzWorld, index: number): FuzzRequest {
  const roll = rng.int(100);
  if (roll < 2) {
    const junk = Buffer.concat([Buffer.from(rng.pick(['GET ', 'PUT /a ', '\x00\x01', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5', 'GET /%zz HTTP/1.1\r\nHost: \u00e9']), 'latin1'), rng.bytes(rng.int(60)), Buffer.from('\r\n\r\n')]);
    return { index, label: 'junk', bytes: junk, head: false, closeAfter: true, junk: true, abort: false };
  }
  const pool = roll < 45 ? S3_TEMPLATES : roll < 85 ? SAGEMAKER_TEMPLATES : OTHER_TEMPLATES;
  const d = rng.pick(pool)(rng, w);
  const names = Object.keys(MUTATIONS);
  for (let n = rng.int(4); n > 0; n--) {
    const name = rng.pick(names);
    MUTATIONS[name]?.(rng, d);
    d.mutations.push(name);
  }
  const { headers, body } = signAndFrame(d, w.host);
  let closeAfter = false;
  if (d.service !== undefined && rng.chance(0.08)) d.mutations.push(breakSignature(rng, headers));
  if (rng.chance(0.03)) {
    const name = rng.pick(Object.keys(headers));
    headers[name] = `${headers[name] ?? ''}\r\n${name}: ${rng.chance(0.5) ? headers[name] ?? '' : textValue(rng)}`; // the header line twice
    d.mutations.push(`duplicate:${name}`);
  }
  const label = (): string => `${d.template} [${d.mutations.join(',')}]`;
  if (body.length > 0 && rng.chance(0.02)) {
    d.mutations.push('abortMidBody');
    headers['content-length'] = String(body.length + 1 + rng.int(100_000));
    return { index, label: label(), bytes: requestBytes(d.method, rawUrlOf(d), headers, body.subarray(0, rng.int(body.length))), head: false, closeAfter: true, junk: false, abort: true };
  }
  if (rng.chance(0.03)) {
    d.mutations.push('transferChunked');
    headers['transfer-encoding'] = 'chunked';
    const framed = body.length === 0 ? Buffer.from('0\r\n\r\n') : Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
    return { index, label: label(), bytes: requestBytes(d.method, rawUrlOf(d), headers, framed), head: d.method === 'HEAD', closeAfter, junk: false, abort: false };
  }
  let length = body.length;
  if (body.length > 0 && rng.chance(0.02)) {
    d.mutations.push('shortContentLength');
    length = rng.int(body.length);
    closeAfter = true;
  }
  headers['content-length'] = String(length);
  return { index, label: label(), bytes: requestBytes(d.method, rawUrlOf(d), headers, body), head: d.method === 'HEAD', closeAfter, junk: false, abort: false };
}
