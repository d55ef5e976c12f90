/**
 * Prints the line and branch coverage of each src folder from c8's json-summary
 * (coverage/coverage-summary.json, written by `npm run coverage`), then every src file under 80%
 * of its lines.
 */
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { z } from 'zod';

const ROOT = resolve(import.meta.dirname, '..');
const SUMMARY = join(ROOT, 'coverage/coverage-summary.json');
const THRESHOLD = 80;

const counts = z.object({ total: z.number(), covered: z.number() });
const entry = z.object({ lines: counts, branches: counts });
const summary = z.record(z.string(), entry);

type Counts = z.infer<typeof counts>;

const pct = (c: Counts): string => (c.total === 0 ? '100.0' : ((100 * c.covered) / c.total).toFixed(1));
const add = (a: Counts, b: Counts): Counts => ({ total: a.total + b.total, covered: a.covered + b.covered });

function main(): void {
  const files = summary.parse(JSON.parse(readFileSync(SUMMARY, 'utf8')) as unknown);
  const folders = new Map<string, { lines: Counts; branches: Counts; files: number }>();
  const low: { file: string; lines: Counts }[] = [];
  for (const [path, c] of Object.entries(files)) {
    if (path === 'total') continue;
    const rel = relative(join(ROOT, 'src'), path);
    if (rel.startsWith('..')) continue;
    const parts = rel.split('/');
    const folder = parts.length > 1 ? `src/${parts.slice(0, -1).join('/')}` : 'src';
    const f = folders.get(folder) ?? { lines: { total: 0, covered: 0 }, branches: { total: 0, covered: 0 }, files: 0 };
    folders.set(folder, { lines: add(f.lines, c.lines), branches: add(f.branches, c.branches), files: f.files + 1 });
    if (c.lines.total > 0 && (100 * c.lines.covered) / c.lines.total < THRESHOLD) low.push({ file: `src/${rel}`, lines: c.lines });
  }
  const rows = [...folders.entries()].sort(([a], [b]) => a.localeCompare(b));
  const width = Math.max(...rows.map(([name]) => name.length), 'folder'.length);
  console.log(`\n${'folder'.padEnd(width)}  files   lines %  (covered/total)   branches %  (covered/total)`);
  let lines: Counts = { total: 0, covered: 0 };
  let branches: Counts = { total: 0, covered: 0 };
  for (const [name, f] of rows) {
    lines = add(lines, f.lines);
    branches = add(branches, f.branches);
    console.log(`${name.padEnd(width)}  ${String(f.files).padStart(5)}   ${pct(f.lines).padStart(7)}  (${f.lines.covered}/${f.lines.total})`.padEnd(width + 44) + `${pct(f.branches).padStart(10)}  (${f.branches.covered}/${f.branches.total})`);
  }
  console.log(`${'all of src'.padEnd(width)}  ${String(rows.reduce((n, [, f]) => n + f.files, 0)).padStart(5)}   ${pct(lines).padStart(7)}  (${lines.covered}/${lines.total})`.padEnd(width + 44) + `${pct(branches).padStart(10)}  (${branches.covered}/${branches.total})`);
  console.log(`\nsrc files under ${THRESHOLD}% of lines:`);
  for (const l of low.sort((a, b) => a.file.localeCompare(b.file))) console.log(`  ${l.file}: ${pct(l.lines)}% (${l.lines.covered}/${l.lines.total})`);
  if (low.length === 0) console.log('  none');
}

main();
