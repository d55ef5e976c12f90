/**
 * CPU time of a process tree from /proc (Linux): user+system of a process, all its threads (worker
 * threads included) and every descendant process (model processes), plus what reaped children
 * had used (cutime/cstime), so a child that exits between two samples is not lost. The benchmarks
 * judge changes by this, not by wall time: the machine's cores are shared with the load generator.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc's times (`getconf CLK_TCK`, almost always 100). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    ticksPerSecond = Number.isFinite(out) && out > 0 ? out : 100;
  }
  return ticksPerSecond;
}

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  readonly ticks: number;
}

/** Parses /proc/<pid>/stat (the command name may hold spaces and parentheses: split after the last `)`). */
function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
  const num = (field: number): number => Number(fields[field - 3] ?? 0);
  return { pid, ppid: num(4), ticks: num(14) + num(15) + num(16) + num(17) };
}

/** CPU seconds (user+system) used so far by `root` and all its descendants. */
export function treeCpuSeconds(root: number): number {
  const stats: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) stats.push(stat);
  }
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
  let ticks = 0;
  const todo = [stats.find((s) => s.pid === root)].filter((s): s is ProcStat => s !== undefined);
  for (let s = todo.pop(); s !== undefined; s = todo.pop()) {
    ticks += s.ticks;
    todo.push(...(children.get(s.pid) ?? []));
  }
  return ticks / clockTicks();
}

/** Runs `work` and returns its result with the CPU seconds `root`'s tree used meanwhile. */
export async function measureCpu<T>(root: number, work: () => Promise<T>): Promise<{ result: T; cpuSeconds: number }> {
  const before = treeCpuSeconds(root);
  const result = await work();
  return { result, cpuSeconds: treeCpuSeconds(root) - before };
}

/** CPU µs (user+system) used so far by `root` and all its descendants (see {@link treeCpuSeconds}). */
export function treeCpuMicros(root: number): number {
  return treeCpuSeconds(root) * 1e6;
}
