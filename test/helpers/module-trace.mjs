/**
 * `node --import ./module-trace.mjs PROGRAM`: appends the URL of every ES module PROGRAM loads (one a
 * line) to the file named by MODULE_TRACE_FILE. Plain JavaScript: it runs inside the program under
 * test (dist/, without tsx). Used to check which modules a CLI command loads.
 */
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(file, url + '\\n');
  return next(url, context);
}
`;

const file = process.env['MODULE_TRACE_FILE'];
if (file) register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { file } });
