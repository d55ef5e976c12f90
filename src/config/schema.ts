/**
 * The configuration schema: the one description of every setting, its default and its limits.
 * The YAML file, command-line flags and defaults all pass through it.
 */
import { z } from 'zod';

/** A credential pair accepted for SigV4. */
export const credentialSchema = z.strictObject({
  accessKeyId: z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
  secretAccessKey: z.string().min(1).max(256),
});

/** The `server:` section. */
export const serverSchema = z.strictObject({
  /** Address to bind. @default 127.0.0.1 */
  host: z.string().min(1).default('127.0.0.1'),
  /** TCP port; 0 picks a free one. @default 8080 */
  port: z.number().int().min(0).max(65535).default(8080),
  /** Where objects and queues live. @default ./data */
  dataDir: z.string().min(1).default('./data'),
  /** Region reported by the server (any region is accepted in signatures). @default us-east-1 */
  region: z.string().min(1).default('us-east-1'),
  /** Accepted credentials. Empty on a loopback bind means the development pair test/test. */
  credentials: z.array(credentialSchema).default([]),
  /** Allowed difference between a request's signing time and the server clock. @default 900 */
  maxClockSkewSeconds: z.number().int().min(1).max(86400).default(900),
  /** Seconds to let in-flight requests finish on SIGINT/SIGTERM. @default 10 */
  shutdownGraceSeconds: z.number().min(0).max(3600).default(10),
  /** Log level. @default info */
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

/** The whole configuration file. */
export const configFileSchema = z.strictObject({
  server: serverSchema.default(serverSchema.parse({})),
});

/** The file as written (before defaults). */
export type ConfigFileInput = z.input<typeof configFileSchema>;
/** The file after defaults. */
export type ParsedConfigFile = z.output<typeof configFileSchema>;
