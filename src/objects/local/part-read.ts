/**
 * GET/HEAD `?partNumber=N` for the local store: where part N of a stored object lies. A completed
 * multipart object keeps its part boundaries in `object_parts` (1-based, in completion order); any
 * other object is one part. Objects completed before boundaries were kept (schema version < 3)
 * can still serve part 1 of a one-part object, and answer NotImplemented for the others rather
 * than bytes of the wrong part. A part of a COMPOSITE-checksummed object also names its own
 * checksum (kept since schema version 4).
 */
import { InferqError } from '../../errors/index.js';
import type { ByteSpan, ObjectPartHead } from '../port.js';
import { decodeMeta, type ObjectRow, type Statements } from './statements.js';
import { validatePartNumber } from './validate.js';

/** Where a part lies and, for a COMPOSITE-checksummed object, its checksum. */
export type PartSpan = Omit<ObjectPartHead, 'info'>;

function invalidPartNumber(partNumber: number, count: number): InferqError {
  return new InferqError('InvalidPartNumber', 'The requested partnumber is not satisfiable', {
    PartNumberRequested: String(partNumber),
    ActualPartCount: String(count),
  });
}

/** The part's checksum by the object's algorithm, when the object's checksum is COMPOSITE. */
function partChecksums(row: ObjectRow, checksum: string | null): PartSpan['partChecksums'] {
  if (checksum === null) return undefined;
  const meta = decodeMeta(row.meta);
  const [alg] = Object.keys(meta.checksums);
  return meta.checksumType === 'COMPOSITE' && alg !== undefined ? { [alg]: checksum } : undefined;
}

/**
 * The inclusive bytes of part `partNumber` of `row` (an empty part gives `end = start - 1`).
 * @throws InferqError InvalidArgument (not 1–10000), InvalidPartNumber (beyond the parts), NotImplemented (unknown boundaries).
 */
export function partSpan(stmts: Statements, bucket: string, row: ObjectRow, partNumber: number): PartSpan {
  validatePartNumber(partNumber);
  const count = row.parts_count ?? 1;
  if (partNumber > count) throw invalidPartNumber(partNumber, count);
  const part = row.parts_count === null ? undefined : stmts.objectPartGet.get(bucket, row.key, partNumber);
  if (part === undefined) {
    if (count === 1) return { range: { start: 0, end: row.size - 1 } };
    throw new InferqError('NotImplemented', 'This object was completed before inferq kept the boundaries of its parts; read it by byte range instead.');
  }
  const range: ByteSpan = { start: part.first_byte, end: part.first_byte + part.size - 1 };
  const checksums = partChecksums(row, part.checksum);
  return checksums ? { range, partChecksums: checksums } : { range };
}
