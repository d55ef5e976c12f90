/**
 * CPU time of a process tree from /proc (Linux): user + system time of a process and of all its
 * live descendants, plus what its exited and reaped children used. Benchmarks read it before and
 * after a round to report CPU µs per request, which holds up on shared, noisy cores far better
 * than rates do.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** utime + stime (+ cutime + cstime when `withReaped`) of one process, in clock ticks; 0 once it is gone. */
function ticksOf(pid: number, withReaped: boolean): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  // Fields after the command name (which may hold spaces) start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const at = (field: number): number => Number(fields[field - 3] ?? 0);
  return at(14) + at(15) + (withReaped ? at(16) + at(17) : 0);
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (child !== '') out.push(Number(child));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** CPU time used so far by `pid` and its descendants, in microseconds. */
export function treeCpuMicros(pid: number): number {
  let ticks = 0;
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    ticks += ticksOf(next, true);
    pending.push(...childrenOf(next));
  }
  return (ticks / clockTicks()) * 1e6;
}
