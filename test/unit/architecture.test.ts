/**
 * Architecture rules, checked on the sources: features import each other only through their
 * index.ts (or light.ts), there are no import cycles between features, only the config module reads process.env,
 * and no `any` in src.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function feature(file: string): string {
  return relative(SRC, file).split('/')[0]!;
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/g)].map((m) => m[1]!);
}

const all = files(SRC);

/**
 * The files other features may import: a feature's index.ts, and its light.ts where it has one (a
 * subset of the index without heavy dependencies, for start-up-sensitive callers such as the CLI).
 */
const FEATURE_ENTRIES = ['index.ts', 'light.ts'];

test('cross-feature imports go through the feature index', () => {
  const bad: string[] = [];
  for (const file of all) {
    for (const spec of imports(file)) {
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      if (feature(target) === feature(file)) continue;
      const rel = relative(join(SRC, feature(target)), target);
      if (!FEATURE_ENTRIES.includes(rel)) bad.push(`${relative(SRC, file)} -> ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('a light.ts loads no npm package, however deep (it exists to keep start-up light)', () => {
  const bad: string[] = [];
  for (const entry of all.filter((f) => relative(join(SRC, feature(f)), f) === 'light.ts')) {
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)(?!\s+type\b)(?:[^'"]*?from\s+|\s*)['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        if (spec.startsWith('node:')) continue;
        if (!spec.startsWith('.')) { bad.push(`${relative(SRC, entry)}: ${relative(SRC, file)} imports ${spec}`); continue; }
        visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
    };
    visit(entry);
  }
  assert.deepEqual(bad, []);
});

test('no import cycles between features', () => {
  const graph = new Map<string, Set<string>>();
  for (const file of all) {
    const from = feature(file);
    for (const spec of imports(file)) {
      const to = feature(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      if (to !== from) (graph.get(from) ?? graph.set(from, new Set()).get(from)!).add(to);
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (node: string, path: string[]): void => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'visiting') { cycles.push([...path, node].join(' -> ')); return; }
    state.set(node, 'visiting');
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of graph.keys()) visit(node, []);
  assert.deepEqual(cycles, []);
});

test('only the config module reads process.env', () => {
  const readers = all.filter((f) => feature(f) !== 'config' && /process\.env/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(readers.map((f) => relative(SRC, f)), []);
});

test('no any in src', () => {
  const withAny = all.filter((f) => /:\s*any\b|as any\b|<any>/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(withAny.map((f) => relative(SRC, f)), []);
});

test('every module starts with a header comment', () => {
  const missing = all.filter((f) => !/^(#!.*\n)?\s*\/\*\*?/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(missing.map((f) => relative(SRC, f)), []);
});
