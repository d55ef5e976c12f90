/** Response headers kept as a flat `[name, value, name, value, …]` list (node's `writeHead` fast path). */
import type { ServerResponse } from 'node:http';

/** Sets every header of a flat name/value list on `res` (for responses written later by other code). */
export function setHeaderList(res: ServerResponse, headers: readonly string[]): void {
  for (let i = 0; i + 1 < headers.length; i += 2) res.setHeader(headers[i]!, headers[i + 1]!);
}
