/**
 * The dashboard's HTTP routes under `/ui/`: the page and its assets, and the JSON calls under
 * `/ui/api/…` (sign-in, overview, requests, invoke, cancel, retry). Everything is read through the
 * same functions the SageMaker Runtime API uses (status, submit, describe), never the database.
 * Only unsigned requests reach these routes (see {@link ownsRequest}): a signed `/ui/…` request
 * stays an S3 path-style call of bucket `ui`, and the session cookie is never a credential there.
 */
import { hash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { CredentialLookup } from '../auth/index.js';
import { InferqError, toInferqError } from '../errors/index.js';
import type { EndpointStatusDoc, RuntimeApi } from '../runtime/index.js';
import type { Clock, Logger } from '../util/index.js';
import { asset } from './assets.js';
import type { ActivityHistory } from './history.js';
import { presignedPath } from './presign.js';
import { SessionStore, type Session } from './session.js';

/** Request listing and lifecycle control, when the queue backend offers it (all optional: missing ones hide their buttons). */
export interface RequestControl {
  readonly list?: (endpoint: string, status: string | undefined, limit: number) => Promise<readonly Record<string, unknown>[]>;
  readonly cancel?: (endpoint: string, inferenceId: string) => Promise<Record<string, unknown>>;
  readonly retry?: (endpoint: string, inferenceId: string) => Promise<Record<string, unknown>>;
}

/** What the dashboard needs. */
export interface UiDeps {
  readonly runtime: Pick<RuntimeApi, 'status' | 'submitAsync' | 'describeAsync'>;
  readonly credentials: CredentialLookup;
  /** The development pair, when it is in force (loopback bind, none configured): the sign-in form is prefilled with it. */
  readonly devCredentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region: string;
  readonly history: ActivityHistory;
  readonly control: RequestControl;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The dashboard front. */
export interface UiApi {
  /** Serves one `/ui` request; resolves with the operation name for the request log. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<string>;
}

const SIGNED_QUERY = /[?&](X-Amz-Algorithm|X-Amz-Credential|X-Amz-Signature|Signature|AWSAccessKeyId)=/i;

/**
 * Whether the dashboard serves this request: path `/ui` or below, and no AWS authentication
 * (no `Authorization` header, no presigned query). Signed requests keep their S3/SageMaker meaning.
 */
export function ownsRequest(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  if (!(url === '/ui' || url.startsWith('/ui/') || url.startsWith('/ui?'))) return false;
  return req.headers.authorization === undefined && !SIGNED_QUERY.test(url);
}

/** Largest body of a dashboard call (the Invoke form sends its payload inline: 128,000 bytes at most). */
const MAX_BODY = 256 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new InferqError('EntityTooLarge', `A dashboard call may carry at most ${MAX_BODY} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, type: string, body: Buffer | string, extra: Record<string, string> = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, Object.assign({ 'Content-Type': type, 'Content-Length': String(bytes.length), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' }, extra));
  res.end(bytes);
}

function sendJson(res: ServerResponse, doc: unknown, status = 200, extra: Record<string, string> = {}): void {
  send(res, status, 'application/json', JSON.stringify(doc), extra);
}

const SignIn = z.object({ accessKeyId: z.string().min(1).max(128), secretAccessKey: z.string().min(1).max(256) });

/** How many recent requests the list shows. */
const RECENT_LIMIT = 25;

const STATUSES = ['Queued', 'Running', 'Succeeded', 'Failed', 'Expired', 'Cancelled'] as const;

async function jsonBody<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new InferqError('InvalidArgument', 'Send this call as application/json.');
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readBody(req)).toString('utf8'));
  } catch (err) {
    if (err instanceof InferqError) throw err;
    throw new InferqError('InvalidArgument', 'The body is not valid JSON.');
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new InferqError('InvalidArgument', `Invalid body: ${result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  return result.data;
}

/** The page's Content-Security-Policy: everything from inferq itself, nothing inline but styles (uPlot sets them). */
const PAGE_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InferqError('InvalidArgument', 'A path segment is not valid percent-encoding.');
  }
}

/** Creates the dashboard's routes. */
export function createUiApi(deps: UiDeps): UiApi {
  const sessions = new SessionStore(deps.credentials, deps.clock);
  const uiInvoked = new Map<string, string[]>();

  const links = (req: IncomingMessage, session: Session, doc: Record<string, unknown>): Record<string, unknown> => {
    const secret = deps.credentials.secretFor(session.accessKeyId);
    const host = req.headers.host;
    const out: Record<string, unknown> = {};
    for (const field of ['OutputLocation', 'FailureLocation'] as const) {
      const location = doc[field];
      if (typeof location !== 'string' || secret === undefined || host === undefined) continue;
      const path = presignedPath({ location, host, region: deps.region, accessKeyId: session.accessKeyId, secretAccessKey: secret, now: new Date(deps.clock.now()) });
      if (path !== undefined) out[field === 'OutputLocation' ? 'OutputUrl' : 'FailureUrl'] = path;
    }
    return Object.assign({}, doc, out);
  };

  const overview = async (): Promise<unknown> => {
    const docs: readonly EndpointStatusDoc[] = await deps.runtime.status();
    return {
      endpoints: docs.map((d) => Object.assign({}, d, { PerMinute: deps.history.perMinute(d.EndpointName) })),
      series: deps.history.series(),
    };
  };

  const requests = async (req: IncomingMessage, session: Session, query: URLSearchParams): Promise<unknown> => {
    const endpoint = query.get('endpoint') ?? '';
    const status = query.get('status') ?? undefined;
    if (status !== undefined && status !== '' && !(STATUSES as readonly string[]).includes(status)) throw new InferqError('InvalidArgument', `status must be one of ${STATUSES.join(', ')}`);
    const wanted = status === '' ? undefined : status;
    let docs: readonly Record<string, unknown>[];
    if (deps.control.list) docs = await deps.control.list(endpoint, wanted, RECENT_LIMIT);
    else {
      // Without a lister: the requests sent from this dashboard, newest first.
      const ids = uiInvoked.get(endpoint) ?? [];
      const found = await Promise.all(ids.map((id) => deps.runtime.describeAsync(endpoint, id)));
      docs = found.filter((d): d is Record<string, unknown> => d !== undefined && (wanted === undefined || d['Status'] === wanted));
    }
    return { requests: docs.map((d) => links(req, session, d)), listed: deps.control.list !== undefined };
  };

  const invoke = async (req: IncomingMessage, query: URLSearchParams): Promise<unknown> => {
    const endpoint = query.get('endpoint') ?? '';
    const bytes = await readBody(req);
    const contentType = req.headers['content-type'];
    const headers = contentType !== undefined && contentType !== '' ? { 'x-amzn-sagemaker-content-type': contentType } : {};
    const { job } = await deps.runtime.submitAsync(endpoint, headers, { bytes, sha256Hex: hash('sha256', bytes, 'hex') });
    const list = uiInvoked.get(job.endpoint) ?? [];
    list.unshift(job.inferenceId);
    uiInvoked.set(job.endpoint, list.slice(0, RECENT_LIMIT));
    return { InferenceId: job.inferenceId, EndpointName: job.endpoint };
  };

  /** The calls that need no session: the page, its assets, the session state and sign-in. Undefined when `path` is none of them. */
  const publicRoute = async (req: IncomingMessage, res: ServerResponse, method: string, path: string): Promise<string | undefined> => {
    if (path === '/ui' && method === 'GET') {
      res.writeHead(302, { Location: '/ui/', 'Content-Length': '0' }).end();
      return 'ui:redirect';
    }
    if (method === 'GET' && (path === '/ui/' || path.startsWith('/ui/assets/'))) {
      const file = asset(path === '/ui/' ? 'index.html' : path.slice('/ui/assets/'.length));
      if (file === undefined) throw new InferqError('NoSuchKey', `No dashboard asset at ${path}.`);
      send(res, 200, file.type, file.body, path === '/ui/' ? { 'Content-Security-Policy': PAGE_POLICY } : {});
      return 'ui:asset';
    }
    if (path === '/ui/api/session' && method === 'GET') {
      const session = sessions.find(req);
      const { list, cancel, retry } = deps.control;
      sendJson(res, session
        ? { signedIn: true, accessKeyId: session.accessKeyId, csrfToken: session.csrfToken, capabilities: { list: list !== undefined, cancel: cancel !== undefined, retry: retry !== undefined } }
        : { signedIn: false, ...(deps.devCredentials ? { prefill: deps.devCredentials } : {}) });
      return 'ui:session';
    }
    if (path === '/ui/api/sign-in' && method === 'POST') {
      const body = await jsonBody(req, SignIn);
      const session = sessions.signIn(body.accessKeyId, body.secretAccessKey, req.socket.remoteAddress ?? '');
      sendJson(res, { signedIn: true, accessKeyId: session.accessKeyId, csrfToken: session.csrfToken }, 200, { 'Set-Cookie': SessionStore.cookieFor(session) });
      return 'ui:sign-in';
    }
    return undefined;
  };

  /** One request's document, or its cancel or retry. */
  const requestRoute = async (req: IncomingMessage, res: ServerResponse, session: Session, method: string, m: RegExpExecArray): Promise<string | undefined> => {
    const endpoint = decoded(m[1]!);
    const id = decoded(m[2]!);
    const verb = m[3];
    if (verb === undefined && method === 'GET') {
      const doc = await deps.runtime.describeAsync(endpoint, id);
      if (doc === undefined) throw new InferqError('ValidationError', `Inference ${id} of endpoint ${endpoint} not found.`);
      sendJson(res, links(req, session, doc));
      return 'ui:request';
    }
    if (verb === undefined || method !== 'POST') return undefined;
    const action = verb === 'cancel' ? deps.control.cancel : deps.control.retry;
    if (action === undefined) throw new InferqError('NotImplemented', `This inferq does not support ${verb} yet.`);
    sendJson(res, await action(endpoint, id));
    return `ui:${verb}`;
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<string> => {
    const url = new URL(req.url ?? '/', 'http://ui');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const open = await publicRoute(req, res, method, path);
    if (open !== undefined) return open;
    if (!path.startsWith('/ui/api/')) throw new InferqError('NoSuchKey', `No dashboard page at ${path}.`);
    const session = sessions.require(req, method !== 'GET' && method !== 'HEAD');
    if (path === '/ui/api/sign-out' && method === 'POST') {
      sessions.signOut(session.id);
      sendJson(res, { signedIn: false }, 200, { 'Set-Cookie': SessionStore.clearedCookie() });
      return 'ui:sign-out';
    }
    if (path === '/ui/api/overview' && method === 'GET') {
      sendJson(res, await overview());
      return 'ui:overview';
    }
    if (path === '/ui/api/requests' && method === 'GET') {
      sendJson(res, await requests(req, session, url.searchParams));
      return 'ui:requests';
    }
    if (path === '/ui/api/invoke' && method === 'POST') {
      sendJson(res, await invoke(req, url.searchParams), 202);
      return 'ui:invoke';
    }
    const m = /^\/ui\/api\/requests\/([^/]+)\/([^/]+)(?:\/(cancel|retry))?$/.exec(path);
    const served = m ? await requestRoute(req, res, session, method, m) : undefined;
    if (served !== undefined) return served;
    throw new InferqError('MethodNotAllowed', `The dashboard serves no ${method} ${path}.`);
  };

  return {
    async handle(req, res) {
      try {
        return await route(req, res);
      } catch (raw) {
        const err = toInferqError(raw);
        if (err.code === 'InternalError') deps.logger.error('dashboard request failed', { url: req.url, error: raw instanceof Error ? raw.stack : String(raw) });
        if (!req.complete) req.resume();
        if (!res.headersSent) sendJson(res, { code: err.code, message: err.message }, err.httpStatus);
        else res.destroy();
        return `ui!${err.code}`;
      }
    },
  };
}
