/**
 * Unpacking a SageMaker model archive (`model.tar.gz`) into a directory, as it streams in: the
 * gzip is inflated and the tar parsed by tar-stream (ustar, GNU and pax; long names included), and
 * each member is written as it arrives, so an archive of any size holds only a chunk in memory and
 * never blocks the event loop. Regular files and directories only: a member whose path is
 * absolute or climbs out of the target (`..`), and every link (symbolic or hard: a link could point
 * anywhere, and a later member could be written through it), is refused, and so is anything else
 * that is not a file or a directory. A refused or broken archive leaves nothing behind (the target
 * is removed). The unpacked size is bounded by `maxBytes`.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { InferqError, isInferqError } from '../errors/index.js';

/** What was unpacked. */
export interface UnpackResult {
  readonly files: number;
  readonly directories: number;
  readonly bytes: number;
}

function refused(reason: string): InferqError {
  return new InferqError('ControlPlaneValidation', `The model archive is refused: ${reason}.`);
}

/** Where the relative path `name` lands under `target`, or why it may not be written there. */
export function pathInside(target: string, name: string): { readonly path: string } | { readonly problem: 'absolute' | 'outside' } {
  if (name.includes('\0') || isAbsolute(name) || /^[a-zA-Z]:/.test(name)) return { problem: 'absolute' };
  const path = normalize(join(target, name));
  const rel = relative(target, path);
  if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) return { problem: 'outside' };
  return { path };
}

/** The member's path inside `target`, or a refusal when it would land outside. */
function inside(target: string, name: string): string {
  const at = pathInside(target, name);
  if ('path' in at) return at.path;
  throw refused(at.problem === 'absolute' ? `member "${name}" has an absolute path` : `member "${name}" would be written outside the model directory`);
}

/** Passes the inflated bytes on, failing once more than `maxBytes` went through. */
function bounded(maxBytes: number): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      done(total > maxBytes ? refused(`it is larger than ${maxBytes} bytes unpacked`) : null, chunk);
    },
  });
}

/** Where a member goes, or why it may not be unpacked. */
function plan(header: Header, target: string): { kind: 'file' | 'dir'; path: string } {
  const { name, type } = header;
  if (type === 'symlink' || type === 'link') throw refused(`member "${name}" is a link; model archives may hold only files and directories`);
  if (type !== 'file' && type !== 'contiguous-file' && type !== 'directory') throw refused(`member "${name}" is neither a file nor a directory (type ${type ?? 'unknown'})`);
  return { kind: type === 'directory' ? 'dir' : 'file', path: inside(target, name) };
}

/** The refusal an error of the inflate or the tar parser stands for (our own refusals pass as they are). */
function asRefusal(err: unknown): unknown {
  if (isInferqError(err)) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) return refused('it is not gzip-compressed');
  if (err instanceof Error && !('code' in err)) return refused(`it is not a readable tar archive (${err.message})`);
  return err;
}

/**
 * Unpacks the gzip-compressed tar `archive` (a stream) into `target` (created; it should not exist yet);
 * `signal` aborts it (rejecting with its AbortError, `target` removed).
 * @throws InferqError ControlPlaneValidation when the archive is not gzip/tar, is larger than
 * `maxBytes` unpacked, or has a member that is refused (see the module header); `target` is then removed.
 */
export async function unpackModelArchive(archive: Readable, target: string, maxBytes: number, signal?: AbortSignal): Promise<UnpackResult> {
  const counts = { files: 0, directories: 0, bytes: 0 };
  const tar = extract();
  tar.on('entry', (header, member, next) => {
    void (async () => {
      const { kind, path } = plan(header, target);
      if (kind === 'dir') {
        await mkdir(path, { recursive: true });
        counts.directories++;
        member.resume();
        return;
      }
      await mkdir(join(path, '..'), { recursive: true });
      await pipeline(member, createWriteStream(path));
      counts.files++;
      counts.bytes += header.size ?? 0;
    })().then(() => next(), (err: unknown) => { member.resume(); next(err instanceof Error ? err : new Error(String(err))); });
  });
  await mkdir(target, { recursive: true });
  try {
    await pipeline(archive, createGunzip(), bounded(maxBytes), tar, ...(signal !== undefined ? [{ signal }] : []));
  } catch (err) {
    await rm(target, { recursive: true, force: true });
    throw asRefusal(err);
  }
  return counts;
}
