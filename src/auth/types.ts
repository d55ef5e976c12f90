/**
 * Types shared by the SigV4 verifier and the payload decoders.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** The parts of an HTTP request that a signature covers. */
export interface SignableRequest {
  readonly method: string;
  /** Path and query exactly as received on the request line (still percent-encoded). */
  readonly rawUrl: string;
  /** Node's header object (lower-case names). */
  readonly headers: IncomingHttpHeaders;
  /**
   * Optional: node's `req.headersDistinct` (every occurrence of each header separately). When
   * given, repeated headers are joined with `,` exactly as SigV4 requires; without it node's
   * `headers` object is used, which joins most repeated headers with `, ` and drops some.
   */
  readonly headersDistinct?: Readonly<Record<string, readonly string[] | undefined>>;
}

/** How the request body is bound to the signature. */
export type PayloadMode =
  /** `x-amz-content-sha256` is a hex SHA-256: the body must hash to it. */
  | { readonly kind: 'sha256'; readonly hash: string }
  /** `UNSIGNED-PAYLOAD` (and every presigned request): the body is not covered. */
  | { readonly kind: 'unsigned' }
  /** `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`: aws-chunked with a signature per chunk (and a signed trailer). */
  | { readonly kind: 'streaming-signed'; readonly trailer: boolean }
  /** `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: aws-chunked without chunk signatures, trailing checksum. */
  | { readonly kind: 'streaming-unsigned-trailer' }
  /** No `x-amz-content-sha256` (botocore on non-S3 services): the signature already covered the body hash the caller computed. */
  | { readonly kind: 'computed' };

/** What is needed to verify chunk signatures of a streaming-signed body. */
export interface ChunkSigningContext {
  /** Signature of the request headers: the first "previous signature". */
  readonly seedSignature: string;
  readonly signingKey: Buffer;
  /** `YYYYMMDD/region/service/aws4_request`. */
  readonly scope: string;
  /** `YYYYMMDD'T'HHMMSS'Z'`. */
  readonly amzDate: string;
}

/** The outcome of a successful verification. */
export interface AuthResult {
  readonly accessKeyId: string;
  /** Service from the credential scope, e.g. `s3` or `sagemaker`. */
  readonly service: string;
  readonly region: string;
  readonly presigned: boolean;
  readonly payload: PayloadMode;
  /** Present when `payload.kind === 'streaming-signed'`. */
  readonly chunkSigning?: ChunkSigningContext;
}

/** Looks up the secret for an access key id. */
export interface CredentialLookup {
  secretFor(accessKeyId: string): string | undefined;
}
