/**
 * CPU time of one local Postgres server (postmaster and all its children), sampled from /proc while a
 * phase runs. Backends exit with their client, taking their counters with them, so a before/after
 * difference would miss them; sampling every 100 ms loses at most the last 100 ms of each backend.
 * Other Postgres servers on the machine (other people's tests) are excluded by parent pid.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

function stat(pid: string): { ppid: number; ticks: number } | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

export interface PgCpuSampler {
  /** Seconds of CPU the server used since the sampler started. */
  stop(): number;
}

/** Samples the server whose postmaster is the parent of backend `backendPid`; undefined if not local. */
export function startPgCpuSampler(backendPid: number, intervalMs = 100): PgCpuSampler | undefined {
  const postmaster = stat(String(backendPid))?.ppid;
  if (postmaster === undefined) return undefined;
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  const sample = (initial: boolean) => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const s = stat(pid);
      if (!s || (s.ppid !== postmaster && Number(pid) !== postmaster)) continue;
      // A process born during the phase started from zero.
      if (!first.has(pid)) first.set(pid, initial ? s.ticks : 0);
      last.set(pid, s.ticks);
    }
  };
  sample(true);
  const timer = setInterval(() => sample(false), intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample(false);
      let ticks = 0;
      for (const [pid, value] of last) ticks += value - (first.get(pid) ?? 0);
      return ticks / TICKS_PER_SECOND;
    },
  };
}
