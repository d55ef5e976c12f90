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
  /**
   * The AWS account id inferq reports: in control-plane ARNs (models, endpoint configs, endpoints,
   * scalable targets), STS GetCallerIdentity and runtime error messages. @default 000000000000
   */
  account: z.string().regex(/^\d{12}$/, 'must be 12 digits, like an AWS account id').default('000000000000'),
  /**
   * S3 requests whose Host is `<bucket>.<this domain>` (any port) are virtual-hosted–style; every
   * other Host is path style. An empty string turns virtual hosting off. @default localhost
   */
  s3VirtualHostDomain: z
    .string()
    .regex(/^$|^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i, 'must be a DNS name such as localhost or s3.example.com (or empty: off)')
    .default('localhost'),
  /** Accepted credentials. Empty on a loopback bind means the development pair test/test. */
  credentials: z.array(credentialSchema).default([]),
  /** Allowed difference between a request's signing time and the server clock. @default 900 */
  maxClockSkewSeconds: z.number().int().min(1).max(86400).default(900),
  /** Seconds to let in-flight requests finish on SIGINT/SIGTERM. @default 10 */
  shutdownGraceSeconds: z.number().min(0).max(3600).default(10),
  /** URL prefixes an InputLocation may point at besides the object store (no arbitrary fetches: SSRF). @default [] */
  inputUrlAllowList: z.array(z.url({ protocol: /^https?$/ })).default([]),
  /** Largest queued backlog per endpoint; beyond it InvokeEndpointAsync answers ServiceUnavailable (503). @default 1000000 */
  maxBacklogPerEndpoint: z.number().int().min(1).default(1_000_000),
  /**
   * When InvokeEndpointAsync answers 202: `power-loss` once the request's commit is on stable
   * storage (fdatasync of the queue's write-ahead log); `process-crash` once it is in the
   * write-ahead log (survives a crash or SIGKILL of inferq; the log is synced within 100 ms, so a
   * power cut may lose about the last 0.1 s of requests). @default power-loss
   */
  queueDurability: z.enum(['power-loss', 'process-crash']).default('power-loss'),
  /**
   * Bytes of request bodies held, all requests together, before their signature is checked
   * (SageMaker signs the payload, so its body is read first). Past it, new SageMaker requests
   * with a body get ServiceUnavailable (503) at once. At least the largest
   * `endpoints[].realtime.maxBodyBytes`. @default 67108864 (64 MiB)
   */
  maxUnverifiedBodyBytes: z.number().int().min(1024).max(1024 ** 4).default(64 * 1024 * 1024),
  /** A request body that makes no progress for this long gets 408 RequestTimeout and its connection is closed. @default 30 */
  bodyTimeoutSeconds: z.number().min(0.1).max(3600).default(30),
  /**
   * Seconds a finished asynchronous request (Succeeded, Failed, Expired) stays in the queue
   * database: its status can be read and its InferenceId is idempotent. After that it is deleted
   * (the status API answers not found, the InferenceId may be used again); its output and failure
   * objects stay. 0 keeps finished requests forever. @default 604800 (7 days)
   */
  requestRetentionSeconds: z.number().int().min(0).max(10 * 365 * 86400).default(7 * 86400),
  /** Log level. @default info */
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Log lines as `text` (time, level, name, message, key=value fields) or `json` (one object a line). @default text */
  logFormat: z.enum(['text', 'json']).default('text'),
  /** One info line per HTTP request: request id, operation, endpoint, status, duration, bytes in and out. @default false */
  accessLog: z.boolean().default(false),
  /** `GET /metrics` (Prometheus text format). */
  metrics: z.strictObject({
    /** Serve `GET /metrics`; false answers it 404. @default true */
    enabled: z.boolean().default(true),
    /**
     * Token a scrape must send as `Authorization: Bearer <token>`. Required to scrape a server
     * bound to a non-loopback address (without it such scrapes get 401); on loopback, scrapes need
     * it only when it is set.
     */
    bearerToken: z.string().min(16, 'must be at least 16 characters').max(512).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces').optional(),
  }).default({ enabled: true }),
});

/** An `s3://bucket[/prefix]` location as written in the config. */
const s3PathSchema = z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'must be s3://bucket[/prefix] with a valid bucket name');

