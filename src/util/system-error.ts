/**
 * The operating system's reason for a failed call, as one short phrase: `EROFS: read-only file
 * system`. Node puts it inside the error message together with the call and the path (`EROFS:
 * read-only file system, mkdir '/x'` for files, `listen EADDRINUSE: address already in use
 * 127.0.0.1:8080` for sockets); this keeps the code and its libuv description only, for messages
 * that name the path or port themselves. Used for display only, never to decide anything.
 */

/** `CODE: description` of an error with a string `code` (a system error, SQLite's `SQLITE_*`); undefined for other values. */
export function systemErrorReason(err: unknown): string | undefined {
  if (!(err instanceof Error) || !('code' in err) || typeof err.code !== 'string') return undefined;
  const { code } = err;
  const at = err.message.indexOf(`${code}: `);
  if (at < 0) {
    const first = err.message.split('\n')[0]!.trim();
    return first ? `${code}: ${first}` : code;
  }
  let text = err.message.slice(at + code.length + 2);
  const comma = text.indexOf(', ');
  if (comma >= 0) text = text.slice(0, comma);
  const address = 'address' in err && typeof err.address === 'string' ? err.address : undefined;
  if (address !== undefined) {
    const where = text.indexOf(` ${address}`);
    if (where >= 0) text = text.slice(0, where);
  }
  text = text.split('\n')[0]!.trim();
  return text ? `${code}: ${text}` : code;
}
