/**
 * Watching a new model version start (src/app/start-watch.ts, internal to src/app, so imported
 * directly) with real command models — a pool of one supervised process, as the control-plane
 * watch builds it, its exits relayed and its output kept by recordingLogger: healthy once /ping
 * answers; a process that exits, is killed or cannot be spawned fails with that status and its
 * last log lines (at most 8); a model that never answers /ping fails at the timeout; an abort
 * ends the watch at once, also when it came before the watch began.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitRelay, RecentLines, exitReason, recordingLogger, watchStart, type StartResult } from '../../src/app/start-watch.js';
import { createCommandModelClient, createModelPool, type ModelPool } from '../../src/models/index.js';
import { FIXTURE_COMMAND, ROOT, recordingLogger as linesLogger, type RecordingLogger } from '../models/helpers.js';

interface Started {
  readonly model: ModelPool;
  readonly recent: RecentLines;
  readonly exits: ExitRelay;
  /** Everything the model's loggers got (supervisor events and output lines). */
  readonly log: RecordingLogger;
}

/** A started one-instance pool of `command`, wired as src/app/api-endpoints.ts wires a new version. */
async function startModel(command: readonly string[], env: Record<string, string> = {}): Promise<Started> {
  const recent = new RecentLines();
  const exits = new ExitRelay();
  const log = linesLogger();
  const logger = recordingLogger(log, recent);
  const model = createModelPool({
    name: 'version',
    perInstanceConcurrency: 1,
    instances: { min: 1, max: 1, targetBacklogPerInstance: 1, idleTimeoutMs: 60_000 },
    logger,
    createInstance: (index) => createCommandModelClient({
      name: `version#${index}`, command, env, baseEnv: process.env, cwd: ROOT, logger: logger.child(`#${index}`),
      pingIntervalMs: 100, pingTimeoutMs: 500, stopGraceMs: 3000, restartBackoffMs: { initial: 60_000, max: 60_000 }, onExit: exits.emit,
    }),
  });
  await model.start();
  return { model, recent, exits, log };
}

async function watch(s: Started, timeoutMs: number, signal: AbortSignal = new AbortController().signal): Promise<StartResult> {
  return watchStart({ model: s.model, timeoutMs, exits: s.exits, recent: s.recent, signal });
}

/** A node one-liner as a model command. */
const node = (script: string): string[] => [process.execPath, '-e', script];

test('healthy once the model answers /ping; supervisor lines are logged but not kept as the model\'s output', async () => {
  const s = await startModel(FIXTURE_COMMAND);
  try {
    assert.deepEqual(await watch(s, 60_000), { healthy: true });
    assert.deepEqual(await watch(s, 60_000), { healthy: true }, 'already healthy: at once');
    assert.ok(s.log.lines.some((l) => /model health changed/.test(l)), 'the real logger gets everything');
    assert.deepEqual(s.recent.list().map((l) => l.replace(/\d+/g, 'N')), ['fixture listening port=N pid=N'], 'only the output lines are kept');
  } finally {
    await s.model.stop();
  }
});

test('a process that exits first fails with its status and its last log lines', async () => {
  const s = await startModel(node('console.log("loading weights"); console.log("boom: no GPU"); process.exit(3)'));
  try {
    const result = await watch(s, 60_000);
    assert.deepEqual(result, {
      healthy: false,
      reason: 'The model process exited with status 3 before it answered GET /ping. Last log lines: loading weights | boom: no GPU',
    });
  } finally {
    await s.model.stop();
  }
});

test('an exit before the watch began is kept for it (ExitRelay)', async () => {
  const s = await startModel(node('process.exit(7)'));
  try {
    await s.log.waitFor(/model process exited unexpectedly/);
    assert.deepEqual(await watch(s, 60_000), { healthy: false, reason: 'The model process exited with status 7 before it answered GET /ping.' });
  } finally {
    await s.model.stop();
  }
});

test('a killed process and one that cannot be spawned are named as such; only the last 8 lines are kept', async () => {
  const lines = Array.from({ length: 12 }, (_, i) => `line ${i}`);
  const killed = await startModel(node(`for (const l of ${JSON.stringify(lines)}) console.log(l); process.kill(process.pid, "SIGKILL")`));
  try {
    const result = await watch(killed, 60_000);
    assert.deepEqual(result, {
      healthy: false,
      reason: `The model process was killed by signal SIGKILL before it answered GET /ping. Last log lines: ${lines.slice(4).join(' | ')}`,
    });
  } finally {
    await killed.model.stop();
  }
  const missing = await startModel(['/nonexistent/inferq-model']);
  try {
    const result = await watch(missing, 60_000);
    assert.equal(result.healthy, false);
    assert.match(result.healthy ? '' : result.reason, /^The model process could not be started \(spawn \/nonexistent\/inferq-model ENOENT\) before it answered GET \/ping\.$/);
  } finally {
    await missing.model.stop();
  }
});

test('a model that never answers /ping with 200 fails at the timeout, with its last lines', async () => {
  const s = await startModel(FIXTURE_COMMAND, { FIXTURE_PING: 'fail' });
  try {
    await s.log.waitFor(/fixture listening/);
    const result = await watch(s, 1500);
    assert.equal(result.healthy, false);
    assert.match(result.healthy ? '' : result.reason, /^The model did not answer GET \/ping with 200 within 2 s\. Last log lines: fixture listening port=\d+ pid=\d+$/);
  } finally {
    await s.model.stop();
  }
});

test('an abort ends the watch at once as "stopped", also an abort that came before the watch began', async () => {
  const s = await startModel(FIXTURE_COMMAND, { FIXTURE_PING: 'fail' });
  try {
    const abort = new AbortController();
    const watching = watch(s, 600_000, abort.signal);
    abort.abort();
    assert.deepEqual(await watching, { healthy: false, reason: 'stopped' });
    const early = await Promise.race([
      watch(s, 600_000, AbortSignal.abort()),
      new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 2000).unref()),
    ]);
    assert.deepEqual(early, { healthy: false, reason: 'stopped' }, 'an aborted signal does not wait for the timeout');
  } finally {
    await s.model.stop();
  }
});

test('exitReason and RecentLines on their own', () => {
  const recent = new RecentLines();
  assert.equal(exitReason({ code: 1, signal: null }, recent), 'The model process exited with status 1 before it answered GET /ping.');
  for (let i = 0; i < 10; i++) recent.add(`l${i}`);
  assert.deepEqual(recent.list(), ['l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8', 'l9']);
  assert.equal(exitReason({ code: null, signal: 'SIGTERM' }, recent), `The model process was killed by signal SIGTERM before it answered GET /ping. Last log lines: ${recent.list().join(' | ')}`);
  assert.equal(exitReason({ code: null, signal: null }, new RecentLines()), 'The model process exited with status unknown before it answered GET /ping.');
});
