/**
 * A bad environment gets one clear line: a data directory that cannot be created or written, a
 * missing or unreadable configuration file, invalid YAML, a port in use, and `inferq worker` on a
 * directory without inferq data. Each ends with exit status 2, one line on stderr naming the path
 * (or address) and the OS reason, no stack trace, and no model process started: the endpoint's
 * model is a command that writes a marker file as soon as it starts, and the marker stays absent.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { run, type RunResult } from '../helpers/clients.js';
import { CLI, tempDir, writeConfig } from '../helpers/server.js';

const dirs: string[] = [];
const mounts: string[] = [];
const servers: Server[] = [];

after(async () => {
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
  for (const m of mounts) execFileSync('umount', [m]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dir(): string {
  const d = tempDir('inferq-env-');
  dirs.push(d);
  return d;
}

/** A test directory with a config whose only endpoint's model writes `marker` when it starts. */
function markerSetup(extra: Record<string, unknown> = {}): { root: string; config: string; marker: string } {
  const root = dir();
  const marker = join(root, 'model-started');
  const script = "require('node:fs').writeFileSync(process.env.MARKER, String(process.pid)); setInterval(() => {}, 1000);";
  const config = writeConfig(root, stringify({
    endpoints: [{ name: 'marker', model: { command: [process.execPath, '-e', script], env: { MARKER: marker } } }],
    ...extra,
  }));
  return { root, config, marker };
}

function inferq(args: string[]): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], { ...process.env });
}

/** Exit status 2, nothing on stdout, exactly one line on stderr that starts with `inferq:` and matches `pattern`, no stack. */
function assertOneLine(r: RunResult, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit status (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '', 'no banner');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^inferq: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:/, 'no stack trace');
}

/** Mounts a read-only tmpfs on a fresh directory; undefined (with the reason) when this machine does not allow it. */
function readOnlyMount(): { path: string } | { skip: string } {
  const path = join(dir(), 'ro');
  mkdirSync(path);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', path], { stdio: 'pipe' });
  } catch (err) {
    return { skip: `cannot mount a read-only tmpfs here (needs root with CAP_SYS_ADMIN): ${(err as Error).message.split('\n')[0]}` };
  }
  mounts.unshift(path);
  return { path };
}

describe('serve: the data directory', () => {
  test('under a regular file (cannot be created): ENOTDIR, the path named, exit 2, no model started', async () => {
    const { root, config, marker } = markerSetup();
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a directory');
    const dataDir = join(file, 'data');
    const r = await inferq(['serve', '--port', '0', '--config', config, '--data-dir', dataDir]);
    assertOneLine(r, new RegExp(`^inferq: cannot create data directory ${dataDir}: ENOTDIR: not a directory$`));
    assert.equal(existsSync(marker), false, 'no model process was started');
  });

  test('a regular file itself: ENOTDIR, exit 2, no model started', async () => {
    const { root, config, marker } = markerSetup();
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a directory');
    const r = await inferq(['serve', '--port', '0', '--config', config, '--data-dir', file]);
    assertOneLine(r, new RegExp(`^inferq: cannot create data directory ${file}: ENOTDIR: not a directory$`));
    assert.equal(existsSync(marker), false);
  });

  test('on a read-only file system (cannot be written): EROFS, exit 2, no model started; a missing one below it cannot be created', async (t) => {
    const mount = readOnlyMount();
    if ('skip' in mount) {
      t.skip(mount.skip);
      return;
    }
    const { config, marker } = markerSetup();
    const r = await inferq(['serve', '--port', '0', '--config', config, '--data-dir', mount.path]);
    assertOneLine(r, new RegExp(`^inferq: cannot write data directory ${mount.path}: EROFS: read-only file system$`));
    assert.equal(existsSync(marker), false, 'no model process was started');
    const below = join(mount.path, 'data');
    const r2 = await inferq(['serve', '--port', '0', '--config', config, '--data-dir', below]);
    assertOneLine(r2, new RegExp(`^inferq: cannot create data directory ${below}: EROFS: read-only file system$`));
    assert.equal(existsSync(marker), false);
  });
});

