/** The delivery retry schedule (1 s doubling to 5 min by default) and the stable webhook event id. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventIdOf, retryDelayMs, webhookSignature } from '../../src/notify/index.js';

const POLICY = { initialBackoffMs: 1_000, maxBackoffMs: 300_000, maxAgeMs: 86_400_000, pollIntervalMs: 1_000 };

test('the wait after the n-th failed delivery doubles from initialBackoff and stops at maxBackoff', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100].map((n) => retryDelayMs(POLICY, n)), [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000]);
});

test('the event id is a UUID-shaped digest of the entry, the same for every attempt, different per entry', () => {
  const entry = { id: '7', endpoint: 'e', inferenceId: 'i', topic: 't', message: '{}', state: 'pending' as const, attempts: 0, createdAt: 1 };
  assert.match(eventIdOf(entry), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(eventIdOf({ ...entry, attempts: 5, lastError: 'x' }), eventIdOf(entry));
  assert.notEqual(eventIdOf({ ...entry, id: '8' }), eventIdOf(entry));
});

test('the webhook signature is sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>', () => {
  // Known answer: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key
  assert.equal(webhookSignature('key', '1700000000', '{"a":1}'), 'sha256=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03');
  assert.notEqual(webhookSignature('key', '1700000001', '{"a":1}'), webhookSignature('key', '1700000000', '{"a":1}'));
});
