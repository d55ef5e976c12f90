/** The naming rule of result locations (README "Naming rule"), including stray slashes in its parts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resultLocations } from '../../src/runtime/index.js';

const out = { bucket: 'results', prefix: 'upper/out' };
const failed = { bucket: 'results-f', prefix: 'upper/failed' };

test('output and failure keys follow the naming rule', () => {
  assert.deepEqual(resultLocations(out, failed, 'id-1'), {
    output: { bucket: 'results', key: 'upper/out/id-1.out' },
    failure: { bucket: 'results-f', key: 'upper/failed/id-1-error.out' },
  });
  assert.deepEqual(resultLocations(out, failed, 'id-1', 'run/7', 'answer.json'), {
    output: { bucket: 'results', key: 'upper/out/run/7/answer.json' },
    failure: { bucket: 'results-f', key: 'upper/failed/run/7/answer.json-error.out' },
  });
});

test('stray slashes and empty parts leave no empty path segments at the joins', () => {
  const slashed = { bucket: 'b', prefix: '//a/b//' };
  assert.equal(resultLocations(slashed, slashed, 'x', '/ext/', undefined).output.key, 'a/b/ext/x.out');
  assert.equal(resultLocations(slashed, slashed, 'x', '', '/f/').output.key, 'a/b/f');
  assert.equal(resultLocations({ bucket: 'b', prefix: '' }, { bucket: 'b', prefix: '/' }, 'x', '///').failure.key, 'x-error.out');
  assert.equal(resultLocations({ bucket: 'b', prefix: 'p' }, failed, 'x', 'a//b').output.key, 'p/a//b/x.out');
});
