/**
 * How the tests run the code: the end-to-end tests (test/e2e) and everything they import run the
 * BUILT server (dist/, built by `npm test` first) and never load src/ at run time (type-only
 * imports are erased), so they test what ships; the in-process tests of the other folders import
 * src/. One exception: the client side of SigV4 (src/auth's `signRequest` and canonical-request
 * code) may sign raw requests that SDKs cannot express; the server under test is still dist/, and
 * SDK-based tests plus test/helpers/sigv4.ts (independent of src) check agreement with real clients. Also: test names are unique within a file (so `--test-name-pattern` can pick one alone,
 * as scripts/test-isolation.ts does on Node 20).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const E2E = join(ROOT, 'test/e2e');
/** The one src module e2e tests may load: the SigV4 client side, to sign raw requests (see the header). */
const CLIENT_SIGNER = 'src/auth/index.ts';

/** The relative modules a file loads at run time: value imports, re-exports and dynamic imports (not `import type`). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(import|export)(\s+type)?\b[^'"]*?\bfrom\s+['"](\.[^'"]+)['"]/g)) if (!m[2]) specs.push(m[3]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+['"](\.[^'"]+)['"]/g)) specs.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  return specs.map((spec) => {
    const target = resolve(dirname(file), spec);
    return existsSync(target.replace(/\.js$/, '.ts')) ? target.replace(/\.js$/, '.ts') : target;
  });
}

test('the e2e tests and the helpers they import never load src/ (they run dist/)', () => {
  const offenders: string[] = [];
  const seen = new Set<string>();
  const visit = (file: string, chain: string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const target of runtimeImports(file)) {
      const rel = relative(ROOT, target);
      if (rel === CLIENT_SIGNER) continue;
      if (rel.startsWith('src/')) offenders.push([...chain, relative(ROOT, file), rel].join(' -> '));
      else if (target.endsWith('.ts')) visit(target, [...chain, relative(ROOT, file)]);
    }
  };
  for (const name of readdirSync(E2E)) if (name.endsWith('.ts')) visit(join(E2E, name), []);
  assert.ok(seen.size > readdirSync(E2E).length, 'the helpers were followed');
  assert.deepEqual(offenders, []);
});

test('test names are unique within each test file', () => {
  const duplicates: string[] = [];
  for (const dir of readdirSync(join(ROOT, 'test'))) {
    const folder = join(ROOT, 'test', dir);
    if (!existsSync(folder) || dir === 'fixtures') continue;
    for (const name of readdirSync(folder)) {
      if (!name.endsWith('.test.ts')) continue;
      const text = readFileSync(join(folder, name), 'utf8');
      const names = [...text.matchAll(/\b(?:test|it)\(\s*'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1]!);
      const counts = new Map<string, number>();
      for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
      for (const [n, c] of counts) if (c > 1) duplicates.push(`test/${dir}/${name}: "${n}" ×${c}`);
    }
  }
  assert.deepEqual(duplicates, []);
});
