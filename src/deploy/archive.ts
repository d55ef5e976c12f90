/**
 * Unpacking a SageMaker model archive (`model.tar.gz`) into a directory: ustar, GNU and pax
 * archives (long names through GNU `L` and pax `path` records), regular files and directories
 * only. A member whose path is absolute or climbs out of the target (`..`), and every link
 * (symbolic or hard: a link could point anywhere, and a later member could be written through it),
 * is refused, and so is anything else that is not a file or a directory; nothing of a refused
 * archive is left behind. The archive is held in memory, bounded by `maxBytes` after decompression.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InferqError } from '../errors/index.js';

const BLOCK = 512;

/** What was unpacked. */
export interface UnpackResult {
  readonly files: number;
  readonly directories: number;
  readonly bytes: number;
}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number): number {
  const raw = text(block, start, length).trim();
  const value = raw === '' ? 0 : parseInt(raw, 8);
  if (!Number.isSafeInteger(value) || value < 0) throw refused(`a member has an unreadable size field "${raw}"`);
  return value;
}

function refused(reason: string): InferqError {
  return new InferqError('ControlPlaneValidation', `The model archive is refused: ${reason}.`);
}

/** The pax `path` record of an extended header, if any. */
function paxPath(data: Buffer): string | undefined {
  let at = 0;
  let path: string | undefined;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number(data.subarray(at, space).toString('ascii'));
    if (!Number.isSafeInteger(length) || length <= 0) break;
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    at += length;
  }
  return path;
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

/** Walks the members; `onMember` gets each file or directory with its target path. */
function members(tar: Buffer, target: string, onMember: (kind: 'file' | 'dir', path: string, body: Buffer) => void): void {
  let at = 0;
  let longName: string | undefined;
  while (at + BLOCK <= tar.length) {
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) return;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] ?? 0x30);
    const prefix = text(header, 257, 6).startsWith('ustar') ? text(header, 345, 155) : '';
    const body = tar.subarray(at + BLOCK, at + BLOCK + size);
    if (body.length < size) throw refused('it ends inside a member');
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L' || type === 'x') {
      longName = type === 'L' ? text(body, 0, body.length) : paxPath(body) ?? longName;
      continue;
    }
    if (type === 'g') continue;
    const name = longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    longName = undefined;
    if (type === '1' || type === '2') throw refused(`member "${name}" is a link; model archives may hold only files and directories`);
    const path = inside(target, name);
    if (type === '5') onMember('dir', path, body);
    else if (type === '0' || type === '\0' || type === '7') onMember('file', path, body);
    else throw refused(`member "${name}" is neither a file nor a directory (type ${JSON.stringify(type)})`);
  }
}

/**
 * Unpacks the gzip-compressed tar `archive` into `target` (created; it should not exist yet).
 * @throws InferqError ControlPlaneValidation when the archive is not gzip/tar, is larger than
 * `maxBytes` unpacked, or has a member that is refused (see the module header); `target` is then removed.
 */
export function unpackModelArchive(archive: Buffer, target: string, maxBytes: number): UnpackResult {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive, { maxOutputLength: maxBytes });
  } catch (err) {
    throw refused(err instanceof RangeError ? `it is larger than ${maxBytes} bytes unpacked` : 'it is not gzip-compressed');
  }
  const planned: { kind: 'file' | 'dir'; path: string; body: Buffer }[] = [];
  members(tar, target, (kind, path, body) => planned.push({ kind, path, body }));
  mkdirSync(target, { recursive: true });
  let files = 0;
  let directories = 0;
  let bytes = 0;
  try {
    for (const m of planned) {
      if (m.kind === 'dir') {
        mkdirSync(m.path, { recursive: true });
        directories++;
      } else {
        mkdirSync(join(m.path, '..'), { recursive: true });
        writeFileSync(m.path, m.body);
        files++;
        bytes += m.body.length;
      }
    }
  } catch (err) {
    rmSync(target, { recursive: true, force: true });
    throw err;
  }
  return { files, directories, bytes };
}
