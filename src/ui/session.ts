/**
 * Dashboard sessions: a browser cannot sign SigV4, so it signs in once with an access key id and
 * secret (checked, in constant time, against the configured credentials) and gets a random session
 * id in an `HttpOnly; SameSite=Strict; Path=/ui` cookie. Sessions live in memory only (a restart
 * signs everybody out). Every state-changing call must also send the session's CSRF token in the
 * `X-CSRF-Token` header. Failed sign-ins are limited per client address.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { CredentialLookup } from '../auth/index.js';
import { InferqError } from '../errors/index.js';
import type { Clock } from '../util/index.js';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'inferq_session';

/** Header that carries the CSRF token of state-changing calls. */
export const CSRF_HEADER = 'x-csrf-token';

/** How long a session lasts after sign-in. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** Failed sign-ins allowed per client address per minute. */
export const MAX_FAILED_SIGN_INS = 10;

/** One signed-in browser. */
export interface Session {
  readonly id: string;
  readonly csrfToken: string;
  readonly accessKeyId: string;
  readonly expiresAt: number;
}

function sameSecret(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so the comparison time says nothing about either value.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** The value of cookie `name` in a request, if any. */
export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The in-memory session store with sign-in, lookup and CSRF checks. */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(private readonly credentials: CredentialLookup, private readonly clock: Clock) {}

  /**
   * Checks the pair and opens a session.
   * @throws InferqError SessionRequired for an unknown pair, TooManySignIns past the limit of failures.
   */
  signIn(accessKeyId: string, secretAccessKey: string, client: string): Session {
    const now = this.clock.now();
    const failed = this.failures.get(client);
    if (failed && now - failed.since < 60_000 && failed.count >= MAX_FAILED_SIGN_INS) {
      throw new InferqError('TooManySignIns', 'Too many failed sign-ins; wait a minute and try again.');
    }
    const secret = this.credentials.secretFor(accessKeyId);
    // An unknown id is compared against a dummy too, so both failures take the same time.
    const ok = sameSecret(secret ?? '\u0000unknown', secretAccessKey) && secret !== undefined;
    if (!ok) {
      const fresh = failed === undefined || now - failed.since >= 60_000;
      this.failures.set(client, fresh ? { count: 1, since: now } : { count: failed.count + 1, since: failed.since });
      throw new InferqError('SessionRequired', 'The access key ID or secret access key is not correct.');
    }
    this.failures.delete(client);
    this.sweep(now);
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      csrfToken: randomBytes(32).toString('base64url'),
      accessKeyId,
      expiresAt: now + SESSION_TTL_MS,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The session a request's cookie names, if it is valid and not expired. */
  find(req: IncomingMessage): Session | undefined {
    const id = cookieValue(req, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.clock.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  /**
   * The session of a request, with the CSRF token checked when `stateChanging`.
   * @throws InferqError SessionRequired without a valid session, CsrfTokenInvalid without its token.
   */
  require(req: IncomingMessage, stateChanging: boolean): Session {
    const session = this.find(req);
    if (session === undefined) throw new InferqError('SessionRequired', 'Sign in to use the dashboard.');
    if (stateChanging) {
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !sameSecret(sent, session.csrfToken)) {
        throw new InferqError('CsrfTokenInvalid', 'This call needs the X-CSRF-Token header of the session.');
      }
    }
    return session;
  }

  /** Ends a session. */
  signOut(id: string): void {
    this.sessions.delete(id);
  }

  /** The `Set-Cookie` value for a new session. */
  static cookieFor(session: Session): string {
    return `${SESSION_COOKIE}=${session.id}; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=${Math.floor(SESSION_TTL_MS / 1000)}`;
  }

  /** The `Set-Cookie` value that removes the session cookie. */
  static clearedCookie(): string {
    return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=0`;
  }

  private sweep(now: number): void {
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
    for (const [client, f] of this.failures) if (now - f.since >= 60_000) this.failures.delete(client);
  }
}