/** `model:` of an endpoint: exactly one of `url`, `command` or `builtin`. */
export const modelSchema = z
  .strictObject({
    /** A model server already running (SageMaker container contract). */
    url: z.url({ protocol: /^https?$/ }).optional(),
    /** A process inferq starts with SAGEMAKER_BIND_TO_PORT and PORT set, and supervises. */
    command: z.array(z.string().min(1)).min(1).optional(),
    /** Extra environment for `command`. */
    env: z.record(z.string(), z.string()).optional(),
    /** Working directory for `command` (relative to the config file's directory). */
    cwd: z.string().min(1).optional(),
    /** A model that ships with inferq: `echo` returns the payload unchanged. */
    builtin: z.enum(['echo', 'vad']).optional(),
    /** Seconds a `command` model may take to answer its first /ping. @default 240 */
    startTimeoutSeconds: z.number().int().min(1).max(3600).default(240),
    /** Seconds between health pings. @default 5 */
    pingIntervalSeconds: z.number().min(0.1).max(300).default(5),
  })
  .superRefine((m, ctx) => {
    const kinds = [m.url, m.command, m.builtin].filter((k) => k !== undefined).length;
    if (kinds !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of url, command or builtin' });
    if (m.env !== undefined && m.command === undefined) ctx.addIssue({ code: 'custom', path: ['env'], message: 'env is only for command models' });
    if (m.cwd !== undefined && m.command === undefined) ctx.addIssue({ code: 'custom', path: ['cwd'], message: 'cwd is only for command models' });
  });

/** `async.notification:` of an endpoint (SageMaker's NotificationConfig; topics are names under `topics:`). */
export const notificationConfigSchema = z.strictObject({
  /** Topic told when a request succeeds. */
  successTopic: z.string().min(1).optional(),
  /** Topic told when a request fails or expires. */
  errorTopic: z.string().min(1).optional(),
  /** Topics whose messages carry the response body (≤ 128 KB) as base64 `responseBody`. @default [] */
  includeInferenceResponseIn: z.array(z.enum(['SUCCESS_NOTIFICATION_TOPIC', 'ERROR_NOTIFICATION_TOPIC'])).max(2).default([]),
});

/**
 * One entry of `images:`: the model a SageMaker `PrimaryContainer.Image` stands for, a process
 * (`command`, with `cwd` and `env`) or a server already running (`url`).
 */
export const imageSchema = z
  .strictObject({
    url: z.url({ protocol: /^https?$/ }).optional(),
    command: z.array(z.string().min(1)).min(1).optional(),
    env: z.record(z.string(), z.string()).optional(),
    cwd: z.string().min(1).optional(),
  })
  .superRefine((m, ctx) => {
    if ((m.url === undefined) === (m.command === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of url or command' });
    if (m.env !== undefined && m.command === undefined) ctx.addIssue({ code: 'custom', path: ['env'], message: 'env is only for command images' });
    if (m.cwd !== undefined && m.command === undefined) ctx.addIssue({ code: 'custom', path: ['cwd'], message: 'cwd is only for command images' });
  });

/** Failure classes the retry policy may retry: model answers 5xx or 429, invocation timeouts, lost connections. */
export const RETRY_ON = ['5xx', '429', 'timeout', 'connection'] as const;

/** `async.retry:` of an endpoint: retries of failed model calls (absent: none, a failed call fails the request). */
export const retrySchema = z.strictObject({
  /** Calls of the model per request, the first included. @default 3 */
  maxAttempts: z.number().int().min(1).max(100).default(3),
  /** Which failures are retried. @default [5xx, 429, timeout, connection] */
  on: z.array(z.preprocess((value) => (value === 429 ? '429' : value), z.enum(RETRY_ON))).min(1).default([...RETRY_ON]),
  /** Wait before the first retry; doubles with each retry. @default 1 */
  backoffSeconds: z.number().min(0).max(3600).default(1),
  /** Longest wait between two calls. @default 60 */
  maxBackoffSeconds: z.number().min(0).max(86_400).default(60),
});

/** `async:` of an endpoint. */
export const asyncSchema = z.strictObject({
  /** Notifications of finished requests. */
  notification: notificationConfigSchema.optional(),
  /** Where results go. @default s3://inferq-async/<endpoint>/output */
  outputPath: s3PathSchema.optional(),
  /** Where failures go. @default s3://inferq-async/<endpoint>/failures */
  failurePath: s3PathSchema.optional(),
  /**
   * Calls in flight per model instance, real-time and async together (SageMaker's
   * MaxConcurrentInvocationsPerInstance). When absent: 64 for the built-in echo model (it answers
   * at once, so only many calls in flight keep it busy), 4 for every other model (see
   * resolve.ts DEFAULT_MAX_CONCURRENT_INVOCATIONS). @default 4
   */
  maxConcurrentInvocations: z.number().int().min(1).max(1000).optional(),
  /** Times a request is started before it fails because its workers kept dying. @default 3 */
  maxAttempts: z.number().int().min(1).max(100).default(3),
  /** Retry policy for failed model calls; absent: no retries. */
  retry: retrySchema.optional(),
});

/** `instances:` of an endpoint (command and built-in models). */
export const instancesSchema = z
  .strictObject({
    /** Instances kept running; 0 = scale to zero when idle. @default 1 */
    min: z.number().int().min(0).max(64).default(1),
    /** Most instances under backlog. @default 1 */
    max: z.number().int().min(1).max(64).default(1),
    /** Instances are added while the backlog per instance stays above this (SageMaker's recommended target). @default 5 */
    targetBacklogPerInstance: z.number().min(0.1).max(100000).default(5),
    /** An instance above `min` with nothing to do for this long is stopped. @default 300 */
    idleTimeoutSeconds: z.number().min(1).max(86400).default(300),
  })
  .refine((i) => i.min <= i.max, { message: 'min must not exceed max', path: ['min'] });

/** `realtime:` of an endpoint (InvokeEndpoint and InvokeEndpointWithResponseStream). */
export const realtimeSchema = z.strictObject({
  /** Largest request body. @default 6291456 (6 MB, as SageMaker) */
  maxBodyBytes: z.number().int().min(1).max(1024 ** 3).default(6 * 1024 * 1024),
  /** Model call timeout. @default 60 */
  timeoutSeconds: z.number().min(0.1).max(3600).default(60),
  /** How long a call waits for a healthy model (cold start) before ModelNotReadyException. @default 60 */
  startTimeoutSeconds: z.number().min(0).max(3600).default(60),
  /** Calls waiting for a free slot beyond this are refused with ServiceUnavailable. @default 64 */
  maxWaiting: z.number().int().min(0).max(100000).default(64),
});

/** One entry of `endpoints:`. */
export const endpointSchema = z.strictObject({
  name: z.string().max(63).regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/, 'must match ^[a-zA-Z0-9](-*[a-zA-Z0-9])* (at most 63 characters)'),
  model: modelSchema,
  instances: instancesSchema.default(instancesSchema.parse({})),
  realtime: realtimeSchema.default(realtimeSchema.parse({})),
  async: asyncSchema.default(asyncSchema.parse({})),
});

/** The `worker:` section: how this process runs workers. */
export const workerSchema = z.strictObject({
  /** Run workers inside `serve`. @default true */
  enabled: z.boolean().default(true),
  /** Lease length; a worker renews it every third of this. @default 30 */
  leaseSeconds: z.number().int().min(3).max(3600).default(30),
  /** How often queued requests past their TTL are expired. @default 1 */
  sweepIntervalSeconds: z.number().min(0.1).max(60).default(1),
  /**
   * First wait before an async request whose result inferq's own storage could not take (disk
   * full, read-only) runs again; each further fault of the request doubles it. @default 1
   */
  storageRetryInitialSeconds: z.number().min(0.1).max(3600).default(1),
  /** Longest wait between those retries (at least storageRetryInitialSeconds). @default 30 */
  storageRetryMaxSeconds: z.number().min(0.1).max(3600).default(30),
  /**
   * `host:port` where a process running workers listens for real-time calls that API-only
   * processes forward to it (`[v6]:port` for IPv6; port 0 picks a free one). A non-loopback
   * address needs `forwardSecret`. @default 127.0.0.1:0
   */
  listen: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'must be host:port (e.g. 0.0.0.0:9090, [::]:9090)').default('127.0.0.1:0'),
  /** The URL API processes use to reach `listen` (behind NAT, a container port mapping…). @default the bound address */
  advertiseUrl: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * The shared secret that authenticates forwarded calls between API and worker processes (or
   * the INFERQ_FORWARD_SECRET environment variable); at least 16 characters. Without it, the
   * listener must be loopback and the key is derived from `server.credentials`.
   */
  forwardSecret: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Seconds between a worker's route publications; a route not refreshed for 3× this is ignored. @default 1 */
  routeIntervalSeconds: z.number().min(0.1).max(60).default(1),
});

/** `objects.s3:` — the S3 API the objects live on (objects.backend: s3). */
export const objectsS3Schema = z
  .strictObject({
    /** The S3 API's base URL (MinIO, Ceph, …); omit for AWS S3. */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    /** The backend's region (signing, and the LocationConstraint of buckets inferq creates). @default us-east-1 */
    region: z.string().min(1).default('us-east-1'),
    /** Path-style addressing (endpoint/bucket/key), as MinIO, Ceph and moto need. @default false */
    forcePathStyle: z.boolean().default(false),
    /** Static key id; omit both keys for the AWS default credential chain. */
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
  })
  .refine((s) => (s.accessKeyId === undefined) === (s.secretAccessKey === undefined), { message: 'give both accessKeyId and secretAccessKey, or neither (the AWS default credential chain)', path: ['secretAccessKey'] });

/** The `objects:` section: where objects live. */
export const objectsSchema = z.strictObject({
  /** `local`: the embedded store in server.dataDir; `s3`: an S3 API (objects.s3). @default local */
  backend: z.enum(['local', 's3']).default('local'),
  s3: objectsS3Schema.default(objectsS3Schema.parse({})),
});

/** The `queue:` section: where asynchronous requests are stored. */
export const queueSchema = z.strictObject({
  /**
   * `sqlite`: the embedded queue in the data directory (one host). `postgres`: a PostgreSQL
   * schema that any number of `serve` and `worker` processes, on any hosts, share. @default sqlite
   */
  backend: z.enum(['sqlite', 'postgres']).default('sqlite'),
  /**
   * With `postgres`: `postgres://user[:password]@host:5432/database` (or the INFERQ_QUEUE_URL
   * environment variable); without a password in it, PGPASSWORD is used.
   */
  url: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres://user@host:5432/database URL').optional(),
  /** With `postgres`: the schema holding every table, created and migrated at start. @default inferq */
  schema: z.string().regex(/^[a-z_][a-z0-9_]{0,39}$/, 'must be a lower-case SQL name ([a-z_][a-z0-9_]*, at most 40 characters)').default('inferq'),
  /** With `postgres`: the pooled connections of this process (plus one for LISTEN). @default 10 */
  maxConnections: z.number().int().min(2).max(1000).default(10),
});

/** A `webhook:` target: inferq POSTs each message, signed with `secret`. */
export const webhookTargetSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  /** HMAC-SHA256 key of X-Inferq-Signature. */
  secret: z.string().min(1),
  /** A delivery without a complete answer for this long failed (and is retried). @default 10 */
  timeoutSeconds: z.number().min(0.1).max(300).default(10),
});

