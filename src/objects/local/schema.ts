/**
 * The SQLite index of the local object store: versioned schema (PRAGMA user_version) with an
 * ordered migrations list applied in one transaction at open. Keys are BLOBs (UTF-8 bytes), so
 * SQLite's memcmp ordering is S3's UTF-8 binary key order and listings walk the primary key.
 * Small objects keep their bytes in the row (`inline_data`), larger ones name a blob file
 * (`blob`); exactly one of the two is set. Commits are fully synchronous: an inline object is as
 * durable as the fsynced blob file it replaces.
 */
import type Database from 'better-sqlite3';
import { openMigratedDatabase } from '../../util/index.js';

/** Migration N (index N-1) brings the schema from version N-1 to N. Append only; never edit. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE buckets (
    name       TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE objects (
    bucket        TEXT NOT NULL,
    key           BLOB NOT NULL,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    parts_count   INTEGER,
    blob          TEXT NOT NULL,
    meta          TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
  ) STRICT, WITHOUT ROWID;
  CREATE UNIQUE INDEX objects_blob ON objects (blob);
  CREATE TABLE uploads (
    id        TEXT PRIMARY KEY,
    bucket    TEXT NOT NULL,
    key       BLOB NOT NULL,
    initiated INTEGER NOT NULL,
    meta      TEXT NOT NULL
  ) STRICT;
  CREATE INDEX uploads_bucket_key ON uploads (bucket, key);
  CREATE TABLE parts (
    upload_id     TEXT NOT NULL,
    part_number   INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    last_modified INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  ) STRICT, WITHOUT ROWID;
  `,
  // 2: inline small objects. SQLite cannot drop NOT NULL from `blob`, so the table is rebuilt
  // (create, copy, drop, rename, re-index) inside the migration transaction. `inline_data` is
  // the last column so scans reading the other columns never touch its overflow pages.
  `
  CREATE TABLE objects_v2 (
    bucket        TEXT NOT NULL,
    key           BLOB NOT NULL,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    parts_count   INTEGER,
    blob          TEXT,
    meta          TEXT NOT NULL,
    inline_data   BLOB,
    PRIMARY KEY (bucket, key),
    CHECK ((blob IS NULL) <> (inline_data IS NULL)),
    CHECK (inline_data IS NULL OR length(inline_data) = size)
  ) STRICT, WITHOUT ROWID;
  INSERT INTO objects_v2 (bucket, key, size, etag, last_modified, parts_count, blob, meta)
    SELECT bucket, key, size, etag, last_modified, parts_count, blob, meta FROM objects;
  DROP TABLE objects;
  ALTER TABLE objects_v2 RENAME TO objects;
  CREATE UNIQUE INDEX objects_blob ON objects (blob) WHERE blob IS NOT NULL;
  `,
  // 3: multipart fidelity. `upload_id` names the upload that made a multipart object (a repeated
  // CompleteMultipartUpload answers it again); `object_parts` keeps each completed part's place
  // (`part_index` is 1-based in completion order) for GET ?partNumber=N. Objects completed before
  // this version have no rows there. Uploads are listed by (bucket, key, id).
  `
  ALTER TABLE objects ADD COLUMN upload_id TEXT;
  CREATE TABLE object_parts (
    bucket     TEXT NOT NULL,
    key        BLOB NOT NULL,
    part_index INTEGER NOT NULL,
    first_byte INTEGER NOT NULL,
    size       INTEGER NOT NULL,
    PRIMARY KEY (bucket, key, part_index)
  ) STRICT, WITHOUT ROWID;
  DROP INDEX uploads_bucket_key;
  CREATE INDEX uploads_listing ON uploads (bucket, key, id);
  `,
  // 4: multipart checksums. An upload records its checksum algorithm and type (both NULL for an
  // upload without one), a part its checksum under that algorithm, and so does a completed part
  // of an object (GET ?partNumber=N answers it).
  `
  ALTER TABLE uploads ADD COLUMN checksum_algorithm TEXT;
  ALTER TABLE uploads ADD COLUMN checksum_type TEXT;
  ALTER TABLE parts ADD COLUMN checksum TEXT;
  ALTER TABLE object_parts ADD COLUMN checksum TEXT;
  `,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens (creating if needed) the index at `file`, in WAL mode with `synchronous = FULL` (every
 * commit fsyncs the WAL, so a committed inline object survives power loss), migrated to
 * {@link SCHEMA_VERSION}.
 */
export function openIndex(file: string): Database.Database {
  return openMigratedDatabase(file, { name: 'object index', migrations: MIGRATIONS, synchronous: 'FULL' });
}
