/**
 * Test helper for the in-process tests (it loads src/errors): asserting that a promise rejects
 * with an InferqError of given codes. Not for test/e2e, which never loads src.
 */
import assert from 'node:assert/strict';
import { isInferqError, type ErrorCode } from '../../src/errors/index.js';

/** Asserts that `promise` rejects with an InferqError of one of `codes`; returns its details. */
export async function rejectsWith(promise: Promise<unknown>, ...codes: ErrorCode[]): Promise<Readonly<Record<string, string | number>>> {
  let details: Readonly<Record<string, string | number>> = {};
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isInferqError(err), `expected an InferqError, got ${String(err)}`);
    assert.ok(codes.includes(err.code), `expected ${codes.join('|')}, got ${err.code}: ${err.message}`);
    details = err.details;
    return true;
  });
  return details;
}
