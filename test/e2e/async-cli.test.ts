/**
 * The command line around asynchronous inference: `inferq worker` running the workers in a
 * separate process against the data directory of a `serve` without workers, and `inferq invoke`
 * (upload, invoke, follow, fetch the result or show the failure; an idempotent replay with the same
 * --inference-id and file), and the help and flag checking of every command.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { awsEnv, run } from '../helpers/clients.js';
import { CLI, START_TIMEOUT_MS, assertBuilt, awaitOutput, collectOutput, type ServerProcess } from '../helpers/server.js';
import {
  Harness, awaitChange, awaitTerminal, fixtureModel, getStatus, invokeRaw, isOurModel, modelPids, readObject, terminalObjects,
} from '../helpers/async.js';

const h = new Harness();
const workers: ChildProcess[] = [];

after(async () => {
  for (const w of workers) {
    if (w.exitCode === null && w.signalCode === null) {
      w.kill('SIGTERM');
      await once(w, 'exit');
    }
  }
  await h.cleanup();
});

/** Starts `inferq worker` and resolves once it logs that its workers run (rejects if it exits first, or after START_TIMEOUT_MS); returns the process and its output. */
async function startWorker(config: string, dataDir: string): Promise<{ proc: ChildProcess; output: () => string }> {
  assertBuilt();
  const proc = spawn(process.execPath, [CLI, 'worker', '--config', config, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  workers.push(proc);
  const output = collectOutput(proc);
  const track = (): void => h.track(output());
  proc.stdout.on('data', track);
  proc.stderr.on('data', track);
  await awaitOutput(proc, output, (out) => (/workers running/.test(out) ? true : undefined), '"workers running" from inferq worker', START_TIMEOUT_MS);
  return { proc, output };
}

describe('inferq worker', () => {
  test('serve without workers queues; a separate `inferq worker` on the same data dir runs the request, and stops its model on SIGTERM', async () => {
    const config = h.config({
      worker: { enabled: false },
      endpoints: [{ name: 'split', model: fixtureModel(), async: { outputPath: 's3://split/out', failurePath: 's3://split/err' } }],
    });
    const dataDir = h.dir();
    const server = await h.start(config, dataDir);
    assert.deepEqual(modelPids(server.output()), [], 'serve without workers starts no model');

    const res = await invokeRaw(server.url, 'split', { 'x-amzn-sagemaker-inference-id': 'split-1', 'x-amzn-sagemaker-content-type': 'text/plain' }, Buffer.from('done by a worker process'));
    assert.equal(res.status, 202, res.body.toString());
    assert.equal((await awaitChange(server.url, 'split', 'split-1', 'Queued', 1000)).Status, 'Queued', 'nothing runs requests yet');

    const worker = await startWorker(config, dataDir);
    const status = await awaitTerminal(server.url, 'split', 'split-1');
    assert.equal(status.Status, 'Succeeded', status.FailureReason);
    const { output, failure } = await terminalObjects(server.url, status);
    assert.equal(output?.body.toString(), 'done by a worker process');
    assert.equal(output?.contentType, 'text/plain');
    assert.equal(failure, undefined);

    // A second request is picked up from the queue by the running worker (cross-process wake-up).
    await invokeRaw(server.url, 'split', { 'x-amzn-sagemaker-inference-id': 'split-2' }, Buffer.from('second'));
    assert.equal((await awaitTerminal(server.url, 'split', 'split-2')).Status, 'Succeeded');

    const models = modelPids(worker.output());
    assert.equal(models.length, 1, worker.output());
    worker.proc.kill('SIGTERM');
    const [code] = (await once(worker.proc, 'exit')) as [number | null];
    assert.equal(code, 0, worker.output());
    assert.equal(isOurModel(models[0]!), false, 'the worker stopped its model process');
  });
});

describe('inferq invoke', () => {
  let server: ServerProcess;
  let dir: string;

  before(async () => {
    server = await h.start(h.config({
      endpoints: [
        { name: 'fixture', model: fixtureModel(), async: { outputPath: 's3://cli/out', failurePath: 's3://cli/err' } },
        { name: 'broken', model: fixtureModel({ FIXTURE_MODE: 'status-500' }), async: { outputPath: 's3://cli/broken-out', failurePath: 's3://cli/broken-err' } },
      ],
    }));
    dir = h.dir('inferq-invoke-');
    writeFileSync(join(dir, 'in.json'), '{"question": "life?"}\n');
  });

  const invoke = (args: string[]) => run(process.execPath, [CLI, 'invoke', ...args, '--endpoint-url', server.url], awsEnv('http://127.0.0.1:1'));

  test('--wait writes the result to stdout and exits 0; the content type reaches the model', async () => {
    const r = await invoke(['fixture', '--input', join(dir, 'in.json'), '--content-type', 'application/json', '--wait', '--inference-id', 'cli-wait-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"question": "life?"}\n');
    assert.match(r.stderr, /InferenceId cli-wait-1/);
    assert.match(r.stderr, /succeeded/);
    const out = await readObject(server.url, 's3://cli/out/cli-wait-1.out');
    assert.equal(out?.contentType, 'application/json', 'the fixture echoes the Content-Type it received');
  });

  test('--out FILE writes the result to the file', async () => {
    const target = join(dir, 'result.json');
    const r = await invoke(['fixture', '--input', join(dir, 'in.json'), '--wait', '--out', target]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(readFileSync(target, 'utf8'), '{"question": "life?"}\n');
    assert.match(r.stderr, new RegExp(`result written to ${target.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  });

  test('without --wait it prints the InferenceId and the locations', async () => {
    const r = await invoke(['fixture', '--input', join(dir, 'in.json'), '--inference-id', 'cli-nowait']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { InferenceId: 'cli-nowait', OutputLocation: 's3://cli/out/cli-nowait.out', FailureLocation: 's3://cli/err/cli-nowait-error.out' });
    assert.equal((await awaitTerminal(server.url, 'fixture', 'cli-nowait')).Status, 'Succeeded');
  });

  test('a failing model: non-zero exit, the reason and the failure object shown', async () => {
    const r = await invoke(['broken', '--input', join(dir, 'in.json'), '--wait', '--inference-id', 'cli-broken']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /request failed: ClientError: Received server error \(500\) from model/);
    assert.match(r.stderr, /s3:\/\/cli\/broken-err\/cli-broken-error\.out/);
    assert.match(r.stderr, /\{"error":"fixture status 500"\}/);
    assert.equal((await getStatus(server.url, 'broken', 'cli-broken')).Status, 'Failed');
  });

  test('--inference-id twice with the same file is a replay: same InferenceId and locations, one request, one model call', async () => {
    const input = join(dir, 'replay.json');
    writeFileSync(input, '{"replay": true}\n');
    const first = await invoke(['fixture', '--input', input, '--inference-id', 'cli-replay']);
    assert.equal(first.code, 0, first.stderr);
    const before = await awaitTerminal(server.url, 'fixture', 'cli-replay');
    assert.equal(before.Status, 'Succeeded', before.FailureReason);

    const again = await invoke(['fixture', '--input', input, '--inference-id', 'cli-replay']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), JSON.parse(first.stdout));
    assert.deepEqual(JSON.parse(again.stdout), { InferenceId: 'cli-replay', OutputLocation: 's3://cli/out/cli-replay.out', FailureLocation: 's3://cli/err/cli-replay-error.out' });
    const waited = await invoke(['fixture', '--input', input, '--inference-id', 'cli-replay', '--wait']);
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal(waited.stdout, '{"replay": true}\n', 'the replay waits for and prints the stored result');

    const after = await getStatus(server.url, 'fixture', 'cli-replay');
    assert.deepEqual(after, before, 'the same request: same InputLocation, times and a single attempt');
    assert.equal(after.Attempts, 1);
  });

  test('--inference-id reused with another file, or another content type, is a conflict (exit 1); the stored request is untouched', async () => {
    const input = join(dir, 'conflict.json');
    writeFileSync(input, '{"n": 1}\n');
    const first = await invoke(['fixture', '--input', input, '--inference-id', 'cli-conflict', '--wait']);
    assert.equal(first.code, 0, first.stderr);
    const before = await getStatus(server.url, 'fixture', 'cli-conflict');

    const other = join(dir, 'conflict-other.json');
    writeFileSync(other, '{"n": 2}\n');
    const changedFile = await invoke(['fixture', '--input', other, '--inference-id', 'cli-conflict']);
    assert.equal(changedFile.code, 1, changedFile.stderr);
    assert.equal(changedFile.stdout, '');
    assert.match(changedFile.stderr, /ValidationError: The InferenceId cli-conflict is already used by a different request on endpoint fixture\./);

    const changedType = await invoke(['fixture', '--input', input, '--inference-id', 'cli-conflict', '--content-type', 'text/plain']);
    assert.equal(changedType.code, 1, changedType.stderr);
    assert.match(changedType.stderr, /already used by a different request/);

    assert.deepEqual(await getStatus(server.url, 'fixture', 'cli-conflict'), before);
    assert.equal((await readObject(server.url, 's3://cli/out/cli-conflict.out'))?.body.toString(), '{"n": 1}\n');
  });

  test('an unknown flag: exit 2 naming it, before anything is uploaded or invoked', async () => {
    const r = await invoke(['fixture', '--input', join(dir, 'in.json'), '--inference-id', 'cli-bad-flag', '--wiat']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'inferq invoke: unknown flag --wiat\nRun `inferq invoke --help` for its flags.\n');
    await assert.rejects(getStatus(server.url, 'fixture', 'cli-bad-flag'), /not found/, 'no request was made');
  });

  test('version, help, status, requests and invoke --wait load only their own modules: no npm package, no server code', async () => {
    const trace = join(dir, 'modules.txt');
    const dist = dirname(dirname(CLI));
    const loaded = async (args: string[]): Promise<string[]> => {
      writeFileSync(trace, '');
      const env = { ...awsEnv(server.url), MODULE_TRACE_FILE: trace };
      const r = await run(process.execPath, ['--import', join(import.meta.dirname, '../helpers/module-trace.mjs'), CLI, ...args], env);
      assert.equal(r.code, 0, r.stderr);
      const files = readFileSync(trace, 'utf8').split('\n').filter(Boolean).map((url) => new URL(url).pathname);
      assert.ok(files.length > 0, 'the trace hook saw the modules');
      assert.deepEqual(files.filter((f) => f.includes('/node_modules/')), [], `inferq ${args.join(' ')} loads no npm package`);
      return files.map((f) => relative(dist, f));
    };
    const folders = (files: string[]): string[] => [...new Set(files.map((f) => f.split('/')[0]!))].sort();
    assert.deepEqual(folders(await loaded(['version'])), ['cli', 'config']);
    assert.deepEqual(folders(await loaded(['invoke', '--help'])), ['cli', 'config']);
    assert.deepEqual(folders(await loaded(['status', '--endpoint-url', server.url])), ['auth', 'cli', 'config', 'errors']);
    assert.deepEqual(folders(await loaded(['requests', 'list', 'fixture', '--endpoint-url', server.url])), ['auth', 'cli', 'config', 'errors']);
    const invoked = await loaded(['invoke', 'fixture', '--input', join(dir, 'in.json'), '--wait', '--endpoint-url', server.url]);
    assert.deepEqual(folders(invoked), ['auth', 'cli', 'config', 'errors']);
    assert.deepEqual(invoked.filter((f) => /^cli\/(serve|model|status|failure)\.js$|^config\/(resolve|schema)\.js$/.test(f)), [], 'nor other commands\' modules');
  });

  test('--input missing or a directory: exit 2 naming it, nothing invoked', async () => {
    const missing = join(dir, 'missing.json');
    const cases: [string, RegExp][] = [
      [missing, new RegExp(`^inferq: configuration error: --input: cannot read ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ENOENT`)],
      [dir, /^inferq: configuration error: --input: .* is not a regular file\n$/],
    ];
    for (const [input, pattern] of cases) {
      const r = await invoke(['fixture', '--input', input, '--inference-id', 'cli-bad-input', '--wait']);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, pattern);
    }
    await assert.rejects(getStatus(server.url, 'fixture', 'cli-bad-input'), /not found/, 'no request was made');
  });

  test('an unknown endpoint: non-zero exit with the ValidationError', async () => {
    const r = await invoke(['nope', '--input', join(dir, 'in.json')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ValidationError: Endpoint nope of account 000000000000 not found\./);
  });
});

/** What each command's help must list: its flags and the environment variables it reads. */
const CLIENT_ENV = ['INFERQ_URL', 'AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_DEFAULT_REGION'];
const HELP_CONTENT: Record<string, { flags: string[]; env: string[]; usage: string }> = {
  serve: { usage: 'inferq serve', flags: ['--config FILE', '--host H', '--port N', '--data-dir DIR', '-h, --help'], env: ['INFERQ_CONFIG', 'INFERQ_FORWARD_SECRET'] },
  worker: { usage: 'inferq worker', flags: ['--config FILE', '--data-dir DIR', '-h, --help'], env: ['INFERQ_CONFIG', 'INFERQ_FORWARD_SECRET'] },
  invoke: { usage: 'inferq invoke ENDPOINT --input FILE', flags: ['--input FILE', '--content-type T', '--wait', '--out FILE', '--endpoint-url URL', '--bucket B', '--inference-id ID', '-h, --help'], env: CLIENT_ENV },
  model: { usage: 'inferq model serve --handler FILE', flags: ['--handler FILE', '--port N', '--host H', '--max-body-bytes N', '--exit-with-parent', '-h, --help'], env: ['SAGEMAKER_BIND_TO_PORT', 'PORT'] },
  status: { usage: 'inferq status', flags: ['--endpoint-url URL', '--json', '--watch', '-h, --help'], env: CLIENT_ENV },
  requests: { usage: 'inferq requests list|get|cancel|retry ENDPOINT', flags: ['--status S', '--endpoint-url URL', '--json', '-h, --help'], env: CLIENT_ENV },
  version: { usage: 'inferq version', flags: ['-h, --help'], env: [] },
};

const cli = (args: string[]) => run(process.execPath, [CLI, ...args], { ...process.env });

/** The flag column of a help text's `Flags:` section. */
function listedFlags(help: string): string[] {
  const section = /\nFlags:\n([\s\S]*?)\n\n/.exec(help)?.[1] ?? '';
  return section.split('\n').filter((l) => /^ {2}-/.test(l)).map((l) => l.trim().split(/ {2,}/)[0]!);
}

/** The variable column of a help text's `Environment:` section. */
function listedEnv(help: string): string[] {
  const section = /\nEnvironment:\n([\s\S]*)$/.exec(help)?.[1] ?? '';
  return section.split('\n').filter((l) => /^ {2}[A-Z]/.test(l)).map((l) => l.trim().split(/\s+/)[0]!);
}

describe('inferq help and flags', () => {
  for (const [command, expected] of Object.entries(HELP_CONTENT)) {
    test(`inferq ${command} --help and inferq help ${command}: its usage, exactly its flags and the environment it reads`, async () => {
      const viaFlag = await cli(command === 'model' ? ['model', 'serve', '--help'] : [command, '--help']);
      assert.equal(viaFlag.code, 0, viaFlag.stderr);
      assert.equal(viaFlag.stderr, '');
      assert.ok(viaFlag.stdout.startsWith(`Usage: ${expected.usage}`), viaFlag.stdout);
      assert.deepEqual(listedFlags(viaFlag.stdout), expected.flags);
      assert.deepEqual(listedEnv(viaFlag.stdout), expected.env);
      if (expected.env.length === 0) assert.match(viaFlag.stdout, /Environment: none read\./);
      for (const args of [['help', command], [command, '-h']]) {
        const other = await cli(args);
        assert.equal(other.code, 0, other.stderr);
        assert.equal(other.stdout, viaFlag.stdout, `inferq ${args.join(' ')}`);
      }
    });
  }

  test('inferq help and inferq --help list every command; no command prints the list to stderr and exits 2', async () => {
    const help = await cli(['help']);
    assert.equal(help.code, 0, help.stderr);
    for (const command of Object.keys(HELP_CONTENT)) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
    assert.equal((await cli(['--help'])).stdout, help.stdout);
    const none = await cli([]);
    assert.equal(none.code, 2);
    assert.equal(none.stdout, '');
    assert.equal(none.stderr, help.stdout);
  });

  test('unknown flags, flags of another command, a missing flag value, unknown commands: exit 2 with a clear message', async () => {
    const cases: [string[], RegExp][] = [
      [['version', '--verbose'], /^inferq version: unknown flag --verbose\nRun `inferq version --help` for its flags\.\n$/],
      [['status', '--input', 'x'], /^inferq status: unknown flag --input\n/],
      [['serve', '--json'], /^inferq serve: unknown flag --json\n/],
      [['worker', '--port', '0'], /^inferq worker: unknown flag --port\n/],
      [['model', 'serve', '--wait'], /^inferq model: unknown flag --wait\n/],
      [['invoke', 'echo', '-x'], /^inferq invoke: unknown flag -x\n/],
      [['invoke', 'echo', '--input'], /^inferq invoke: .*--input.*\nRun `inferq invoke --help` for its flags\.\n$/],
      [['frobnicate'], /^inferq: unknown command "frobnicate"\n/],
      [['help', 'frobnicate'], /^inferq: unknown command "frobnicate"\n/],
    ];
    for (const [args, pattern] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, `inferq ${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '', `inferq ${args.join(' ')}`);
      assert.match(r.stderr, pattern, `inferq ${args.join(' ')}`);
    }
  });

  test('inferq version prints the package version', async () => {
    const r = await cli(['version']);
    assert.equal(r.code, 0, r.stderr);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(r.stdout, `${pkg.version}\n`);
  });
});
