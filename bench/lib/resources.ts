import { readdirSync, readFileSync } from 'node:fs';

/** CPU and peak memory of one phase: this process (worker + API + bench client) and the dev server. */
export interface PhaseResources {
  phase: string;
  ms: number;
  /** CPU seconds of this process during the phase (user + system, all threads). */
  benchCpuS: number;
  /** CPU seconds of the Temporal dev server process during the phase (Linux only). */
  devServerCpuS: number | null;
  peakRssBytes: number;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** Finds the process whose command line contains `needle` (the dev server's unique SQLite path). */
export function findPid(needle: string): number | null {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        if (cmd.includes(needle) && Number(entry) !== process.pid) return Number(entry);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no /proc (macOS)
  }
  return null;
}

function procRss(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function procCpuS(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/**
 * Samples process.memoryUsage().rss every 250 ms (the worker runs in this process, so this is the
 * worker's RSS together with the API and the bench client) and the dev server's RSS, and keeps per-phase
 * CPU time so a report can say which side was busy.
 */
export class ResourceMonitor {
  peakRssBytes = 0;
  devServerPeakRssBytes: number | null = null;
  readonly phases: PhaseResources[] = [];
  private devServerPid: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private current:
    { phase: string; t0: number; cpu0: NodeJS.CpuUsage; dev0: number | null; peak: number } | undefined;

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 250);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.endPhase();
  }

  attachDevServer(pid: number | null): void {
    this.devServerPid = pid;
  }

  /** Ends the running phase (if any) and starts another. */
  phase(name: string): void {
    this.endPhase();
    this.current = {
      phase: name,
      t0: performance.now(),
      cpu0: process.cpuUsage(),
      dev0: this.devServerPid ? procCpuS(this.devServerPid) : null,
      peak: process.memoryUsage().rss,
    };
  }

  endPhase(): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    const cpu = process.cpuUsage(c.cpu0);
    const dev1 = this.devServerPid ? procCpuS(this.devServerPid) : null;
    this.phases.push({
      phase: c.phase,
      ms: Math.round(performance.now() - c.t0),
      benchCpuS: Math.round(((cpu.user + cpu.system) / 1e6) * 100) / 100,
      devServerCpuS: c.dev0 !== null && dev1 !== null ? Math.round((dev1 - c.dev0) * 100) / 100 : null,
      peakRssBytes: Math.max(c.peak, process.memoryUsage().rss),
    });
  }

  private sample(): void {
    const rss = process.memoryUsage().rss;
    this.peakRssBytes = Math.max(this.peakRssBytes, rss);
    if (this.current) this.current.peak = Math.max(this.current.peak, rss);
    if (this.devServerPid) {
      const dev = procRss(this.devServerPid);
      if (dev !== null) this.devServerPeakRssBytes = Math.max(this.devServerPeakRssBytes ?? 0, dev);
    }
  }
}
