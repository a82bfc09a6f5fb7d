/**
 * Traces from the embedded store, through Zipkin's v2 query API on the dashboard's own origin:
 * search by service, remote service, span name, minimum duration, time range and limit; a trace
 * opens as a waterfall, each span under its parent, indented by depth, its bar placed on the
 * trace's time line; clicking a span shows its tags (response flags, upstream cluster, peer, ...).
 */
import { useEffect, useState } from 'preact/hooks';
import type { Endpoint, Span } from './types.js';
import { api, Details, message, millis, routeParams } from './util.js';

const ZIPKIN = '/api/zipkin/api/v2';
const LOOKBACKS: [string, number][] = [['15m', 900_000], ['1h', 3_600_000], ['6h', 21_600_000], ['24h', 86_400_000]];

const isError = (span: Span) => span.tags?.error !== undefined || /^5/.test(span.tags?.['http.status_code'] ?? '');

/**
 * Spans in waterfall order: each after its parent, siblings by start time; a span whose parent
 * is not in the trace is a root. Returns each with its depth.
 */
export function waterfallOrder(spans: Span[]): { span: Span; depth: number }[] {
  const ids = new Set(spans.map((s) => s.id));
  const children = new Map<string, Span[]>();
  const roots: Span[] = [];
  for (const s of spans) {
    if (s.parentId && ids.has(s.parentId) && s.parentId !== s.id) children.set(s.parentId, [...(children.get(s.parentId) ?? []), s]);
    else roots.push(s);
  }
  const byStart = (a: Span, b: Span) => (a.timestamp ?? 0) - (b.timestamp ?? 0);
  const out: { span: Span; depth: number }[] = [];
  const seen = new Set<Span>();
  const walk = (s: Span, depth: number) => {
    if (seen.has(s)) return;
    seen.add(s);
    out.push({ span: s, depth });
    for (const c of (children.get(s.id) ?? []).sort(byStart)) walk(c, depth + 1);
  };
  for (const r of roots.sort(byStart)) walk(r, 0);
  return out;
}

/** `reviews.default 127.0.0.1:9080`, leaving out what the span does not say. */
function remote(ep: Endpoint | undefined): string | undefined {
  if (!ep) return undefined;
  const ip = ep.ipv4 ?? ep.ipv6;
  const address = ip ? `${ip}${ep.port ? `:${ep.port}` : ''}` : '';
  return [ep.serviceName, address].filter(Boolean).join(' ') || undefined;
}

const extent = (spans: Span[]) => {
  const start = Math.min(...spans.map((s) => s.timestamp ?? Infinity));
  const end = Math.max(...spans.map((s) => (s.timestamp ?? 0) + (s.duration ?? 0)));
  return { start, end };
};

interface Query { service: string; remote: string; spanName: string; minDuration: string; lookback: string; limit: string }

export function TracesView() {
  const params = routeParams();
  const [services, setServices] = useState<string[]>([]);
  const [q, setQ] = useState<Query>({ service: params.get('service') ?? '', remote: params.get('remote') ?? '', spanName: '', minDuration: '', lookback: '3600000', limit: '20' });
  const [results, setResults] = useState<Span[][] | string | undefined>(undefined);
  const [trace, setTrace] = useState<Span[] | string | undefined>(undefined);
  const [span, setSpan] = useState<Span | undefined>(undefined);
  const set = (k: keyof Query) => (e: Event) => setQ((old) => ({ ...old, [k]: (e.currentTarget as HTMLInputElement).value }));

  const search = async (query: Query) => {
    const z = new URLSearchParams({ limit: query.limit || '20', lookback: query.lookback, endTs: String(Date.now()) });
    if (query.service) z.set('serviceName', query.service);
    if (query.remote.trim()) z.set('remoteServiceName', query.remote.trim());
    if (query.spanName) z.set('spanName', query.spanName);
    if (query.minDuration) z.set('minDuration', String(Math.round(Number(query.minDuration) * 1000)));
    try {
      setResults(await api<Span[][]>(`${ZIPKIN}/traces?${z}`));
    } catch (err) {
      setResults(message(err));
    }
  };
  const open = async (id: string) => {
    try {
      setTrace(await api<Span[]>(`${ZIPKIN}/trace/${encodeURIComponent(id)}`));
      setSpan(undefined);
    } catch (err) {
      setTrace(message(err));
    }
  };

  useEffect(() => {
    api<string[]>(`${ZIPKIN}/services`).then((names) => {
      setServices(names);
      void search(q);
    }, (err) => setResults(`traces are not available: ${message(err)}`));
    const wanted = params.get('trace');
    if (wanted) void open(wanted);
  }, []);

  return (
    <>
      <h2>Traces</h2>
      <form class="search" id="trace-search" onSubmit={(e) => { e.preventDefault(); void search(q); }}>
        <label>service<select name="service" value={q.service} onChange={set('service')}>
          <option value="">any</option>
          {services.map((n) => <option key={n} value={n}>{n}</option>)}
        </select></label>
        {/* The other end of a call (a CLIENT span's remote service): a graph edge's link sets it. */}
        <label>remote service<input name="remoteServiceName" placeholder="any" size={20} value={q.remote} onInput={set('remote')} /></label>
        <label>operation<input name="spanName" placeholder="any" size={30} value={q.spanName} onInput={set('spanName')} /></label>
        <label>min duration (ms)<input name="minDuration" type="number" min={0} placeholder="ms" size={6} value={q.minDuration} onInput={set('minDuration')} /></label>
        <label>range<select name="lookback" value={q.lookback} onChange={set('lookback')}>
          {LOOKBACKS.map(([label, ms]) => <option key={label} value={String(ms)}>{label}</option>)}
        </select></label>
        <label>limit<input name="limit" type="number" min={1} max={1000} size={5} value={q.limit} onInput={set('limit')} /></label>
        <button type="submit">Search</button>
      </form>
      <div class="split">
        <div>
          <div id="trace-results"><Results results={results} open={(id) => void open(id)} /></div>
          <div id="trace">{typeof trace === 'string' ? <p class="error-text">{trace}</p> : trace ? <Waterfall spans={trace} selected={span} select={setSpan} /> : null}</div>
        </div>
        <aside class="panel" id="span-details">{span ? <SpanTags span={span} /> : <p class="muted">click a span for its tags</p>}</aside>
      </div>
    </>
  );
}

