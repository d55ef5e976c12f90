/**
 * ListMultipartUploads over the index: uploads in (key, id) order, where keys are UTF-8 byte
 * strings ordered by memcmp and ids begin with their creation time (so a key's uploads come in
 * initiation order). Prefix, delimiter roll-up and the key marker work as in ListObjects (see
 * listing.ts); an upload-id marker resumes after that upload of the marker key.
 */
import type { ListUploadsOptions, ListUploadsPage, UploadInfo } from '../port.js';
import { lowerBound, rollUp, successor } from './listing.js';
import { toUploadInfo, type Statements, type UploadRow } from './statements.js';

/** Where a scan starts: uploads with (key, id) strictly after (key, afterId); afterId '' includes `key`. */
interface ScanStart {
  readonly key: Buffer;
  readonly afterId: string;
}

function startOf(prefix: Buffer, delimiter: Buffer | null, options: ListUploadsOptions): ScanStart | null {
  const { keyMarker, uploadIdMarker } = options;
  if (keyMarker && uploadIdMarker) {
    const marker = Buffer.from(keyMarker, 'utf8');
    const rolledUp = marker.subarray(0, prefix.length).equals(prefix) && rollUp(marker, prefix.length, delimiter) !== null;
    if (!rolledUp && Buffer.compare(marker, prefix) >= 0) return { key: marker, afterId: uploadIdMarker };
  }
  const from = lowerBound(prefix, delimiter, keyMarker);
  return from === null ? null : { key: from, afterId: '' };
}

/** Lists one page of the uploads of `bucket` (which the caller has checked exists). */
export function listUploadPage(stmts: Statements, bucket: string, options: ListUploadsOptions): ListUploadsPage {
  const maxUploads = Math.max(0, Math.floor(options.maxUploads));
  if (maxUploads === 0) return { uploads: [], commonPrefixes: [], isTruncated: false };
  const prefix = Buffer.from(options.prefix ?? '', 'utf8');
  const delimiter = options.delimiter ? Buffer.from(options.delimiter, 'utf8') : null;
  const upper = prefix.length > 0 ? successor(prefix) : null;
  const scan = (from: ScanStart): IterableIterator<UploadRow> =>
    upper === null ? stmts.uploadsFrom.iterate(bucket, from.key, from.afterId) : stmts.uploadsRange.iterate(bucket, from.key, from.afterId, upper);

  const uploads: UploadInfo[] = [];
  const commonPrefixes: string[] = [];
  let last: { key: string; uploadId?: string } | undefined;
  let truncated = false;
  let from = startOf(prefix, delimiter, options);
  while (from !== null && (upper === null || Buffer.compare(from.key, upper) < 0)) {
    let seekTo: Buffer | null | undefined;
    for (const row of scan(from)) {
      if (uploads.length + commonPrefixes.length === maxUploads) {
        truncated = true;
        break;
      }
      const cp = rollUp(row.key, prefix.length, delimiter);
      if (cp === null) {
        const info = toUploadInfo(row);
        uploads.push(info);
        last = { key: info.key, uploadId: info.uploadId };
        continue;
      }
      last = { key: cp.toString('utf8') };
      commonPrefixes.push(last.key);
      seekTo = successor(cp);
      break;
    }
    if (truncated || seekTo === undefined) break;
    from = seekTo === null ? null : { key: seekTo, afterId: '' };
  }
  if (!truncated || last === undefined) return { uploads, commonPrefixes, isTruncated: false };
  return { uploads, commonPrefixes, isTruncated: true, nextKeyMarker: last.key, ...(last.uploadId === undefined ? {} : { nextUploadIdMarker: last.uploadId }) };
}
