/**
 * The embedded local-disk object store: object bytes in files named by random ids under
 * `<dataDir>/objects/`, metadata in one SQLite index (`<dataDir>/objects/index.db`).
 */
import { join } from 'node:path';
import { silentLogger, systemClock, type Clock, type Logger } from '../../util/index.js';
import type { ObjectStore } from '../port.js';
import { BlobFiles } from './blobs.js';
import { sweepLeftovers } from './recovery.js';
import { openIndex } from './schema.js';
import { createStatements } from './statements.js';
import { LocalObjectStore } from './store.js';

/** Options of {@link openLocalObjectStore}. */
export interface LocalObjectStoreOptions {
  /** The server's data directory; the store lives in its `objects/` subdirectory. */
  readonly dataDir: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/**
 * Opens (creating if needed) the local object store under `dataDir`: creates the directories,
 * opens and migrates the index, and removes crash leftovers. One process may own a data dir.
 */
export async function openLocalObjectStore(options: LocalObjectStoreOptions): Promise<ObjectStore> {
  const files = new BlobFiles(join(options.dataDir, 'objects'));
  await files.init();
  const db = openIndex(files.indexFile);
  try {
    const stmts = createStatements(db);
    const logger = options.logger ?? silentLogger;
    await sweepLeftovers(files, stmts, logger);
    const controller = new AbortController();
    const ctx = { db, stmts, files, clock: options.clock ?? systemClock, logger, signal: controller.signal, completing: new Set<string>() };
    return new LocalObjectStore(ctx, () => controller.abort());
  } catch (err) {
    db.close();
    throw err;
  }
}

export { SCHEMA_VERSION } from './schema.js';
