import fs from 'node:fs';

/** VmRSS and VmHWM (the kernel's RSS high-water mark) of a process, in bytes. Linux only. */
export function readMemory(pid: number): { rssBytes: number; hwmBytes: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
}

/** Sets the process's VmHWM to its current RSS (Linux 4.0+, own processes); false when not allowed. */
export function resetHighWaterMark(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface MemoryWatch {
  /** Stops sampling and returns the baseline and the peak: sampled RSS, or VmHWM where it could be reset. */
  stop(): {
    baselineBytes: number;
    peakBytes: number;
    peakSampledBytes: number;
    peakHwmBytes: number | null;
    samples: number;
  };
}

/** Samples a process's RSS every `everyMs` from now until `stop`, with its high-water mark reset first. */
export function watchMemory(pid: number, everyMs: number): MemoryWatch {
  const hwmReset = resetHighWaterMark(pid);
  const baselineBytes = readMemory(pid).rssBytes;
  let peakSampledBytes = baselineBytes;
  let samples = 0;
  const sampler = setInterval(() => {
    peakSampledBytes = Math.max(peakSampledBytes, readMemory(pid).rssBytes);
    samples++;
  }, everyMs);
  return {
    stop() {
      clearInterval(sampler);
      const after = readMemory(pid);
      peakSampledBytes = Math.max(peakSampledBytes, after.rssBytes);
      const peakHwmBytes = hwmReset ? after.hwmBytes : null;
      const peakBytes = Math.max(peakSampledBytes, peakHwmBytes ?? 0);
      return { baselineBytes, peakBytes, peakSampledBytes, peakHwmBytes, samples };
    },
  };
}
