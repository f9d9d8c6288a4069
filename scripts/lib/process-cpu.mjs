// CPU time of Chromium's processes and threads, from /proc (Linux): where a run's CPU went, by
// role. On 2 cores the pipeline's stages compete for the same CPU, so per-stage wall times alone
// do not say what to make cheaper; this does (the bench prints it for the pipeline phase).
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Snapshot: cumulative CPU seconds per Chromium thread; undefined where /proc is missing. */
export function chromiumThreadTimes() {
  let pids;
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const threads = new Map();
  for (const pid of pids) {
    let cmdline;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (!cmdline.includes('chromium')) continue;
    const type = /--type=([a-z-]+)/.exec(cmdline)?.[1] ?? 'browser';
    let tids;
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime + stime
        threads.set(`${pid}/${tid}`, { type, name, main: pid === tid, seconds });
      } catch {}
    }
  }
  return threads;
}

/**
 * CPU seconds between two snapshots, by role: the page's main thread (tracking, GL commands,
 * JS), its dedicated workers (in total, and per thread, busiest first), the GPU process
 * (SwiftShader's GL rasterisation and the compositor here), and everything else.
 */
export function cpuByRole(before, after) {
  if (!before || !after) return undefined;
  const roles = { rendererMain: 0, workers: 0, rendererOther: 0, gpuProcess: 0, other: 0, workerThreads: [] };
  for (const [id, thread] of after) {
    const seconds = thread.seconds - (before.get(id)?.seconds ?? 0);
    if (seconds <= 0) continue;
    if (thread.type === 'renderer') {
      if (thread.main) roles.rendererMain += seconds;
      else if (thread.name.startsWith('DedicatedWorker')) {
        roles.workers += seconds;
        roles.workerThreads.push({ tid: Number(id.split('/')[1]), seconds });
      } else roles.rendererOther += seconds;
    } else if (thread.type === 'gpu-process') roles.gpuProcess += seconds;
    else roles.other += seconds;
  }
  roles.workerThreads.sort((a, b) => b.seconds - a.seconds);
  return roles;
}
