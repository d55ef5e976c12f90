/**
 * GET/HEAD `?partNumber=N` for the local store: where part N of a stored object lies. A completed
 * multipart object keeps its part boundaries in `object_parts` (1-based, in completion order); any
 * other object is one part. Objects completed before boundaries were kept (schema version < 3)
 * can still serve part 1 of a one-part object, and answer NotImplemented for the others rather
 * than bytes of the wrong part.
 */
import { InferqError } from '../../errors/index.js';
import type { ByteSpan } from '../port.js';
import type { ObjectRow, Statements } from './statements.js';
import { validatePartNumber } from './validate.js';

function invalidPartNumber(partNumber: number, count: number): InferqError {
  return new InferqError('InvalidPartNumber', 'The requested partnumber is not satisfiable', {
    PartNumberRequested: String(partNumber),
    ActualPartCount: String(count),
  });
}

/**
 * The inclusive bytes of part `partNumber` of `row` (an empty part gives `end = start - 1`).
 * @throws InferqError InvalidArgument (not 1–10000), InvalidPartNumber (beyond the parts), NotImplemented (unknown boundaries).
 */
export function partSpan(stmts: Statements, bucket: string, row: ObjectRow, partNumber: number): ByteSpan {
  validatePartNumber(partNumber);
  const count = row.parts_count ?? 1;
  if (partNumber > count) throw invalidPartNumber(partNumber, count);
  if (count === 1) return { start: 0, end: row.size - 1 };
  const part = stmts.objectPartGet.get(bucket, row.key, partNumber);
  if (part === undefined) {
    throw new InferqError('NotImplemented', 'This object was completed before inferq kept the boundaries of its parts; read it by byte range instead.');
  }
  return { start: part.first_byte, end: part.first_byte + part.size - 1 };
}
