/**
 * Resident memory of processes, read from /proc/<pid>/status: VmRSS sampled on a timer, and the
 * kernel's own high-water mark VmHWM (reset through /proc/<pid>/clear_refs when allowed), which
 * catches a peak that falls between two samples. RSS is the whole process: for workerd that is
 * the isolate's heap plus the runtime's own memory (code, I/O buffers, allocator slack).
 * `listenerOf` tells which process listens on a port (wrangler dev's proxy listens on the dev port).
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tcpSockets } from './chat-lib.ts';

/** VmRSS and VmHWM of a process in KiB; undefined once it has exited. */
export function memoryKiB(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return {
      rss: Number(/VmRSS:\s*(\d+)/.exec(status)?.[1] ?? NaN),
      hwm: Number(/VmHWM:\s*(\d+)/.exec(status)?.[1] ?? NaN),
    };
  } catch {
    return undefined;
  }
}

/** Sets VmHWM back to the current RSS (`echo 5 > clear_refs`); false where the kernel refuses. */
function resetHighWaterMark(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface RssReport {
  pid: number;
  baselineKiB: number;
  /** Highest sampled VmRSS. */
  peakKiB: number;
  /** Milliseconds from `start` to the sampled peak. */
  peakAtMs: number;
  /** VmHWM at the end, when it could be reset at the start (the exact peak between the two). */
  highWaterKiB?: number;
  samples: number;
}

/**
 * Takes each process's baseline now, then samples VmRSS every `intervalMs` until `stop()`.
 * Timers in Node fire at about 1 ms granularity at best; `samples` says how many were taken.
 */
export function sampleRss(pids: number[], intervalMs = 5): { stop(): RssReport[] } {
  const t0 = performance.now();
  const reports = pids.map((pid): RssReport => {
    const hwmReset = resetHighWaterMark(pid);
    const rss = memoryKiB(pid)?.rss ?? NaN;
    return { pid, baselineKiB: rss, peakKiB: rss, peakAtMs: 0, highWaterKiB: hwmReset ? rss : undefined, samples: 1 };
  });
  const sample = () => {
    for (const report of reports) {
      const rss = memoryKiB(report.pid)?.rss;
      if (rss === undefined) continue;
      report.samples++;
      if (rss > report.peakKiB) {
        report.peakKiB = rss;
        report.peakAtMs = performance.now() - t0;
      }
    }
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      for (const report of reports) {
        if (report.highWaterKiB === undefined) continue;
        report.highWaterKiB = memoryKiB(report.pid)?.hwm ?? report.highWaterKiB;
      }
      return reports;
    },
  };
}

/** Which of `pids` holds the listening socket of a local TCP port (matched by socket inode). */
export function listenerOf(pids: number[], port: number): number | undefined {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set(
    tcpSockets()
      .filter((f) => f[3] === '0A' && f[1]?.endsWith(hexPort) && f[9])
      .map((f) => `socket:[${f[9]}]`),
  );
  return pids.find((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}
