/**
 * CPU time used by the local processes of a service (PostgreSQL backends, nats-server), read from
 * `/proc`, so a benchmark can say where the machine's CPU went. Linux only; elsewhere, or for a
 * service on another host, it reports nothing. A process that exits between two readings takes
 * its CPU with it (PostgreSQL backends live as long as the server's pool keeps them, which is the
 * whole run).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU seconds per process name (`comm`), summed over every live process of that name. */
export function cpuSecondsByCommand(commands: readonly string[]): Record<string, number> | undefined {
  if (!commands.length || process.platform !== 'linux') return undefined;
  const totals: Record<string, number> = Object.fromEntries(commands.map((c) => [c, 0]));
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone already
    }
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(open + 1, close);
    if (!(comm in totals)) continue;
    // fields after "(comm) ": state is field 3, utime 14, stime 15
    const fields = stat.slice(close + 2).split(' ');
    totals[comm] += (Number(fields[11]) + Number(fields[12])) / clockTicks();
  }
  return totals;
}

/** What each command used between two readings. */
export function cpuSecondsSince(
  before: Record<string, number> | undefined,
  commands: readonly string[],
): Record<string, number> | undefined {
  const after = cpuSecondsByCommand(commands);
  if (!before || !after) return undefined;
  return Object.fromEntries(commands.map((c) => [c, Math.max(0, after[c] - before[c])]));
}

/** User + system CPU seconds one process has used so far (undefined off Linux or once it is gone). */
export function cpuSecondsOfProcess(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return undefined;
  }
}
