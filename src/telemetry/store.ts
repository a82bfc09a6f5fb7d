/**
 * The embedded trace store: spans in memory, grouped by trace, with the indexes Zipkin's query
 * API needs (services, span names per service, remote services). Memory is bounded by a span
 * count and a trace count; past either, whole traces go, oldest first (a trace's age is when its
 * first span arrived), so a busy mesh keeps its recent traces and never grows without limit.
 * Queries follow Zipkin's QueryRequest semantics (zipkin2.storage.QueryRequest#test).
 */
import type { Span } from './span.js';

export interface StoreLimits {
  /** Default 200 000. */
  maxSpans?: number;
  /** Default 20 000. */
  maxTraces?: number;
}

export interface TraceQuery {
  serviceName?: string;
  remoteServiceName?: string;
  spanName?: string;
  /** Zipkin's annotationQuery: `error and http.method=GET` (tag keys or key=value, or annotation values). */
  annotationQuery?: string;
  /** Microseconds. */
  minDuration?: number;
  maxDuration?: number;
  /** Epoch milliseconds; default now. */
  endTs?: number;
  /** Milliseconds; default 24h. */
  lookback?: number;
  /** Default 10. */
  limit?: number;
}

interface Trace {
  spans: Span[];
  /** Earliest span timestamp (microseconds), 0 until one has one. */
  start: number;
}

/** Counts per name, so eviction can tell when the last span of a service or name went. */
class Counted {
  readonly #counts = new Map<string, number>();
  add(key: string): void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }
  remove(key: string): void {
    const n = (this.#counts.get(key) ?? 0) - 1;
    if (n <= 0) this.#counts.delete(key);
    else this.#counts.set(key, n);
  }
  sorted(): string[] {
    return [...this.#counts.keys()].sort();
  }
}

export class TraceStore {
  readonly maxSpans: number;
  readonly maxTraces: number;
  /** Insertion order is age order: the first entry is the oldest trace. */
  readonly #traces = new Map<string, Trace>();
  readonly #services = new Counted();
  readonly #spanNames = new Map<string, Counted>();
  readonly #remoteServices = new Map<string, Counted>();
  #spanCount = 0;
  /** Traces evicted to stay within the limits, since start. */
  evictedTraces = 0;

  constructor(limits: StoreLimits = {}) {
    this.maxSpans = limits.maxSpans ?? 200_000;
    this.maxTraces = limits.maxTraces ?? 20_000;
  }

  get spanCount(): number {
    return this.#spanCount;
  }

  get traceCount(): number {
    return this.#traces.size;
  }

  add(spans: readonly Span[]): void {
    for (const span of spans) this.#addOne(span);
    this.#evict();
  }

  #addOne(span: Span): void {
    let trace = this.#traces.get(span.traceId);
    if (trace === undefined) {
      trace = { spans: [], start: 0 };
      this.#traces.set(span.traceId, trace);
    }
    const same = trace.spans.findIndex((s) => s.id === span.id && s.kind === span.kind && s.localEndpoint?.serviceName === span.localEndpoint?.serviceName);
    if (same >= 0) {
      // A span reported twice (a retried POST, or a late part): merge, as Zipkin's trace view does.
      const prior = trace.spans[same] as Span;
      this.#unindex(prior);
      trace.spans[same] = merge(prior, span);
      this.#index(trace.spans[same] as Span);
    } else {
      trace.spans.push(span);
      this.#spanCount++;
      this.#index(span);
    }
    if (span.timestamp !== undefined && (trace.start === 0 || span.timestamp < trace.start)) trace.start = span.timestamp;
  }

  #index(span: Span): void {
    const service = span.localEndpoint?.serviceName;
    if (service === undefined) return;
    this.#services.add(service);
    if (span.name !== undefined) forKey(this.#spanNames, service).add(span.name);
    const remote = span.remoteEndpoint?.serviceName;
    if (remote !== undefined) forKey(this.#remoteServices, service).add(remote);
  }

  #unindex(span: Span): void {
    const service = span.localEndpoint?.serviceName;
    if (service === undefined) return;
    this.#services.remove(service);
    if (span.name !== undefined) this.#spanNames.get(service)?.remove(span.name);
    const remote = span.remoteEndpoint?.serviceName;
    if (remote !== undefined) this.#remoteServices.get(service)?.remove(remote);
  }

  #evict(): void {
    while (this.#traces.size > 0 && (this.#spanCount > this.maxSpans || this.#traces.size > this.maxTraces)) {
      const [id, oldest] = this.#traces.entries().next().value as [string, Trace];
      this.#traces.delete(id);
      this.#spanCount -= oldest.spans.length;
      for (const s of oldest.spans) this.#unindex(s);
      this.evictedTraces++;
    }
  }

  services(): string[] {
    return this.#services.sorted();
  }

  spanNames(serviceName: string): string[] {
    return this.#spanNames.get(serviceName.toLowerCase())?.sorted() ?? [];
  }

  remoteServices(serviceName: string): string[] {
    return this.#remoteServices.get(serviceName.toLowerCase())?.sorted() ?? [];
  }

  /** A trace's spans, by start time; a 16-digit id also finds a 128-bit trace with those low bits. */
  trace(traceId: string): Span[] | undefined {
    const id = traceId.toLowerCase();
    let trace = this.#traces.get(id.length < 16 ? id.padStart(16, '0') : id);
    if (trace === undefined && id.length === 16) {
      for (const [key, t] of this.#traces) if (key.length === 32 && key.endsWith(id)) trace = t;
    }
    return trace ? sortSpans(trace.spans) : undefined;
  }

  /** Traces matching `q`, newest first, at most `limit`. */
  traces(q: TraceQuery): Span[][] {
    const endTs = (q.endTs ?? Date.now()) * 1000;
    const beginTs = endTs - (q.lookback ?? 86_400_000) * 1000;
    const limit = q.limit ?? 10;
    const matched: Trace[] = [];
    const test = compile(q);
    for (const trace of this.#traces.values()) {
      if (trace.start !== 0 && (trace.start < beginTs || trace.start > endTs)) continue;
      if (test(trace.spans)) matched.push(trace);
    }
    matched.sort((a, b) => b.start - a.start);
    return matched.slice(0, limit).map((t) => sortSpans(t.spans));
  }

  /** Zipkin's dependency links: calls between services, from parent/child spans and client spans' remote service. */
  dependencies(endTs: number, lookback: number): { parent: string; child: string; callCount: number; errorCount?: number }[] {
    const begin = (endTs - lookback) * 1000;
    const links = new Map<string, { parent: string; child: string; callCount: number; errorCount: number }>();
    const link = (parent: string, child: string, error: boolean): void => {
      const key = `${parent}\u0000${child}`;
      const l = links.get(key) ?? { parent, child, callCount: 0, errorCount: 0 };
      l.callCount++;
      if (error) l.errorCount++;
      links.set(key, l);
    };
    for (const trace of this.#traces.values()) {
      if (trace.start !== 0 && (trace.start < begin || trace.start > endTs * 1000)) continue;
      const byId = new Map(trace.spans.map((s) => [s.id, s]));
      for (const s of trace.spans) {
        const child = s.localEndpoint?.serviceName;
        const parent = s.parentId !== undefined ? byId.get(s.parentId)?.localEndpoint?.serviceName : undefined;
        const error = s.tags?.error !== undefined;
        if (s.kind === 'SERVER' && child && parent && parent !== child) link(parent, child, error);
        else if (s.kind === 'CLIENT' && child && s.remoteEndpoint?.serviceName && !trace.spans.some((c) => c.parentId === s.id && c.kind === 'SERVER')) link(child, s.remoteEndpoint.serviceName, error);
      }
    }
    return [...links.values()].map((l) => (l.errorCount > 0 ? l : { parent: l.parent, child: l.child, callCount: l.callCount }));
  }
}

