/**
 * Test helper: seeing whether a request had any effect. A model that counts its calls (see
 * counting-model.ts), a snapshot of a server's data dir (every file, and the row count of every
 * table of its SQLite databases, read through read-only connections) to compare before and after,
 * and the keys under a prefix of a bucket.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { signed } from './async.js';
import { ROOT } from './server.js';

/** The counting model server script. */
export const COUNTING_MODEL = join(ROOT, 'test/helpers/counting-model.ts');

/** A `model:` entry running the counting model, which appends one line per call to `logFile`. */
export function countingModel(logFile: string): Record<string, unknown> {
  return { command: [process.execPath, '--import', 'tsx', COUNTING_MODEL], cwd: ROOT, env: { COUNTING_MODEL_LOG: logFile }, pingIntervalSeconds: 0.5 };
}

/** The calls the counting model logged to `logFile` so far (their InferenceIds, in order). */
export function modelCalls(logFile: string): string[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8').split('\n').filter((line) => line.length > 0);
}

/** What a data dir holds: its files (relative paths, sorted) and each table's row count. */
export interface DataDirSnapshot {
  readonly files: readonly string[];
  /** `<database file>:<table>` → rows. */
  readonly rows: Readonly<Record<string, number>>;
}

function walk(dir: string, root: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, root, out);
    else out.push(relative(root, path));
  }
}

function tableRows(file: string, into: Record<string, number>, name: string): void {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all();
    for (const { name: table } of tables) {
      const row = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM "${table.replace(/"/g, '""')}"`).get();
      into[`${name}:${table}`] = row?.n ?? 0;
    }
  } finally {
    db.close();
  }
}

/** Snapshots `dataDir`: every file below it and the row counts of its `*.db` databases. */
export function snapshotDataDir(dataDir: string): DataDirSnapshot {
  const files: string[] = [];
  walk(dataDir, dataDir, files);
  files.sort();
  const rows: Record<string, number> = {};
  for (const file of files.filter((f) => f.endsWith('.db'))) tableRows(join(dataDir, file), rows, file);
  return { files, rows };
}

/** The keys of `bucket` under `prefix` (ListObjectsV2, first page). */
export async function listKeys(base: string, bucket: string, prefix = ''): Promise<string[]> {
  const res = await signed(base, 's3', 'GET', `/${bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`);
  if (res.status !== 200) throw new Error(`list ${bucket}/${prefix}: ${res.status} ${res.body.toString()}`);
  return [...res.body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!);
}
