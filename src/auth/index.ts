/** Public surface of the auth feature: SigV4 verification, body decoding and upload checksums. */
export { SigV4Verifier, buildCanonicalRequest, payloadModeOf, MAX_PRESIGNED_EXPIRES_SECONDS } from './sigv4.js';
export type { CanonicalRequestInput, CheckedClaims, SigV4VerifierOptions, VerifyOptions } from './sigv4.js';
export { claimedService, parseRequestCredentials } from './credentials.js';
export type { RequestCredentials } from './credentials.js';
export type { Claims } from './claims.js';
export { createPayloadDecoder } from './payload.js';
export type { PayloadDecoder } from './payload.js';
export { createChecksumVerifier, computeChecksum, checksumHeaderName, CHECKSUM_ALGORITHMS } from './checksums.js';
export type { ChecksumVerifier, ChecksumVerifierOptions } from './checksums.js';
export { combineCrcs, compositeChecksum, isCombinable } from './checksum-combine.js';
export type { CombinableAlgorithm } from './checksum-combine.js';
export { deriveSigningKey, EMPTY_SHA256, SIGV4_ALGORITHM } from './keys.js';
export type { AuthResult, ChunkSigningContext, CredentialLookup, PayloadMode, SignableRequest } from './types.js';
export { verifySigV2Presigned } from './sigv2.js';
export type { SigV2Claims } from './sigv2.js';
export { signRequest } from './sign.js';
export type { RequestToSign } from './sign.js';
