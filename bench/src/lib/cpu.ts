/**
 * CPU time of other processes (backends, proxies), read from Linux's /proc/<pid>/stat (utime +
 * stime, in clock ticks of 10 ms). With the client's own `process.cpuUsage()` this gives the whole
 * machine's CPU per request: what a deployment pays, wherever the work runs. Elsewhere than Linux it
 * reads nothing and the figure is left out.
 */
import { readFileSync } from 'node:fs';

const TICK_US = 10_000; // USER_HZ is 100 on Linux

/** Total CPU time of the given processes in µs, or NaN when /proc cannot be read. */
export function cpuOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name (which may contain spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * TICK_US;
    } catch {
      return Number.NaN;
    }
  }
  return total;
}
