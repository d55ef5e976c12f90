/**
 * The composition root: the only place that wires ports to adapters. Everything else receives its
 * dependencies from here.
 */
import { mkdirSync } from 'node:fs';
import { SigV4Verifier } from '../auth/index.js';
import type { ResolvedConfig } from '../config/index.js';
import { createGatewayServer } from '../http/index.js';
import { openLocalObjectStore, type ObjectStore } from '../objects/index.js';
import { createRuntimeApi } from '../runtime/index.js';
import { createS3Api } from '../s3api/index.js';
import { systemClock, type Clock, type Logger } from '../util/index.js';

/** A started inferq instance. */
export interface RunningInferq {
  /** The base URL (e.g. http://127.0.0.1:8080). */
  readonly url: string;
  readonly store: ObjectStore;
  /** Graceful stop: stop accepting, drain for the configured grace, close storage. */
  stop(): Promise<void>;
}

/** Starts the whole embedded product from a resolved configuration. */
export async function startInferq(config: ResolvedConfig, logger: Logger, clock: Clock = systemClock): Promise<RunningInferq> {
  const { server: cfg } = config;
  mkdirSync(cfg.dataDir, { recursive: true });
  const store = await openLocalObjectStore({ dataDir: cfg.dataDir, clock, logger: logger.child('objects') });
  const secrets = new Map(cfg.credentials.map((c) => [c.accessKeyId, c.secretAccessKey]));
  const credentials = { secretFor: (id: string) => secrets.get(id) };
  const verifier = new SigV4Verifier(credentials, clock, { maxClockSkewSeconds: cfg.maxClockSkewSeconds });
  const server = createGatewayServer({
    verifier,
    credentials,
    clock,
    s3: createS3Api({ store, region: cfg.region, logger: logger.child('s3') }),
    runtime: createRuntimeApi(),
    logger,
  });
  let url: string;
  try {
    url = await server.listen(cfg.host, cfg.port);
  } catch (err) {
    await store.close();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    url,
    store,
    stop() {
      stopping ??= (async () => {
        await server.close(cfg.shutdownGraceSeconds * 1000);
        await store.close();
      })();
      return stopping;
    },
  };
}
