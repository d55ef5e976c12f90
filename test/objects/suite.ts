/**
 * The `it` of the ObjectStore behaviour suite: node:test's, except that a backend may name tests
 * it skips, each with the reason (a feature the backend's server lacks). The skips are in force
 * while {@link withSkips} registers one backend's suite.
 */
import { it as nodeIt } from 'node:test';

/** Test name → why the backend skips it. */
export type SuiteSkips = Readonly<Record<string, string>>;

let current: SuiteSkips = {};
const used = new Set<string>();

/** Registers a test of the suite (skipped with its reason when the current backend skips it). */
export function it(name: string, fn: () => Promise<void>): void {
  const reason = current[name];
  if (reason !== undefined) used.add(name);
  void nodeIt(name, reason === undefined ? {} : { skip: reason }, fn);
}

/** Runs `register` with `skips` in force; throws when a skip names no test (a renamed test). */
export function withSkips(skips: SuiteSkips, register: () => void): void {
  current = skips;
  used.clear();
  try {
    register();
    const unknown = Object.keys(skips).filter((name) => !used.has(name));
    if (unknown.length > 0) throw new Error(`skips name no test of the suite: ${unknown.join('; ')}`);
  } finally {
    current = {};
  }
}
