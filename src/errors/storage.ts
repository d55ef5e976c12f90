/**
 * Storage faults of inferq's own disk: failures whose code (a Node system error's errno name, or a
 * SQLite result code) says the data directory is full or cannot be written. They are reported as
 * `StorageFull` / `StorageReadOnly` (503, retryable) instead of InternalError, and the worker
 * retries work that hit one instead of failing it. Only codes are inspected, never message text.
 */

/** The catalogue codes of a storage fault. */
export type StorageFaultCode = 'StorageFull' | 'StorageReadOnly';

/** errno names and SQLite result codes (and the catalogue's own code) meaning "no space left". */
const FULL_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', 'StorageFull']);

/** How deep a chain of `cause`s is followed. */
const MAX_CAUSE_DEPTH = 5;

function codeOf(value: object): string | undefined {
  return 'code' in value && typeof value.code === 'string' ? value.code : undefined;
}

function classify(code: string | undefined): StorageFaultCode | undefined {
  if (code === undefined) return undefined;
  if (FULL_CODES.has(code)) return 'StorageFull';
  if (code === 'EROFS' || code === 'StorageReadOnly' || code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY_')) return 'StorageReadOnly';
  return undefined;
}

/**
 * The storage fault `err` stands for, following its `cause` chain: `StorageFull` for ENOSPC,
 * EDQUOT and SQLITE_FULL, `StorageReadOnly` for EROFS and SQLITE_READONLY*; undefined otherwise.
 */
export function storageFaultCode(err: unknown): StorageFaultCode | undefined {
  let value = err;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && typeof value === 'object' && value !== null; depth++) {
    const found = classify(codeOf(value));
    if (found) return found;
    value = 'cause' in value ? value.cause : undefined;
  }
  return undefined;
}

/** The message of each storage fault (the same for every API). */
export const STORAGE_FAULT_MESSAGES: Readonly<Record<StorageFaultCode, string>> = {
  StorageFull: "The server's storage is full (no space is left in its data directory); nothing was stored. Retry once space has been freed.",
  StorageReadOnly: "The server's storage is read-only (its data directory cannot be written); nothing was stored. Retry later.",
};
