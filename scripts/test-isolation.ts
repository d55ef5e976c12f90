/**
 * `npm run test:isolation [-- FILE… | --grep REGEX]`: runs every test of the given test files
 * (default: test/e2e/*.test.ts) ALONE, each in a fresh `node --test` process selected with
 * `--test-name-pattern` anchored to its name, and reports every test that fails by itself (an
 * order dependence: it relied on an earlier test of its file). Meant for local use (it starts
 * each file's servers once per test, so it takes long); not run in CI. Needs a current build
 * (the npm script builds first).
 *
 * The name pattern: Node 20 matches it against a test's own name, Node 22 against the suite
 * names and the test's name joined by spaces; `^(?:<suites> )?<name>$` selects the test on both.
 * On Node 20 two tests of one file with the same name cannot be told apart: such names are
 * reported (and the test still run, with every test of that name).
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const REPORTER = join(ROOT, 'scripts/test-events-reporter.mjs');
const PER_TEST_TIMEOUT_MS = 180_000;
const MATCHES_NOTHING = '^(?!)$';
const NOT_SELECTED = 'test name does not match pattern';

/** One line of scripts/test-events-reporter.mjs: a finished test (or failed suite). */
interface TestLine {
  file: string | undefined;
  path: string[];
  name: string;
  passed: boolean;
  skip: string | undefined;
  todo: string | undefined;
  error: string | undefined;
  durationMs: number;
}

interface Run {
  code: number | null;
  lines: TestLine[];
  stderr: string;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs `node --test` on one file with a name pattern and collects the reporter's lines. */
function runFile(file: string, pattern: string): Promise<Run> {
  const args = ['--import', 'tsx', '--test', '--test-concurrency=1', `--test-timeout=${PER_TEST_TIMEOUT_MS}`, `--test-reporter=${REPORTER}`, `--test-name-pattern=${pattern}`, file];
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c; });
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as TestLine);
      resolveRun({ code, lines, stderr: err });
    });
  });
}

/** The pattern selecting exactly `test` (see the header). */
function patternFor(test: TestLine): string {
  const suites = test.path.length > 0 ? `(?:${escape(test.path.join(' '))} )?` : '';
  return `^${suites}${escape(test.name)}$`;
}

const fullName = (t: TestLine): string => [...t.path, t.name].join(' › ');

function parseArgs(argv: string[]): { files: string[]; grep: RegExp | undefined } {
  const files: string[] = [];
  let grep: RegExp | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--grep') grep = new RegExp(argv[++i] ?? '');
    else files.push(resolve(argv[i]!));
  }
  if (files.length === 0) {
    const dir = join(ROOT, 'test/e2e');
    for (const name of readdirSync(dir).sort()) if (name.endsWith('.test.ts')) files.push(join(dir, name));
  }
  return { files, grep };
}

/** Runs each test of `file` alone; returns the failures (as report lines). */
async function isolateFile(file: string, grep: RegExp | undefined): Promise<{ failures: string[]; passed: number; skipped: number }> {
  const rel = relative(ROOT, file);
  const listing = await runFile(file, MATCHES_NOTHING);
  const tests = listing.lines.filter((t) => t.skip === NOT_SELECTED).filter((t) => !grep || grep.test(fullName(t)));
  const failures: string[] = [];
  const byName = new Map<string, number>();
  for (const t of listing.lines) byName.set(t.name, (byName.get(t.name) ?? 0) + 1);
  for (const [name, n] of byName) if (n > 1) failures.push(`${rel}: ${n} tests are named "${name}": they cannot be run alone on Node 20 (give them distinct names)`);
  if (listing.code !== 0) failures.push(`${rel}: fails with no test selected (a hook?):\n${listing.lines.filter((t) => !t.passed).map((t) => `${fullName(t)}: ${t.error}`).join('\n')}${listing.stderr.slice(-2000)}`);
  console.log(`${rel}: ${tests.length} tests`);
  let passed = 0;
  let skipped = 0;
  for (const test of tests) {
    const started = Date.now();
    const run = await runFile(file, patternFor(test));
    const ran = run.lines.filter((t) => t.skip !== NOT_SELECTED);
    const self = ran.find((t) => t.name === test.name && t.path.join('\0') === test.path.join('\0'));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const others = ran.filter((t) => t !== self);
    if (self?.skip !== undefined || self?.todo !== undefined) {
      skipped++;
      console.log(`  - ${fullName(test)} (skipped: ${self.skip ?? self.todo})`);
    } else if (self?.passed && run.code === 0) {
      passed++;
      console.log(`  ✔ ${fullName(test)} (${seconds} s)`);
    } else {
      const why = self ? (self.error ?? `exit code ${run.code}`) : `did not run (exit code ${run.code})\n${run.stderr.slice(-2000)}`;
      const extra = others.filter((t) => !t.passed).map((t) => `\n      also failed: ${fullName(t)}: ${t.error ?? ''}`).join('');
      const report = `${rel} › ${fullName(test)}: fails when run alone (${seconds} s):\n      ${why.split('\n').join('\n      ')}${extra}`;
      failures.push(report);
      console.log(`  ✖ ${fullName(test)} (${seconds} s)\n      ${why.split('\n').slice(0, 4).join('\n      ')}`);
    }
  }
  return { failures, passed, skipped };
}

async function main(): Promise<void> {
  const { files, grep } = parseArgs(process.argv.slice(2));
  const failures: string[] = [];
  let passed = 0;
  let skipped = 0;
  const started = Date.now();
  for (const file of files) {
    const result = await isolateFile(file, grep);
    failures.push(...result.failures);
    passed += result.passed;
    skipped += result.skipped;
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  console.log(`\n${passed} tests pass alone, ${skipped} skipped, ${failures.length} problems (${files.length} files, ${minutes} min)`);
  for (const f of failures) console.log(`\n✖ ${f}`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}

await main();
