import { Observable, interval, map, type SchedulerLike, asyncScheduler } from 'rxjs';

/**
 * Pipeline stages that report timings, in milliseconds. On the page's thread: `frame` (the whole
 * synchronous per-frame path), `upload`, `alignment`, `colour`, `blend`. Wall-clock from request
 * to answer: `tracking` (the landmarker; in its worker, the round trip), `readback` (the crop's
 * pixels: VideoFrame.copyTo, or the GPU crop's fence). Where they run (the inference worker, or
 * this thread): `crop`, `encoder`, `generator`; in the inference worker, `idle`: from the end of
 * one run to the next request's arrival (the reply's and the request's trip through the page).
 */
export type StageName =
  | 'frame' | 'upload' | 'tracking' | 'alignment' | 'crop' | 'readback' | 'idle' | 'encoder' | 'generator' | 'colour' | 'blend';

export interface StageTiming {
  readonly p50: number;
  readonly p95: number;
  readonly samples: number;
}

export interface PipelineStats {
  /** Milliseconds per stage over the recent window. */
  readonly stages: Partial<Record<StageName, StageTiming>>;
  /** Frames shown per second, and stylized (generator) results per second. */
  readonly fps: { readonly displayed: number; readonly stylized: number };
  /** Frames a busy stage dropped since the start (stage name -> count). */
  readonly dropped: Readonly<Record<string, number>>;
  /** Faces in the latest frame. */
  readonly faces: number;
  readonly executionProvider: string;
}

export type RateName = 'displayed' | 'stylized';

const RATE_WINDOW_MS = 2000;

/** Collects timings and counters; `stats$` samples them periodically. */
export class StatsRecorder {
  private readonly timings = new Map<StageName, number[]>();
  private readonly events: Record<RateName, number[]> = { displayed: [], stylized: [] };
  private readonly dropped: Record<string, number> = {};
  faces = 0;
  executionProvider = 'none';

  constructor(
    private readonly windowSize = 120,
    private readonly now: () => number = () => performance.now(),
  ) {}

  time(stage: StageName, milliseconds: number): void {
    let samples = this.timings.get(stage);
    if (!samples) this.timings.set(stage, (samples = []));
    samples.push(milliseconds);
    if (samples.length > this.windowSize) samples.shift();
  }

  /** Runs `work`, records its duration under `stage`, returns its result. */
  measure<T>(stage: StageName, work: () => T): T {
    const start = this.now();
    try {
      return work();
    } finally {
      this.time(stage, this.now() - start);
    }
  }

  tick(rate: RateName): void {
    const times = this.events[rate];
    const t = this.now();
    times.push(t);
    while (times.length > 0 && (times[0] as number) < t - RATE_WINDOW_MS) times.shift();
  }

  drop(stage: string, count = 1): void {
    if (count > 0) this.dropped[stage] = (this.dropped[stage] ?? 0) + count;
  }

  /** How many frames `stage` dropped since the start. */
  droppedBy(stage: string): number {
    return this.dropped[stage] ?? 0;
  }

  snapshot(): PipelineStats {
    const stages: Partial<Record<StageName, StageTiming>> = {};
    for (const [stage, samples] of this.timings) {
      const sorted = [...samples].sort((a, b) => a - b);
      stages[stage] = { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), samples: sorted.length };
    }
    return {
      stages,
      fps: { displayed: this.rate('displayed'), stylized: this.rate('stylized') },
      dropped: { ...this.dropped },
      faces: this.faces,
      executionProvider: this.executionProvider,
    };
  }

  /** Emits a snapshot every `periodMs`. */
  stats$(periodMs = 1000, scheduler: SchedulerLike = asyncScheduler): Observable<PipelineStats> {
    return interval(periodMs, scheduler).pipe(map(() => this.snapshot()));
  }

  private rate(name: RateName): number {
    const times = this.events[name];
    const t = this.now();
    const recent = times.filter((time) => time >= t - RATE_WINDOW_MS);
    if (recent.length < 2) return 0;
    const span = (recent[recent.length - 1] as number) - (recent[0] as number);
    return span > 0 ? ((recent.length - 1) * 1000) / span : 0;
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}