function Results({ results, open }: { results: Span[][] | string | undefined; open: (id: string) => void }) {
  if (results === undefined) return null;
  if (typeof results === 'string') return <p class="error-text">{results}</p>;
  if (results.length === 0) return <p class="muted">no traces match</p>;
  return (
    <table id="trace-list">
      <thead><tr>{['start', 'root service', 'root span', 'spans', 'errors', 'duration'].map((h) => <th key={h}>{h}</th>)}</tr></thead>
      <tbody>
        {results.map((spans) => {
          const [root] = waterfallOrder(spans);
          const { start, end } = extent(spans);
          const id = spans[0]?.traceId ?? '';
          const errors = spans.filter(isError).length;
          return (
            <tr key={id} class="clickable" data-trace={id} onClick={() => open(id)}>
              <td>{Number.isFinite(start) ? new Date(start / 1000).toLocaleTimeString() : '-'}</td>
              <td>{root?.span.localEndpoint?.serviceName ?? '?'}</td>
              <td>{root?.span.name ?? '?'}</td>
              <td>{spans.length}</td>
              <td class={errors ? 'Error' : ''}>{errors}</td>
              <td>{millis(Number.isFinite(start) ? (end - start) / 1000 : null)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Waterfall({ spans, selected, select }: { spans: Span[]; selected: Span | undefined; select: (s: Span) => void }) {
  const { start, end } = extent(spans);
  const total = Math.max(1, end - start);
  const traceId = spans[0]?.traceId ?? '';
  return (
    <>
      <h3>Trace {traceId}<span class="muted"> {spans.length} spans, {millis(total / 1000)}</span></h3>
      <div class="waterfall" data-trace-id={traceId}>
        {waterfallOrder(spans).map(({ span, depth }) => (
          <div key={span.id} class={span === selected ? 'span selected' : 'span'} data-span-id={span.id} data-parent-id={span.parentId ?? ''} data-depth={depth} onClick={() => select(span)}>
            <div class="name" style={{ paddingLeft: `${depth * 16}px` }} title={span.name ?? ''}>
              <strong>{span.localEndpoint?.serviceName ?? '?'}</strong> {span.kind ?? ''} <span class="muted">{span.name ?? ''}</span>
            </div>
            <div class="track"><div class={isError(span) ? 'bar error' : 'bar'} style={{ left: `${(((span.timestamp ?? start) - start) / total) * 100}%`, width: `${((span.duration ?? 0) / total) * 100}%` }} /></div>
            <div class="dur">{millis((span.duration ?? 0) / 1000)}</div>
          </div>
        ))}
      </div>
    </>
  );
}

function SpanTags({ span }: { span: Span }) {
  return (
    <>
      <h3>{span.name ?? span.id}</h3>
      <Details pairs={[['service', span.localEndpoint?.serviceName], ['kind', span.kind], ['span id', span.id], ['parent id', span.parentId],
        ['duration', millis((span.duration ?? 0) / 1000)], ['remote', remote(span.remoteEndpoint)]]} />
      <h4>Tags</h4>
      <Details pairs={Object.entries(span.tags ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))} />
    </>
  );
}
