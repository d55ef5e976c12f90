/**
 * Conditional writes for the local store: a {@link WritePrecondition} is checked against the key's
 * current row inside the commit transaction (and once early, before a body is staged, to fail
 * fast), so two racing `If-None-Match: *` writers cannot both win.
 */
import { InferqError } from '../../errors/index.js';
import type { WritePrecondition } from '../port.js';

const bare = (etag: string): string => etag.trim().replace(/^W\//, '').replace(/"/g, '');

/** Whether an `If-Match` list (comma-separated, quoted or not, `*` for any) names `etag`. */
export function etagListMatches(list: string, etag: string): boolean {
  const current = bare(etag);
  return list.split(',').some((item) => {
    const candidate = bare(item);
    return candidate === '*' || candidate === current;
  });
}

function failed(condition: string): InferqError {
  return new InferqError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: condition });
}

/**
 * Throws unless `precondition` holds for the key's current object (`current` is its ETag, or
 * undefined when there is none): PreconditionFailed, or NoSuchKey for `ifMatch` on a missing key.
 */
export function checkWritePrecondition(precondition: WritePrecondition | undefined, current: { readonly etag: string } | undefined, key: string): void {
  if (precondition === undefined) return;
  if ('ifNoneMatch' in precondition) {
    if (current !== undefined) throw failed('If-None-Match');
    return;
  }
  if (current === undefined) throw new InferqError('NoSuchKey', 'The specified key does not exist.', { Key: key });
  if (!etagListMatches(precondition.ifMatch, current.etag)) throw failed('If-Match');
}