/** An `sns:` target: inferq publishes each message as the SNS `Message`. */
export const snsTargetSchema = z
  .strictObject({
    topicArn: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, 'must be an SNS topic ARN (arn:aws:sns:region:account:name)'),
    /** The SNS API's base URL; omit for AWS. */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    /** @default the topic ARN's region */
    region: z.string().min(1).optional(),
    /** Static key id; omit both keys for the AWS default credential chain. */
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
  })
  .refine((s) => (s.accessKeyId === undefined) === (s.secretAccessKey === undefined), { message: 'give both accessKeyId and secretAccessKey, or neither (the AWS default credential chain)', path: ['secretAccessKey'] });

/** One entry of `topics:`: exactly one target. */
export const topicSchema = z
  .strictObject({ webhook: webhookTargetSchema.optional(), sns: snsTargetSchema.optional() })
  .refine((t) => (t.webhook === undefined) !== (t.sns === undefined), { message: 'give exactly one of webhook or sns' });

/** The `notifications:` section: how deliveries are retried. */
export const notificationsSchema = z.strictObject({
  /** First wait after a failed delivery; each further failure doubles it. @default 1 */
  initialBackoffSeconds: z.number().min(0.01).max(3600).default(1),
  /** Longest wait between attempts. @default 300 */
  maxBackoffSeconds: z.number().min(0.01).max(86400).default(300),
  /** A message not delivered this long after its request finished is given up (kept, visible in the status). @default 86400 */
  maxAgeSeconds: z.number().min(0.1).max(30 * 86400).default(86400),
  /** How often a worker process looks for due deliveries (others' and retries). @default 1 */
  pollIntervalSeconds: z.number().min(0.01).max(60).default(1),
});

/** The whole configuration file. */
export const configFileSchema = z.strictObject({
  server: serverSchema.default(serverSchema.parse({})),
  /** Endpoints; when absent, the built-in `echo` and `vad` endpoints are served. */
  endpoints: z.array(endpointSchema).optional(),
  /** Container images of the SageMaker control plane (CreateModel `Image`) and the models they run; `inferq/echo` and `inferq/vad` are built in. */
  images: z.record(z.string().min(1).max(255), imageSchema).default({}),
  worker: workerSchema.default(workerSchema.parse({})),
  objects: objectsSchema.default(objectsSchema.parse({})),
  queue: queueSchema.default(queueSchema.parse({})),
  /** Notification targets by name (see `endpoints[].async.notification`). */
  topics: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'topic names are 1-64 letters, digits, - or _'), topicSchema).default({}),
  notifications: notificationsSchema.default(notificationsSchema.parse({})),
});

/** The file as written (before defaults). */
export type ConfigFileInput = z.input<typeof configFileSchema>;
/** The file after defaults. */
export type ParsedConfigFile = z.output<typeof configFileSchema>;
