import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CATALOGUE, InferqError, renderErrorsDoc, toInferqError } from '../../src/errors/index.js';

test('docs/errors.md matches the catalogue (run npm run docs:errors)', () => {
  assert.equal(readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8'), renderErrorsDoc());
});

test('every catalogue entry has a client-error or server-error status and names for both APIs', () => {
  for (const [code, spec] of Object.entries(ERROR_CATALOGUE)) {
    assert.ok(spec.httpStatus >= 300 && spec.httpStatus < 600, code);
    assert.match(spec.s3, /^[A-Z][A-Za-z0-9]+$/, code);
    assert.match(spec.sagemaker, /^[A-Z][A-Za-z0-9]+$/, code);
    if (spec.retryable) assert.ok(spec.httpStatus >= 500 || spec.httpStatus === 429, `${code}: only server-side failures and throttling are retryable`);
  }
});

test('unknown throwables become a retryable InternalError, known ones pass through', () => {
  const wrapped = toInferqError(new TypeError('boom'));
  assert.equal(wrapped.code, 'InternalError');
  assert.equal(wrapped.retryable, true);
  assert.ok(wrapped.cause instanceof TypeError);
  const known = new InferqError('NoSuchKey', 'gone', { Key: 'k' });
  assert.equal(toInferqError(known), known);
  assert.equal(known.httpStatus, 404);
});
