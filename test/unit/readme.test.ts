/**
 * The README is true about configuration: every ```yaml block is a complete configuration file that
 * the server accepts (written to a file and read by `resolveConfig`, the same parse `inferq serve`
 * runs: YAML with unique keys, the schema, the cross-field rules), every key of the configuration
 * reference table exists in the schema with the default the table gives (when the cell is one
 * literal), and every setting of the schema is documented in the table or the reference example
 * (a commented-out `# key: …` line counts).
 *
 * A block that shows a part of a file still writes the keys above it (`endpoints:`, `- name:`,
 * `model:`), which are short; there are no fragments. Blocks in other languages are not checked, nor
 * are Kubernetes manifests (a block with top-level `apiVersion:` and `kind:`, such as the KEDA examples).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configFileSchema, resolveConfig } from '../../src/config/index.js';

const README = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'inferq-readme-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** True for a Kubernetes manifest (top-level `apiVersion:` and `kind:`), which is not an inferq configuration. */
const isKubernetesManifest = (text: string): boolean => /^apiVersion:/m.test(text) && /^kind:/m.test(text);

/** The ```yaml blocks (inferq configurations) with the line each starts on. */
function yamlBlocks(): { line: number; text: string }[] {
  const blocks: { line: number; text: string }[] = [];
  for (const m of README.matchAll(/^```ya?ml[^\S\n]*\n([\s\S]*?)^```[^\S\n]*$/gm)) {
    if (isKubernetesManifest(m[1]!)) continue;
    blocks.push({ line: README.slice(0, m.index).split('\n').length, text: m[1]! });
  }
  return blocks;
}

/** The schema under its defaults and optionality. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    else return s;
  }
}

/** Every setting of a schema as a path (`server.host`, `endpoints[].model.url`, `server.credentials[].accessKeyId`). */
function schemaKeys(schema: z.ZodType, prefix: string): string[] {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) => schemaKeys(v, prefix ? `${prefix}.${k}` : k));
  if (s instanceof z.ZodArray && unwrap(s.element as z.ZodType) instanceof z.ZodObject) return schemaKeys(s.element as z.ZodType, `${prefix}[]`);
  return [prefix];
}

/** The keys a parsed YAML value sets, in the same path notation. */
function yamlKeys(value: unknown, prefix: string): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => yamlKeys(v, `${prefix}[]`));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [prefix ? `${prefix}.${k}` : k, ...yamlKeys(v, prefix ? `${prefix}.${k}` : k)]);
  return [];
}

/** Rows of the configuration reference table: key and default cell. */
function tableRows(): { key: string; defaultCell: string }[] {
  const section = README.slice(README.indexOf('## Configuration reference'), README.indexOf('\n## ', README.indexOf('## Configuration reference') + 5));
  return [...section.matchAll(/^\| `([\w.[\]]+)` \| ([^|]*) \|/gm)].map((m) => ({ key: m[1]!, defaultCell: m[2]!.trim() }));
}

/** The default of `key` in a minimal configuration (undefined when it has none). */
function defaultOf(key: string): unknown {
  const parsed = configFileSchema.parse({ endpoints: [{ name: 'e', model: { builtin: 'echo' } }] });
  let value: unknown = parsed;
  for (const part of key.split('.')) {
    const name = part.replace(/\[\]$/, '');
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined;
    if (part.endsWith('[]')) value = Array.isArray(value) ? value[0] : undefined;
  }
  return value;
}

test('the README has the configuration example and the model example as yaml blocks', () => {
  assert.ok(yamlBlocks().length >= 2, 'yaml blocks found');
});

test('every yaml block of the README is a configuration the server accepts', () => {
  for (const [i, block] of yamlBlocks().entries()) {
    const file = join(dir, `block-${i}.yaml`);
    writeFileSync(file, block.text);
    assert.doesNotThrow(() => resolveConfig({ configFile: file }, dir), (err: unknown) => {
      throw new Error(`README.md line ${block.line}: ${(err as Error).message}`);
    });
  }
});

test('every key of the configuration reference table exists, with the default the table gives', () => {
  const keys = schemaKeys(configFileSchema, '');
  const rows = tableRows();
  assert.ok(rows.length >= 10, 'table rows found');
  for (const { key, defaultCell } of rows) {
    assert.ok(keys.some((k) => k === key || k.startsWith(`${key}.`) || k.startsWith(`${key}[]`)), `README table key ${key} is not a setting`);
    const literal = /^`([^`]*)`$/.exec(defaultCell);
    if (!literal) continue;
    assert.deepEqual(defaultOf(key), parseYaml(literal[1]!), `README table default of ${key}`);
  }
});

test('every setting of the schema is documented in the reference table or the reference example', () => {
  const example = yamlBlocks().find((b) => /^server:/m.test(b.text) && /^worker:/m.test(b.text));
  assert.ok(example, 'the reference example (with server: and worker:) is a yaml block');
  // Commented-out keys (`# url: …`, the alternatives of a setting) document their key too.
  const uncommented = example.text.replace(/^(\s*)# (\w+:)/gm, '$1$2');
  const documented = new Set(yamlKeys(parseYaml(uncommented), ''));
  const rows = tableRows().map((r) => r.key);
  const missing = schemaKeys(configFileSchema, '').filter((key) => !documented.has(key) && !rows.some((r) => key === r || key.startsWith(`${r}.`) || key.startsWith(`${r}[]`)));
  assert.deepEqual(missing, [], 'settings the README does not mention');
});
