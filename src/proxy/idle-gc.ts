/**
 * One full garbage collection when the data plane goes quiet after traffic. A sidecar's old
 * space fills with the garbage of the requests it served (measured in a demo mesh: 3-4 MB after a
 * few hundred page views, none of it live), and V8 runs no major GC while the heap is this far
 * under its limit, so the idle sidecar kept those pages. Under load nothing changes: the
 * collection runs only after a whole interval with no new connection or request, and only when
 * the heap grew enough since the last one to be worth a few milliseconds of pause.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface IdleCollectorOptions {
  /** A counter that moves with data-plane traffic (connections + requests), not with probes or scrapes. */
  activity: () => number;
  /** How often the heap is looked at; the quiet period is one interval. */
  intervalMs?: number;
  /** Growth of the used heap since the last collection below which a collection is not worth it. */
  minGrowthBytes?: number;
  /** The collection; the default is V8's full GC. */
  collect?: () => void;
  usedHeap?: () => number;
}

/** The decision, apart from timers so it is testable: collect once traffic stopped and the heap grew. */
export class IdleCollectionPolicy {
  #lastActivity: number;
  #baseline: number;
  readonly #minGrowth: number;

  constructor(activity: number, usedHeap: number, minGrowthBytes: number) {
    this.#lastActivity = activity;
    this.#baseline = usedHeap;
    this.#minGrowth = minGrowthBytes;
  }

  /** Called once per interval; true when a collection should run now. */
  tick(activity: number, usedHeap: number): boolean {
    const quiet = activity === this.#lastActivity;
    this.#lastActivity = activity;
    return quiet && usedHeap - this.#baseline >= this.#minGrowth;
  }

  /** The heap after a collection is the level growth is measured from. */
  collected(usedHeap: number): void {
    this.#baseline = usedHeap;
  }
}

let fullGc: (() => void) | undefined;

/** V8's full collection, as `--expose-gc` gives it, without needing the flag on the command line. */
export function collectGarbage(): void {
  if (!fullGc) {
    setFlagsFromString('--expose-gc');
    fullGc = runInNewContext('gc') as () => void;
  }
  fullGc();
}

/** Starts the periodic check; the returned function stops it. The timer never keeps the process alive. */
export function startIdleCollector(options: IdleCollectorOptions): () => void {
  const usedHeap = options.usedHeap ?? (() => getHeapStatistics().used_heap_size);
  const collect = options.collect ?? collectGarbage;
  const policy = new IdleCollectionPolicy(options.activity(), usedHeap(), options.minGrowthBytes ?? 1024 * 1024);
  const timer = setInterval(() => {
    if (!policy.tick(options.activity(), usedHeap())) return;
    collect();
    policy.collected(usedHeap());
  }, options.intervalMs ?? 5_000);
  timer.unref();
  return () => clearInterval(timer);
}
