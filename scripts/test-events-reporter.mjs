/**
 * A node:test reporter for scripts/test-isolation.ts (plain JavaScript: Node 20 loads reporters
 * before any --import hook): one JSON line per finished test, and per failed suite, with its path
 * of suite names, its own name, whether it passed, its skip or todo reason and the first lines of
 * its error (the TestLine interface of test-isolation.ts).
 */

/** @param {unknown} error */
function errorText(error) {
  const cause = /** @type {{ cause?: unknown } | undefined} */ (error)?.cause ?? error;
  const text = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
  return text.split('\n').slice(0, 12).join('\n');
}

/** @param {boolean | string | undefined} flag */
const reason = (flag) => (flag === undefined || flag === false ? undefined : String(flag));

/** @param {AsyncIterable<{ type: string, data: any }>} source */
export default async function* reporter(source) {
  /** @type {string[]} */
  const stack = [];
  for await (const event of source) {
    if (event.type === 'test:start') {
      stack.length = event.data.nesting;
      stack.push(event.data.name);
      continue;
    }
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const data = event.data;
    if (data.details?.type === 'suite' && event.type === 'test:pass') continue;
    const line = {
      file: data.file,
      path: stack.slice(0, data.nesting),
      name: data.name,
      passed: event.type === 'test:pass',
      skip: reason(data.skip),
      todo: reason(data.todo),
      error: event.type === 'test:fail' ? errorText(data.details?.error) : undefined,
      durationMs: data.details?.duration_ms ?? 0,
    };
    yield `${JSON.stringify(line)}\n`;
  }
}