describe('serve: the configuration file', () => {
  test('missing: the path and ENOENT, exit 2', async () => {
    const missing = join(dir(), 'nope.yaml');
    const r = await inferq(['serve', '--port', '0', '--data-dir', dir(), '--config', missing]);
    assertOneLine(r, new RegExp(`^inferq: configuration error: --config: cannot read configuration file ${missing}: ENOENT: no such file or directory$`));
  });

  test('unreadable (a directory): the path and EISDIR, exit 2; named INFERQ_CONFIG when it came from there', async () => {
    const notFile = dir();
    const r = await inferq(['serve', '--port', '0', '--data-dir', dir(), '--config', notFile]);
    assertOneLine(r, new RegExp(`^inferq: configuration error: --config: cannot read configuration file ${notFile}: EISDIR: `));
    const env = await run(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dir()], { ...process.env, INFERQ_CONFIG: notFile });
    assertOneLine(env, new RegExp(`^inferq: configuration error: INFERQ_CONFIG: cannot read configuration file ${notFile}: EISDIR: `));
  });

  test('invalid YAML (a broken flow sequence, a duplicated key): the path and the line, one line, exit 2', async () => {
    const root = dir();
    const broken = writeConfig(root, 'server: [\n  port: 1\n');
    const r = await inferq(['serve', '--port', '0', '--data-dir', dir(), '--config', broken]);
    assertOneLine(r, new RegExp(`^inferq: configuration error: --config: ${broken} is not valid YAML: .* at line \\d+, column \\d+$`));
    const duplicated = writeConfig(dir(), 'server:\n  port: 0\nserver:\n  port: 1\n');
    const r2 = await inferq(['serve', '--port', '0', '--data-dir', dir(), '--config', duplicated]);
    assertOneLine(r2, new RegExp(`^inferq: configuration error: --config: ${duplicated} is not valid YAML: Map keys must be unique at line 3, column 1$`));
  });

  test('a bad value next to a command model: refused before the model starts', async () => {
    const { config, marker } = markerSetup({ server: { shutdownGraceSeconds: -1 } });
    const r = await inferq(['serve', '--port', '0', '--data-dir', dir(), '--config', config]);
    assertOneLine(r, /^inferq: configuration error: server\.shutdownGraceSeconds: /);
    assert.equal(existsSync(marker), false);
  });
});

describe('serve: the port', () => {
  test('in use: the address and EADDRINUSE, exit 2, no model started', async () => {
    const taken = createServer();
    servers.push(taken);
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const port = (taken.address() as { port: number }).port;
    const { config, marker } = markerSetup();
    const dataDir = dir();
    const r = await inferq(['serve', '--port', String(port), '--config', config, '--data-dir', dataDir]);
    assertOneLine(r, new RegExp(`^inferq: cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE: address already in use \\(.*--port.*\\)$`));
    assert.equal(existsSync(marker), false, 'no model process was started');
  });
});

describe('inferq worker: a data directory without inferq data', () => {
  test('an empty directory: says so, exit 2, writes nothing there, starts no model', async () => {
    const { config, marker } = markerSetup();
    const empty = dir();
    const r = await inferq(['worker', '--config', config, '--data-dir', empty]);
    assertOneLine(r, new RegExp(`^inferq: data directory ${empty} holds no inferq data \\(no queue/jobs\\.db\\): .*inferq serve`));
    assert.deepEqual(readdirSync(empty), [], 'nothing was created in the directory');
    assert.equal(existsSync(marker), false);
  });

  test('a missing directory: says so, exit 2, does not create it', async () => {
    const { config, marker } = markerSetup();
    const missing = join(dir(), 'missing');
    const r = await inferq(['worker', '--config', config, '--data-dir', missing]);
    assertOneLine(r, new RegExp(`^inferq: data directory ${missing} does not exist: `));
    assert.equal(existsSync(missing), false);
    assert.equal(existsSync(marker), false);
  });
});
