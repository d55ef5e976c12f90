/**
 * The embedded local-disk object store: object bytes in files named by random ids under
 * `<dataDir>/objects/`, metadata in one SQLite index (`<dataDir>/objects/index.db`). Objects of
 * at most `inlineMaxBytes` bytes are stored inline in the index row instead of in a file.
 */
import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { silentLogger, systemClock, type Clock, type Logger } from '../../util/index.js';
import type { ObjectStore } from '../port.js';
import { BlobFiles } from './blobs.js';
import { GroupCommitter } from './group-commit.js';
import { sweepLeftovers } from './recovery.js';
import { openIndex } from './schema.js';
import { INLINE_MAX_BYTES } from './staging.js';
import { createStatements } from './statements.js';
import { LocalObjectStore } from './store.js';
import { UploadIdSource } from './upload-ids.js';

/** Options of {@link openLocalObjectStore}. */
export interface LocalObjectStoreOptions {
  /** The server's data directory; the store lives in its `objects/` subdirectory. */
  readonly dataDir: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /**
   * Largest object (bytes) stored inline in the index rather than in a blob file; default
   * {@link INLINE_MAX_BYTES}. 0 stores every object, even an empty one, in a file.
   */
  readonly inlineMaxBytes?: number;
}

/**
 * Opens (creating if needed) the local object store under `dataDir`: creates the directories,
 * opens and migrates the index, and removes crash leftovers. One process may own a data dir.
 */
export async function openLocalObjectStore(options: LocalObjectStoreOptions): Promise<ObjectStore> {
  const inlineMaxBytes = options.inlineMaxBytes ?? INLINE_MAX_BYTES;
  if (!Number.isSafeInteger(inlineMaxBytes) || inlineMaxBytes < 0) throw new RangeError(`inlineMaxBytes must be a non-negative integer, got ${inlineMaxBytes}`);
  const files = new BlobFiles(join(options.dataDir, 'objects'));
  await files.init();
  const db = openIndex(files.indexFile);
  try {
    const stmts = createStatements(db);
    const logger = options.logger ?? silentLogger;
    await sweepLeftovers(files, stmts, logger);
    const controller = new AbortController();
    // Every in-flight write listens on this one signal; many concurrent writes are expected.
    setMaxListeners(0, controller.signal);
    const clock = options.clock ?? systemClock;
    const ctx = { db, stmts, files, clock, logger, signal: controller.signal, completing: new Set<string>(), uploadIds: new UploadIdSource(clock), inlineMaxBytes, commits: new GroupCommitter(db), knownBuckets: new Set<string>() };
    return new LocalObjectStore(ctx, () => controller.abort());
  } catch (err) {
    db.close();
    throw err;
  }
}

export { SCHEMA_VERSION } from './schema.js';
export { INLINE_MAX_BYTES } from './staging.js';
