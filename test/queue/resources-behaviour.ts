/**
 * The ResourceStore behaviour suite, run on every backend (resources.test.ts): create never
 * overwrites, replace and delete report whether the resource existed, kinds are separate
 * namespaces (the control plane's and Application Auto Scaling's), lists are ordered by key, and what was written survives a reopen.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResourceStore, StoredResource } from '../../src/queue/index.js';

/** Opens a store on empty storage; `reopen` opens another store on the same storage. */
export type OpenResourceStore = () => Promise<{ store: ResourceStore; reopen: () => Promise<ResourceStore>; cleanup: () => Promise<void> }>;

function resource(key: string, doc: object, kind: StoredResource['kind'] = 'endpoint'): StoredResource {
  return { kind, key, doc: JSON.stringify(doc), createdAt: 1_000, modifiedAt: 1_000 };
}

/** Registers the suite under `name`. */
export function describeResourceStoreBehaviour(name: string, open: OpenResourceStore): void {
  describe(`ResourceStore behaviour (${name})`, () => {
    it('creates once, gets, replaces, lists by key and deletes', async () => {
      const { store, cleanup } = await open();
      try {
        assert.equal(await store.create(resource('b', { v: 1 })), true);
        assert.equal(await store.create(resource('b', { v: 2 })), false, 'create never overwrites');
        assert.equal(await store.create(resource('a', { v: 3 })), true);
        assert.deepEqual(JSON.parse((await store.get('endpoint', 'b'))!.doc), { v: 1 });
        assert.equal(await store.replace('endpoint', 'b', JSON.stringify({ v: 4 }), 2_000), true);
        const b = await store.get('endpoint', 'b');
        assert.deepEqual({ doc: JSON.parse(b!.doc) as unknown, created: b!.createdAt, modified: b!.modifiedAt }, { doc: { v: 4 }, created: 1_000, modified: 2_000 });
        assert.equal(await store.replace('endpoint', 'zz', '{}', 2_000), false);
        assert.deepEqual((await store.list('endpoint')).map((r) => r.key), ['a', 'b']);
        assert.equal(await store.delete('endpoint', 'a'), true);
        assert.equal(await store.delete('endpoint', 'a'), false);
        assert.equal(await store.get('endpoint', 'a'), undefined);
        assert.deepEqual((await store.list('endpoint')).map((r) => r.key), ['b']);
      } finally {
        await cleanup();
      }
    });

    it('replaces with a compare-and-set only while the document is the one expected', async () => {
      const { store, cleanup } = await open();
      try {
        assert.equal(await store.create(resource('c', { v: 1 })), true);
        const seen = (await store.get('endpoint', 'c'))!.doc;
        assert.equal(await store.replace('endpoint', 'c', JSON.stringify({ v: 2 }), 2_000, seen), true, 'the document was the one read');
        assert.equal(await store.replace('endpoint', 'c', JSON.stringify({ v: 3 }), 3_000, seen), false, 'someone changed it since');
        const c = await store.get('endpoint', 'c');
        assert.deepEqual({ doc: JSON.parse(c!.doc) as unknown, modified: c!.modifiedAt }, { doc: { v: 2 }, modified: 2_000 });
        assert.equal(await store.replace('endpoint', 'nope', '{}', 2_000, '{}'), false);
      } finally {
        await cleanup();
      }
    });

    it('keeps kinds apart', async () => {
      const { store, cleanup } = await open();
      try {
        assert.equal(await store.create(resource('x', { m: true }, 'model')), true);
        assert.equal(await store.create(resource('x', { c: true }, 'endpoint-config')), true);
        assert.equal(await store.get('endpoint', 'x'), undefined);
        assert.deepEqual(JSON.parse((await store.get('model', 'x'))!.doc), { m: true });
        assert.deepEqual((await store.list('endpoint-config')).map((r) => r.key), ['x']);
        assert.equal(await store.delete('model', 'x'), true);
        assert.notEqual(await store.get('endpoint-config', 'x'), undefined);
      } finally {
        await cleanup();
      }
    });

    it('stores scalable targets and scaling policies as kinds of their own', async () => {
      const { store, reopen, cleanup } = await open();
      try {
        const target = 'endpoint/ep/variant/AllTraffic';
        const policy = `${target}:policyName/backlog`;
        assert.equal(await store.create(resource(target, { min: 0, max: 2 }, 'scalable-target')), true);
        assert.equal(await store.create(resource(target, { min: 1, max: 1 }, 'scalable-target')), false, 'create never overwrites');
        assert.equal(await store.create(resource(policy, { target: 5 }, 'scaling-policy')), true);
        assert.equal(await store.create(resource(`${target}:policyName/another`, { target: 9 }, 'scaling-policy')), true);
        assert.equal(await store.get('endpoint', target), undefined);
        assert.equal(await store.get('scaling-policy', target), undefined);
        assert.equal(await store.replace('scalable-target', target, JSON.stringify({ min: 0, max: 4 }), 3_000), true);
        assert.deepEqual((await store.list('scaling-policy')).map((r) => r.key), [`${target}:policyName/another`, policy]);
        assert.equal(await store.delete('scaling-policy', policy), true);
        await store.close();
        const again = await reopen();
        try {
          const kept = await again.get('scalable-target', target);
          assert.deepEqual({ kind: kept!.kind, doc: JSON.parse(kept!.doc) as unknown, modified: kept!.modifiedAt }, { kind: 'scalable-target', doc: { min: 0, max: 4 }, modified: 3_000 });
          assert.deepEqual((await again.list('scaling-policy')).map((r) => r.kind), ['scaling-policy']);
        } finally {
          await again.close();
        }
      } finally {
        await cleanup();
      }
    });

    it('keeps what was written across a reopen, and refuses calls once closed', async () => {
      const { store, reopen, cleanup } = await open();
      try {
        await store.create(resource('kept', { n: 1 }));
        await store.close();
        await assert.rejects(store.get('endpoint', 'kept'), (err: Error) => 'code' in err && err.code === 'ServiceUnavailable');
        const again = await reopen();
        try {
          assert.deepEqual(JSON.parse((await again.get('endpoint', 'kept'))!.doc), { n: 1 });
        } finally {
          await again.close();
        }
      } finally {
        await cleanup();
      }
    });
  });
}
