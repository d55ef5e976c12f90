/**
 * Prepared statements over the index (prepared once per store) and the row ↔ port conversions.
 * Keys are bound and returned as Buffers (UTF-8 bytes).
 */
import type Database from 'better-sqlite3';
import type { ChecksumAlgorithm, ChecksumType, ObjectInfo, ObjectMetadata, PartInfo, PutObjectOptions, UploadInfo } from '../port.js';

/** A row of `buckets`. */
export interface BucketRow {
  readonly name: string;
  readonly created_at: number;
}

/** A row of `objects` (without the bucket column). */
export interface ObjectRow {
  readonly key: Buffer;
  readonly size: number;
  readonly etag: string;
  readonly last_modified: number;
  readonly parts_count: number | null;
  /** The blob file id (`xx/uuid`), or null when the bytes are inline. */
  readonly blob: string | null;
  readonly meta: string;
}

/** A row of `objects` with its inline bytes (null when the bytes are in the blob file). */
export interface ObjectBodyRow extends ObjectRow {
  readonly inline_data: Buffer | null;
}

/** A row of `uploads`. */
export interface UploadRow {
  readonly id: string;
  readonly bucket: string;
  readonly key: Buffer;
  readonly initiated: number;
  readonly meta: string;
  readonly checksum_algorithm: ChecksumAlgorithm | null;
  readonly checksum_type: ChecksumType | null;
}

/** A row of `parts` (without the upload id). */
export interface PartRow {
  readonly part_number: number;
  readonly etag: string;
  readonly size: number;
  readonly last_modified: number;
  /** The part's checksum under the upload's algorithm (NULL for an upload without one). */
  readonly checksum: string | null;
}

/** A row of `objects` with the upload that made it (null unless multipart). */
export interface ObjectUploadRow extends ObjectRow {
  readonly upload_id: string | null;
}

/** A row of `object_parts`: where a completed part lies in its object, and its checksum. */
export interface ObjectPartRow {
  readonly first_byte: number;
  readonly size: number;
  /** The part's checksum under its upload's algorithm (NULL for an upload without one). */
  readonly checksum: string | null;
}

/** Parameters of an object upsert. */
export interface ObjectWrite {
  readonly bucket: string;
  readonly key: Buffer;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: number;
  readonly partsCount: number | null;
  /** Exactly one of `blob` and `inlineData` is non-null. */
  readonly blob: string | null;
  readonly meta: string;
  readonly inlineData: Buffer | null;
  /** The multipart upload that made the object, else null. */
  readonly uploadId: string | null;
}

const OBJECT_COLS = 'key, size, etag, last_modified, parts_count, blob, meta';
const UPLOAD_COLS = 'id, bucket, key, initiated, meta, checksum_algorithm, checksum_type';
const PART_COLS = 'part_number, etag, size, last_modified, checksum';

