/**
 * `npm run bench`: starts the real inferq server (built dist) and a bare node:http baseline, runs
 * each benchmark against both in the same run and prints tables. Not a test: numbers only.
 * `--quick` runs smaller counts; `--only=s3|async|realtime|pipeline|cli|scale` runs one group
 * (`pipeline`: the async row (b) alone; `scale`: PostgreSQL with 1 and 2 worker processes beside
 * SQLite, bench/scale.ts). `--compare=DIR` adds another built checkout (e.g. a `git worktree` of an
 * older commit, with its own dist/) to row (b) and the real-time echo rows, measured in the same
 * rounds: an A/B of two builds. (The cli group has its own `--cli-before=DIST`.)
 */
import { cpus } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchAsync, benchPipeline, type PipelineBuild } from './async.js';
import { benchCli } from './cli.js';
import { benchRealtime } from './realtime.js';
import { benchScale } from './scale.js';
import { benchObjectStore } from './s3.js';
import { startProcess, type BenchServer } from './process.js';

const ROOT = resolve(import.meta.dirname, '..');

export type { BenchServer } from './process.js';

/** Starts inferq with a YAML config; `prepare` runs on the data dir before start. */
export type StartServer = (configYaml: string, prepare?: (dataDir: string) => Promise<void>) => Promise<BenchServer>;

/** Starts the inferq built in checkout `root` (its dist/). */
const inferqAt = (root: string): StartServer => async (configYaml, prepare) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'inferq-bench-'));
  const config = join(dataDir, 'inferq.yaml');
  writeFileSync(config, configYaml);
  await prepare?.(dataDir);
  return startProcess([join(root, 'dist/cli/main.js'), 'serve', '--port', '0', '--data-dir', dataDir, '--config', config], () => rmSync(dataDir, { recursive: true, force: true }));
};

const startInferq = inferqAt(ROOT);

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const compareRoot = process.argv.find((a) => a.startsWith('--compare='))?.slice('--compare='.length);
  const compare: PipelineBuild | undefined = compareRoot ? { name: compareRoot, start: inferqAt(resolve(compareRoot)) } : undefined;
  process.stdout.write(`inferq benchmarks on node ${process.version}, ${cpus().length} cores${quick ? ' (quick)' : ''}\n`);
  const baseline = await startProcess(['--import', 'tsx', join(ROOT, 'bench/baseline-server.ts')]);
  try {
    if (!only || only === 's3') {
      const inferq = await startInferq('server: {}\n');
      await benchObjectStore(inferq, baseline, quick);
      await inferq.stop();
    }
    if (!only || only === 'async') await benchAsync(startInferq, baseline, quick, compare);
    if (only === 'pipeline') await benchPipeline([{ name: 'this build', start: startInferq }, ...(compare ? [compare] : [])], baseline, quick);
    if (!only || only === 'realtime') await benchRealtime(startInferq, quick, compare === undefined ? undefined : { label: compare.name, start: compare.start });
    if (!only || only === 'cli') await benchCli(startInferq, quick);
    if (only === 'scale') await benchScale(quick);
  } finally {
    await baseline.stop();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
