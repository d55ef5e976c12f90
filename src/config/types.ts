/**
 * The shapes of the resolved configuration: what `resolveConfig` hands to the composition root
 * (validated, defaults applied, frozen), and the command-line overrides it accepts.
 */
import type { LogLevel } from '../util/index.js';

/** Command-line overrides (each wins over the file). */
export interface ConfigOverrides {
  readonly configFile?: string;
  readonly host?: string;
  readonly port?: number;
  readonly dataDir?: string;
}

/** A credential pair. */
export interface Credential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** An `s3://bucket/prefix` location (prefix without leading or trailing slash, may be empty). */
export interface S3Path {
  readonly bucket: string;
  readonly prefix: string;
}

/** How an endpoint's model runs. */
export type ModelConfig =
  | { readonly kind: 'url'; readonly url: string; readonly pingIntervalMs: number }
  | { readonly kind: 'command'; readonly command: readonly string[]; readonly env: Readonly<Record<string, string>>; readonly cwd?: string; readonly startTimeoutMs: number; readonly pingIntervalMs: number }
  | { readonly kind: 'builtin'; readonly builtin: 'echo' | 'vad'; readonly startTimeoutMs: number; readonly pingIntervalMs: number };

/** Where a topic's messages go. */
export type TopicTarget =
  | { readonly kind: 'webhook'; readonly url: string; readonly secret: string; readonly timeoutMs: number }
  | {
      readonly kind: 'sns';
      readonly topicArn: string;
      /** Undefined for AWS. */
      readonly endpoint?: string;
      readonly region: string;
      /** Undefined: the AWS default credential chain. */
      readonly credentials?: Credential;
    };

/** A named entry of `topics:`. */
export interface TopicConfig {
  readonly name: string;
  readonly target: TopicTarget;
}

/** An endpoint's `async.notification` (topics resolved by name). */
export interface EndpointNotificationConfig {
  readonly successTopic?: string;
  readonly errorTopic?: string;
  readonly includeBodyOnSuccess: boolean;
  readonly includeBodyOnError: boolean;
}

/** Delivery retry policy (the `notifications:` section) in ms. */
export interface NotificationsConfig {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly maxAgeMs: number;
  readonly pollIntervalMs: number;
}

/** One served endpoint. */
export interface EndpointConfig {
  readonly name: string;
  readonly model: ModelConfig;
  /** For command and built-in models; url models are one instance. */
  readonly instances: {
    readonly min: number;
    readonly max: number;
    readonly targetBacklogPerInstance: number;
    readonly idleTimeoutMs: number;
  };
  readonly realtime: {
    readonly maxBodyBytes: number;
    readonly timeoutMs: number;
    readonly startTimeoutMs: number;
    readonly maxWaiting: number;
  };
  readonly async: {
    readonly output: S3Path;
    readonly failure: S3Path;
    readonly maxConcurrentInvocations: number;
    readonly maxAttempts: number;
    /** Undefined: no notifications. */
    readonly notification?: EndpointNotificationConfig;
    /** The retry policy of failed model calls; undefined: none. */
    readonly retry?: RetryPolicy;
  };
}

/** A resolved `async.retry`. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly on: readonly ('5xx' | '429' | 'timeout' | 'connection')[];
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

/** Where objects live: the embedded store in the data directory, or an S3 API. */
export type ObjectsConfig =
  | { readonly backend: 'local' }
  | {
      readonly backend: 's3';
      readonly s3: {
        /** Undefined for AWS S3. */
        readonly endpoint?: string;
        readonly region: string;
        readonly forcePathStyle: boolean;
        /** Undefined: the AWS default credential chain. */
        readonly credentials?: Credential;
      };
    };

/** Where asynchronous requests are stored (the `queue:` section). */
export type QueueConfig =
  | { readonly backend: 'sqlite' }
  | {
    readonly backend: 'postgres';
    /** The connection URL as configured (it may hold the password). */
    readonly url: string;
    /** PGPASSWORD, when the URL carries no password. */
    readonly password?: string;
    readonly schema: string;
    /** Pooled connections of this process (one more is held for LISTEN). */
    readonly maxConnections: number;
  };

/** The validated, frozen configuration handed to the composition root. */
export interface ResolvedConfig {
  readonly server: {
    readonly host: string;
    readonly port: number;
    /** Absolute path. */
    readonly dataDir: string;
    readonly region: string;
    /** See the `server.account` key. */
    readonly account: string;
    /** See the `server.s3VirtualHostDomain` key. */
    readonly s3VirtualHostDomain: string;
    readonly credentials: readonly Credential[];
    /** True when the development pair is in force because none was configured. */
    readonly usingDevCredentials: boolean;
    readonly maxClockSkewSeconds: number;
    readonly shutdownGraceSeconds: number;
    readonly logLevel: LogLevel;
    /** See the `server.logFormat` key. */
    readonly logFormat: 'text' | 'json';
    /** See the `server.accessLog` key. */
    readonly accessLog: boolean;
    /** See the `server.metrics` keys. */
    readonly metrics: { readonly enabled: boolean; readonly bearerToken?: string };
    readonly inputUrlAllowList: readonly string[];
    readonly maxBacklogPerEndpoint: number;
    /** See the `server.queueDurability` key. */
    readonly queueDurability: 'power-loss' | 'process-crash';
    /** See the `server.maxUnverifiedBodyBytes` key. */
    readonly maxUnverifiedBodyBytes: number;
    /** See the `server.bodyTimeoutSeconds` key. */
    readonly bodyTimeoutSeconds: number;
    /** See the `server.requestRetentionSeconds` key (0: forever). */
    readonly requestRetentionSeconds: number;
  };
  readonly endpoints: readonly EndpointConfig[];
  /** See the `images` key: the configured images and the built-in `inferq/echo` and `inferq/vad`. */
  readonly images: Readonly<Record<string, ImageModel>>;
  readonly worker: {
    readonly enabled: boolean;
    readonly leaseSeconds: number;
    readonly sweepIntervalSeconds: number;
    /** See the `worker.storageRetryInitialSeconds` key. */
    readonly storageRetryInitialSeconds: number;
    /** See the `worker.storageRetryMaxSeconds` key. */
    readonly storageRetryMaxSeconds: number;
    /** See the `worker.listen` key. */
    readonly listen: { readonly host: string; readonly port: number };
    /** See the `worker.advertiseUrl` key. */
    readonly advertiseUrl?: string;
    /**
     * The key of the forwarding hop's HMAC: `worker.forwardSecret` or INFERQ_FORWARD_SECRET, else
     * (loopback listener only) derived from the accepted `server.credentials`.
     */
    readonly forwardKey: string;
    /** See the `worker.routeIntervalSeconds` key. */
    readonly routeIntervalSeconds: number;
  };
  /** See the `objects` section. */
  readonly objects: ObjectsConfig;
  readonly queue: QueueConfig;
  /** The `topics:` section by name. */
  readonly topics: Readonly<Record<string, TopicConfig>>;
  readonly notifications: NotificationsConfig;
  /** The environment `command` models inherit (the server's own). */
  readonly modelBaseEnv: Readonly<Record<string, string | undefined>>;
  /** The file the configuration came from, if any. */
  readonly sourceFile?: string;
}

/** The model a control-plane container image stands for (the `images` key). */
export type ImageModel =
  | { readonly kind: 'builtin'; readonly builtin: 'echo' | 'vad' }
  | { readonly kind: 'command'; readonly command: readonly string[]; readonly env: Readonly<Record<string, string>>; readonly cwd?: string }
  | { readonly kind: 'url'; readonly url: string };
