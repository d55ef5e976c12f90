/**
 * ListObjects over the index. Keys are UTF-8 byte strings ordered by memcmp; the prefix becomes a
 * key range [prefix, successor(prefix)), `after` an exclusive lower bound, and delimiter roll-up
 * seeks past each common prefix (to successor(CP)) instead of visiting every key below it, so a
 * huge subtree costs one index seek.
 */
import type { ListObjectsOptions, ListObjectsPage, ObjectInfo } from '../port.js';
import { toObjectInfo, type ObjectRow, type Statements } from './statements.js';

/**
 * The smallest byte string greater than every string starting with `bytes`, or `null` when there
 * is none (all 0xFF, never the case for UTF-8).
 */
export function successor(bytes: Buffer): Buffer | null {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0xff) end--;
  if (end === 0) return null;
  const next = Buffer.from(bytes.subarray(0, end));
  next[end - 1] = (next[end - 1] ?? 0) + 1;
  return next;
}

/** The immediately following byte string (`bytes` + 0x00): turns an exclusive bound inclusive. */
function immediateSuccessor(bytes: Buffer): Buffer {
  return Buffer.concat([bytes, Buffer.alloc(1)]);
}

/** The common prefix `key` rolls up into, or null when it is listed as itself. */
export function rollUp(key: Buffer, prefixLength: number, delimiter: Buffer | null): Buffer | null {
  if (delimiter === null) return null;
  const at = key.indexOf(delimiter, prefixLength);
  return at < 0 ? null : key.subarray(0, at + delimiter.length);
}

/**
 * The inclusive lower bound of the scan: at least the prefix, and past `after` — past the whole
 * rolled-up prefix when `after` lies inside one (or is one). Null when nothing can follow.
 */
export function lowerBound(prefix: Buffer, delimiter: Buffer | null, after: string | undefined): Buffer | null {
  if (after === undefined || after === '') return prefix;
  const afterBytes = Buffer.from(after, 'utf8');
  if (Buffer.compare(afterBytes, prefix) < 0) return prefix;
  const inPrefix = afterBytes.subarray(0, prefix.length).equals(prefix);
  const cp = inPrefix ? rollUp(afterBytes, prefix.length, delimiter) : null;
  return cp === null ? immediateSuccessor(afterBytes) : successor(cp);
}

/** Lists one page of `bucket` (which the caller has checked exists). */
export function listObjectPage(stmts: Statements, bucket: string, options: ListObjectsOptions): ListObjectsPage {
  const maxKeys = Math.max(0, Math.floor(options.maxKeys));
  if (maxKeys === 0) return { objects: [], commonPrefixes: [], isTruncated: false };
  const prefix = Buffer.from(options.prefix ?? '', 'utf8');
  const delimiter = options.delimiter ? Buffer.from(options.delimiter, 'utf8') : null;
  const upper = prefix.length > 0 ? successor(prefix) : null;
  const scan = (from: Buffer): IterableIterator<ObjectRow> =>
    upper === null ? stmts.listFrom.iterate(bucket, from) : stmts.listRange.iterate(bucket, from, upper);

  const objects: ObjectInfo[] = [];
  const commonPrefixes: string[] = [];
  let last: string | undefined;
  let truncated = false;
  let from = lowerBound(prefix, delimiter, options.after);
  while (from !== null && (upper === null || Buffer.compare(from, upper) < 0)) {
    let seekTo: Buffer | null | undefined;
    for (const row of scan(from)) {
      if (objects.length + commonPrefixes.length === maxKeys) {
        truncated = true;
        break;
      }
      const cp = rollUp(row.key, prefix.length, delimiter);
      if (cp === null) {
        const info = toObjectInfo(bucket, row);
        objects.push(info);
        last = info.key;
        continue;
      }
      last = cp.toString('utf8');
      commonPrefixes.push(last);
      seekTo = successor(cp);
      break;
    }
    if (truncated || seekTo === undefined) break;
    from = seekTo;
  }
  return truncated ? { objects, commonPrefixes, isTruncated: true, nextAfter: last ?? '' } : { objects, commonPrefixes, isTruncated: false };
}