function forKey(map: Map<string, Counted>, key: string): Counted {
  let c = map.get(key);
  if (c === undefined) {
    c = new Counted();
    map.set(key, c);
  }
  return c;
}

function merge(a: Span, b: Span): Span {
  const out: Span = { ...a, ...b };
  if (a.tags || b.tags) out.tags = { ...a.tags, ...b.tags };
  if (a.annotations || b.annotations) out.annotations = [...(a.annotations ?? []), ...(b.annotations ?? [])].sort((x, y) => x.timestamp - y.timestamp);
  return out;
}

function sortSpans(spans: readonly Span[]): Span[] {
  return [...spans].sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
}

/** Zipkin's QueryRequest#test: every condition must hold for some span of the trace. */
function compile(q: TraceQuery): (spans: readonly Span[]) => boolean {
  const service = q.serviceName?.toLowerCase() || undefined;
  const remote = q.remoteServiceName?.toLowerCase() || undefined;
  const name = q.spanName && q.spanName.toLowerCase() !== 'all' ? q.spanName.toLowerCase() : undefined;
  const terms = parseAnnotationQuery(q.annotationQuery ?? '');
  const durationSet = q.minDuration !== undefined || q.maxDuration !== undefined;
  return (spans) => {
    const ofService = service === undefined ? spans : spans.filter((s) => s.localEndpoint?.serviceName === service);
    if (ofService.length === 0) return false;
    if (remote !== undefined && !ofService.some((s) => s.remoteEndpoint?.serviceName === remote)) return false;
    if (name !== undefined && !ofService.some((s) => s.name === name)) return false;
    for (const [key, value] of terms) {
      const hit = ofService.some((s) => (value === undefined ? s.tags?.[key] !== undefined || (s.annotations ?? []).some((a) => a.value === key) : s.tags?.[key] === value));
      if (!hit) return false;
    }
    if (durationSet) {
      const min = q.minDuration ?? 0;
      const max = q.maxDuration ?? Number.MAX_SAFE_INTEGER;
      if (!ofService.some((s) => s.duration !== undefined && s.duration >= min && s.duration <= max)) return false;
    }
    return true;
  };
}

/** `error and http.method=GET` -> [['error', undefined], ['http.method', 'GET']]. */
export function parseAnnotationQuery(text: string): [string, string | undefined][] {
  return text
    .split(/\s+and\s+/i)
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t) => {
      const eq = t.indexOf('=');
      return eq < 0 ? [t, undefined] : [t.slice(0, eq), t.slice(eq + 1)];
    });
}
