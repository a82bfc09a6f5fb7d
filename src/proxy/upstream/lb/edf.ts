/**
 * Earliest-deadline-first scheduler, Envoy's EdfScheduler: each entry is due every 1/weight
 * units of virtual time, so picks interleave smoothly in proportion to weight. Weights are read
 * when an entry is (re)added, which is how LEAST_REQUEST folds active requests into them.
 */
interface Entry<T> {
  item: T;
  deadline: number;
  /** Insertion order breaks deadline ties, as Envoy's order_offset does. */
  order: number;
}

export class EdfScheduler<T> {
  #heap: Entry<T>[] = [];
  #now = 0;
  #order = 0;

  constructor(
    items: readonly T[],
    private readonly weightOf: (item: T) => number,
  ) {
    for (const item of items) this.#push(item);
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Takes the earliest entry and schedules it again with its current weight. */
  pickAndAdd(): T | undefined {
    const top = this.#heap[0];
    if (!top) return undefined;
    this.#popTop();
    this.#now = top.deadline;
    this.#push(top.item);
    return top.item;
  }

  #push(item: T): void {
    const weight = this.weightOf(item);
    const safe = Number.isFinite(weight) && weight > 0 ? weight : 1e-9;
    const entry = { item, deadline: this.#now + 1 / safe, order: this.#order++ };
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(heap[i] as Entry<T>, heap[parent] as Entry<T>)) break;
      [heap[i], heap[parent]] = [heap[parent] as Entry<T>, heap[i] as Entry<T>];
      i = parent;
    }
  }

  #popTop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (!last || heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && this.#before(heap[l] as Entry<T>, heap[m] as Entry<T>)) m = l;
      if (r < heap.length && this.#before(heap[r] as Entry<T>, heap[m] as Entry<T>)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m] as Entry<T>, heap[i] as Entry<T>];
      i = m;
    }
  }

  #before(a: Entry<T>, b: Entry<T>): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.order < b.order);
  }
}
