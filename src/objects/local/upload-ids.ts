/**
 * Upload ids of the local store: a 12-digit hex stamp, then 144 random bits (base64url). The stamp
 * is the creation time in ms, raised when needed to stay above the last one issued, so the ids one
 * store issues sort in creation order (ListMultipartUploads lists a key's uploads by id).
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../util/index.js';

/** Issues upload ids in ascending order. */
export class UploadIdSource {
  private last = -1;

  constructor(private readonly clock: Clock) {}

  /** A fresh id, greater than every id this source issued before. */
  next(): string {
    const stamp = Math.max(Math.floor(this.clock.now()), this.last + 1);
    this.last = stamp;
    return `${stamp.toString(16).padStart(12, '0')}${randomBytes(18).toString('base64url')}`;
  }
}
