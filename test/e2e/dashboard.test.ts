/**
 * The dashboard in a real browser: headless Debian Chromium driven by playwright-core, against the
 * built server. Signs in through the form (prefilled with the development pair), sees the built-in
 * endpoints, invokes `echo` through the Invoke form and reads the pretty-printed result, cancels a
 * queued request with its Cancel button and re-runs it with Retry, and saves a screenshot to
 * test-results/dashboard.png.
 * Skipped, saying why, when /usr/bin/chromium is missing (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InvokeEndpointAsyncCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Harness, awaitTerminal, getStatus } from '../helpers/async.js';
import { ROOT, waitForOutput, type ServerProcess } from '../helpers/server.js';
import { countingModel } from '../helpers/side-effects.js';

const CHROMIUM = '/usr/bin/chromium';
const SKIP = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install -y chromium; .ci/run does)`;
const SCREENSHOT = join(ROOT, 'test-results', 'dashboard.png');
const UI_TIMEOUT_MS = 30_000;

const h = new Harness();
let server: ServerProcess;
let sm: SageMakerRuntimeClient;
let browser: Browser | undefined;
let page: Page;

before(async () => {
  if (SKIP) return;
  const calls = join(h.dir('inferq-dashboard-calls-'), 'calls.log');
  server = await h.start(h.config({
    endpoints: [
      { name: 'echo', model: { builtin: 'echo' } },
      { name: 'vad', model: { builtin: 'vad' } },
      { name: 'single', model: countingModel(calls), async: { maxConcurrentInvocations: 1 } },
    ],
  }));
  sm = h.client(server.url);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.setDefaultTimeout(UI_TIMEOUT_MS);
});

after(async () => {
  await browser?.close();
  await h.cleanup();
});

async function submit(endpoint: string, mode: string): Promise<string> {
  const id = `${endpoint}-${randomUUID()}`;
  await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: endpoint, Body: Buffer.from(`body of ${id}`), ContentType: 'text/plain', CustomAttributes: `mode=${mode}`, InferenceId: id }));
  return id;
}

test('signs in with the prefilled development pair and shows both built-in endpoints', { skip: SKIP }, async () => {
  await page.goto(`${server.url}/ui/`);
  assert.equal(await page.getByLabel('Access key ID').inputValue(), 'test');
  assert.equal(await page.getByLabel('Secret access key').inputValue(), 'test');
  await page.getByRole('button', { name: 'Sign in' }).click();
  for (const name of ['echo', 'vad', 'single']) await page.getByRole('article', { name: `Endpoint ${name}` }).waitFor();
  await page.getByRole('article', { name: 'Endpoint echo' }).getByText('Instances (min–max)').waitFor();
});

test('invokes echo through the form: queued → running → done, the JSON result pretty-printed', { skip: SKIP }, async () => {
  await page.getByLabel('Endpoint', { exact: true }).selectOption('echo');
  await page.getByLabel('Payload').fill('{"greeting":"hello from the dashboard","n":[1,2,3]}');
  await page.getByRole('button', { name: 'Invoke' }).click();
  const result = page.getByLabel('Result');
  await result.getByText('"greeting": "hello from the dashboard"').waitFor();
  assert.match(await result.innerText(), /"n": \[\n\s+1,/);
  assert.match(await page.getByRole('status').innerText(), /^Queued → (Running → )?Succeeded$/);
  // The request is listed, with a link to its output.
  await page.getByLabel('Requests of endpoint').selectOption('echo');
  await page.getByRole('table', { name: 'Recent requests' }).getByRole('link', { name: 'output' }).first().waitFor();
});

test('cancels a queued request with its Cancel button, and runs it again with Retry', { skip: SKIP }, async () => {
  const holder = await submit('single', 'hang');
  await waitForOutput(server, new RegExp(`counting model hanging inference-id=${holder}`));
  const queued = await submit('single', 'echo');
  assert.equal((await getStatus(server.url, 'single', queued)).Status, 'Queued', 'the only slot is taken');
  await page.getByLabel('Requests of endpoint').selectOption('single');
  await page.getByLabel('Status filter').selectOption('Queued');
  await page.getByRole('button', { name: `Cancel ${queued}` }).click();
  await page.getByLabel('Status filter').selectOption('Cancelled');
  await page.getByRole('row').filter({ hasText: queued }).getByText('Cancelled', { exact: true }).waitFor();
  assert.equal((await getStatus(server.url, 'single', queued)).Status, 'Cancelled');
  // The hanging one is cancelled too (through the same button), so the server stops promptly.
  await page.getByLabel('Status filter').selectOption('Running');
  await page.getByRole('button', { name: `Cancel ${holder}` }).click();
  assert.equal((await awaitTerminal(server.url, 'single', holder)).Status, 'Cancelled');
  // The slot is free now: Retry queues the cancelled request again and it runs to the end.
  await page.getByLabel('Status filter').selectOption('Cancelled');
  await page.getByRole('button', { name: `Retry ${queued}` }).click();
  const rerun = await awaitTerminal(server.url, 'single', queued);
  assert.equal(rerun.Status, 'Succeeded');
  await page.getByLabel('Status filter').selectOption('Succeeded');
  await page.getByRole('row').filter({ hasText: queued }).getByRole('link', { name: 'output' }).waitFor();
});

test('saves a screenshot of the dashboard', { skip: SKIP }, async () => {
  await page.getByLabel('Status filter').selectOption('');
  await page.getByLabel('Requests of endpoint').selectOption('echo');
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  assert.ok(existsSync(SCREENSHOT));
});
