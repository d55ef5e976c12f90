/**
 * The dashboard's static files, all served by inferq itself (no CDN): the page, its script and
 * style from `ui-assets/` in the package, and uPlot's built files straight from its npm package
 * (a runtime dependency, so `npm ci && npm start` serves them). Read once, on first request.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** One static file. */
export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** `src/ui` and `dist/ui` are both two levels below the package root. */
const OWN = join(import.meta.dirname, '..', '..', 'ui-assets');

const require = createRequire(import.meta.url);

const FILES: Readonly<Record<string, { path: () => string; type: string }>> = {
  'index.html': { path: () => join(OWN, 'index.html'), type: 'text/html; charset=utf-8' },
  'app.js': { path: () => join(OWN, 'app.js'), type: 'text/javascript; charset=utf-8' },
  'app.css': { path: () => join(OWN, 'app.css'), type: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { path: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

const cache = new Map<string, Asset>();

/** The asset called `name`, or undefined when there is none. */
export function asset(name: string): Asset | undefined {
  const hit = cache.get(name);
  if (hit) return hit;
  const file = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
  if (file === undefined) return undefined;
  const loaded: Asset = { type: file.type, body: readFileSync(file.path()) };
  cache.set(name, loaded);
  return loaded;
}