function prepareStatements(db: Database.Database) {
  return {
    bucketGet: db.prepare<[string], BucketRow>('SELECT name, created_at FROM buckets WHERE name = ?'),
    bucketList: db.prepare<[], BucketRow>('SELECT name, created_at FROM buckets ORDER BY name'),
    bucketInsert: db.prepare<[string, number]>('INSERT INTO buckets (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    bucketDelete: db.prepare<[string]>('DELETE FROM buckets WHERE name = ?'),
    bucketHasObject: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM objects WHERE bucket = ? LIMIT 1'),
    bucketHasUpload: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM uploads WHERE bucket = ? LIMIT 1'),
    objectGet: db.prepare<[string, Buffer], ObjectRow>(`SELECT ${OBJECT_COLS} FROM objects WHERE bucket = ? AND key = ?`),
    objectGetBody: db.prepare<[string, Buffer], ObjectBodyRow>(`SELECT ${OBJECT_COLS}, inline_data FROM objects WHERE bucket = ? AND key = ?`),
    objectUpsert: db.prepare<ObjectWrite>(
      `INSERT INTO objects (bucket, key, size, etag, last_modified, parts_count, blob, meta, inline_data, upload_id)
       VALUES (@bucket, @key, @size, @etag, @lastModified, @partsCount, @blob, @meta, @inlineData, @uploadId)
       ON CONFLICT (bucket, key) DO UPDATE SET size = excluded.size, etag = excluded.etag,
         last_modified = excluded.last_modified, parts_count = excluded.parts_count,
         blob = excluded.blob, meta = excluded.meta, inline_data = excluded.inline_data, upload_id = excluded.upload_id`,
    ),
    objectDelete: db.prepare<[string, Buffer]>('DELETE FROM objects WHERE bucket = ? AND key = ?'),
    objectGetUpload: db.prepare<[string, Buffer], ObjectUploadRow>(`SELECT ${OBJECT_COLS}, upload_id FROM objects WHERE bucket = ? AND key = ?`),
    objectPartInsert: db.prepare<[string, Buffer, number, number, number, string | null]>(
      'INSERT INTO object_parts (bucket, key, part_index, first_byte, size, checksum) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    objectPartGet: db.prepare<[string, Buffer, number], ObjectPartRow>(
      'SELECT first_byte, size, checksum FROM object_parts WHERE bucket = ? AND key = ? AND part_index = ?',
    ),
    objectPartsDelete: db.prepare<[string, Buffer]>('DELETE FROM object_parts WHERE bucket = ? AND key = ?'),
    blobReferenced: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM objects WHERE blob = ?'),
    listFrom: db.prepare<[string, Buffer], ObjectRow>(`SELECT ${OBJECT_COLS} FROM objects WHERE bucket = ? AND key >= ? ORDER BY key`),
    listRange: db.prepare<[string, Buffer, Buffer], ObjectRow>(
      `SELECT ${OBJECT_COLS} FROM objects WHERE bucket = ? AND key >= ? AND key < ? ORDER BY key`,
    ),
    uploadInsert: db.prepare<[string, string, Buffer, number, string, ChecksumAlgorithm | null, ChecksumType | null]>(
      'INSERT INTO uploads (id, bucket, key, initiated, meta, checksum_algorithm, checksum_type) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    uploadGet: db.prepare<[string], UploadRow>(`SELECT ${UPLOAD_COLS} FROM uploads WHERE id = ?`),
    uploadDelete: db.prepare<[string]>('DELETE FROM uploads WHERE id = ?'),
    uploadsFrom: db.prepare<[string, Buffer, string], UploadRow>(
      `SELECT ${UPLOAD_COLS} FROM uploads WHERE bucket = ? AND (key, id) > (?, ?) ORDER BY key, id`,
    ),
    uploadsRange: db.prepare<[string, Buffer, string, Buffer], UploadRow>(
      `SELECT ${UPLOAD_COLS} FROM uploads WHERE bucket = ? AND (key, id) > (?, ?) AND key < ? ORDER BY key, id`,
    ),
    partUpsert: db.prepare<[string, number, string, number, number, string | null]>(
      `INSERT INTO parts (upload_id, part_number, etag, size, last_modified, checksum) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (upload_id, part_number) DO UPDATE SET etag = excluded.etag, size = excluded.size,
         last_modified = excluded.last_modified, checksum = excluded.checksum`,
    ),
    partGet: db.prepare<[string, number], PartRow>(`SELECT ${PART_COLS} FROM parts WHERE upload_id = ? AND part_number = ?`),
    partsPage: db.prepare<[string, number, number], PartRow>(
      `SELECT ${PART_COLS} FROM parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?`,
    ),
    partsAll: db.prepare<[string], PartRow>(`SELECT ${PART_COLS} FROM parts WHERE upload_id = ? ORDER BY part_number`),
    partsDelete: db.prepare<[string]>('DELETE FROM parts WHERE upload_id = ?'),
  };
}

/** The prepared statements of one store. */
export type Statements = ReturnType<typeof prepareStatements>;

/** Prepares every statement the local store uses, once per opened index. */
export function createStatements(db: Database.Database): Statements {
  return prepareStatements(db);
}

/** Content type S3 reports when the writer gave none. */
export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

/** Serialises the metadata of a write (checksums already resolved). */
export function encodeMeta(options: PutObjectOptions | undefined, checksums: ObjectMetadata['checksums'], checksumType?: ChecksumType): string {
  const meta: ObjectMetadata = {
    contentType: options?.contentType ?? DEFAULT_CONTENT_TYPE,
    userMetadata: { ...(options?.userMetadata ?? {}) },
    httpHeaders: { ...(options?.httpHeaders ?? {}) },
    checksums: { ...checksums },
    ...(checksumType === undefined ? {} : { checksumType }),
  };
  return JSON.stringify(meta);
}

/** Parses stored metadata. */
export function decodeMeta(text: string): ObjectMetadata {
  return JSON.parse(text) as ObjectMetadata;
}

/** Builds the port's ObjectInfo from a row. */
export function toObjectInfo(bucket: string, row: ObjectRow): ObjectInfo {
  const meta = decodeMeta(row.meta);
  return {
    bucket,
    key: row.key.toString('utf8'),
    size: row.size,
    etag: row.etag,
    lastModified: new Date(row.last_modified),
    contentType: meta.contentType,
    userMetadata: meta.userMetadata,
    httpHeaders: meta.httpHeaders,
    checksums: meta.checksums,
    ...(meta.checksumType === undefined ? {} : { checksumType: meta.checksumType }),
    ...(row.parts_count === null ? {} : { partsCount: row.parts_count }),
  };
}

/** Builds the port's UploadInfo from a row. */
export function toUploadInfo(row: UploadRow): UploadInfo {
  return {
    bucket: row.bucket,
    key: row.key.toString('utf8'),
    uploadId: row.id,
    initiated: new Date(row.initiated),
    ...(row.checksum_algorithm === null ? {} : { checksumAlgorithm: row.checksum_algorithm }),
    ...(row.checksum_type === null ? {} : { checksumType: row.checksum_type }),
  };
}

/** Builds the port's PartInfo from a row. */
export function toPartInfo(row: PartRow): PartInfo {
  return {
    partNumber: row.part_number,
    etag: row.etag,
    size: row.size,
    lastModified: new Date(row.last_modified),
    ...(row.checksum === null ? {} : { checksum: row.checksum }),
  };
}
