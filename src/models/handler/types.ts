/**
 * The contract between `inferq model serve` and a handler module: what `invoke` receives
 * ({@link HandlerContext}), what it may return (bytes, a string, a JSON value, or an explicit
 * {@link HandlerResult} made with {@link result}), and how a thrown error picks its HTTP status.
 */

/** Request details passed to a handler's `invoke` besides the body. */
export interface HandlerContext {
  /** The request's Content-Type, when it had one. */
  readonly contentType?: string;
  /** The request's Accept header, when it had one. */
  readonly accept?: string;
  /** The request's `X-Amzn-SageMaker-Custom-Attributes`, when it had one. */
  readonly customAttributes?: string;
  /** The request's `X-Amzn-SageMaker-Inference-Id`, when it had one. */
  readonly inferenceId?: string;
}

/** A response body: bytes, text, or any JSON-serialisable value. */
export type HandlerBody = Buffer | Uint8Array | string | JsonValue;

/** A JSON-serialisable value. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * The brand that marks an explicit result. Registered globally (`Symbol.for`) so a handler that
 * bundles its own copy of inferq, or builds the object by hand, is still recognised.
 */
export const HANDLER_RESULT: unique symbol = Symbol.for('inferq.handler-result');

/** An explicit response: body plus status, content type and custom attributes. Make it with {@link result}. */
export interface HandlerResult {
  readonly [HANDLER_RESULT]: true;
  readonly body: HandlerBody;
  /** Default: `application/octet-stream` for bytes, `text/plain; charset=utf-8` for strings, else `application/json`. */
  readonly contentType?: string;
  /** HTTP status, 200 to 599. @default 200 */
  readonly status?: number;
  /** Sent back as `X-Amzn-SageMaker-Custom-Attributes`. */
  readonly customAttributes?: string;
}

/**
 * Builds an explicit {@link HandlerResult}: plain objects returned from `invoke` are always sent
 * as JSON, so this is how a handler sets the status, the content type or custom attributes.
 * @example
 * return result(png, { contentType: 'image/png', customAttributes: 'frames=3' });
 */
export function result(body: HandlerBody, options: Omit<HandlerResult, typeof HANDLER_RESULT | 'body'> = {}): HandlerResult {
  return { [HANDLER_RESULT]: true, body, ...options };
}

/** True when `value` was made by {@link result} (or carries its brand). */
export function isHandlerResult(value: unknown): value is HandlerResult {
  return typeof value === 'object' && value !== null && (value as Partial<Record<typeof HANDLER_RESULT, unknown>>)[HANDLER_RESULT] === true;
}

/** What a handler module exports. */
export interface HandlerModule {
  /** Called once at start; `/ping` answers 503 until it resolves (500 if it rejects). */
  readonly load?: () => unknown;
  /** Called per `POST /invocations` with the whole body. */
  readonly invoke: (body: Buffer, ctx: HandlerContext) => unknown;
}

/**
 * An error a handler may throw to choose the status (400 to 599); any error with a numeric
 * `statusCode` in that range works the same way.
 * @example
 * throw new HandlerError(400, 'expected a WAV file');
 */
export class HandlerError extends Error {
  constructor(readonly statusCode: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HandlerError';
  }
}
