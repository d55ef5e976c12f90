/**
 * The light entry of the auth feature: client-side SigV4 signing for inferq's own commands,
 * without the payload decoders and checksum streams index.ts also loads (start-up time of
 * `inferq invoke` and `status`, bench/cli.ts). Also exported by index.ts.
 */
export { signRequest } from './sign.js';
export type { RequestToSign } from './sign.js';
