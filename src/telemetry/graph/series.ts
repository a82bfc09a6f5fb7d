/**
 * One proxy's scrape, reduced to what the service graph reads: Istio's request counter, the
 * duration histogram and the four TCP counters, keyed by the labels that place traffic on the
 * graph. Everything else on `/stats/prometheus` (size histograms, response flags, istio_build) is
 * skipped while reading, so a scrape costs a few entries per series in the history, not the
 * sixty-odd lines the proxy printed. Histogram buckets are kept per bucket (not cumulative) and
 * only where non-zero: most requests of an edge fall in two or three buckets.
 *
 * A key is `<family>\u0002<label values joined by \u0001>`; family is `req`, `tcpo`, `tcpc`,
 * `tcps`, `tcpr`, or `d<le>` for one duration bucket.
 */

/** The labels that place a series on the graph, in key order. */
export const GRAPH_LABELS = [
  'reporter',
  'source_workload', 'source_workload_namespace', 'source_app', 'source_version',
  'source_canonical_service', 'source_canonical_revision', 'source_principal',
  'destination_workload', 'destination_workload_namespace', 'destination_app', 'destination_version',
  'destination_canonical_service', 'destination_canonical_revision',
  'destination_service', 'destination_service_name', 'destination_service_namespace', 'destination_principal',
  'request_protocol', 'response_code', 'grpc_response_status', 'connection_security_policy',
] as const;

export type GraphLabel = (typeof GRAPH_LABELS)[number];
export type SeriesLabels = Record<GraphLabel, string>;

const FAMILIES: Record<string, string> = {
  istio_requests_total: 'req',
  istio_tcp_connections_opened_total: 'tcpo',
  istio_tcp_connections_closed_total: 'tcpc',
  istio_tcp_sent_bytes_total: 'tcps',
  istio_tcp_received_bytes_total: 'tcpr',
};
const BUCKET = 'istio_request_duration_milliseconds_bucket';

export interface ReadResult {
  values: Map<string, number>;
  /** Lines that could not be read (counted, never fatal: one odd line must not lose the scrape). */
  badLines: number;
  /** Series left out past the limit. */
  dropped: number;
  /** Every finite duration bucket bound seen: the lower edges that percentiles interpolate from. */
  bounds: number[];
}

/** Shares one string per distinct key across scrapes, so the history holds Map entries, not copies. */
const interned = new Map<string, string>();
const MAX_INTERNED = 200_000;

function intern(key: string): string {
  const known = interned.get(key);
  if (known !== undefined) return known;
  if (interned.size >= MAX_INTERNED) interned.clear();
  interned.set(key, key);
  return key;
}

export function seriesKey(family: string, labels: Readonly<Record<string, string>>): string {
  let out = `${family}\u0002`;
  for (let i = 0; i < GRAPH_LABELS.length; i++) out += `${i > 0 ? '\u0001' : ''}${labels[GRAPH_LABELS[i] as GraphLabel] ?? ''}`;
  return out;
}

/** The family and labels of a key made by seriesKey. */
export function splitKey(key: string): { family: string; labels: SeriesLabels } {
  const sep = key.indexOf('\u0002');
  const values = key.slice(sep + 1).split('\u0001');
  const labels = {} as SeriesLabels;
  GRAPH_LABELS.forEach((name, i) => (labels[name] = values[i] ?? ''));
  return { family: key.slice(0, sep), labels };
}

/** Reads the exposition text of one proxy; at most `maxSeries` request/TCP series are kept. */
export function readExposition(text: string, maxSeries = 5_000): ReadResult {
  const values = new Map<string, number>();
  // Cumulative bucket counts per series, turned into per-bucket counts once all are read.
  const buckets = new Map<string, [number, number][]>();
  let badLines = 0;
  let dropped = 0;
  let series = 0;
  const droppedHistograms = new Set<string>();
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line === '' || line.charCodeAt(0) === 35 /* # */) continue;
    const brace = line.indexOf('{');
    if (brace < 0) continue; // every family read here has labels
    const name = line.slice(0, brace);
    const family = FAMILIES[name];
    if (family === undefined && name !== BUCKET) continue;
    const parsed = parseLabelsAndValue(line, brace + 1);
    if (!parsed) {
      badLines++;
      continue;
    }
    const { labels, value } = parsed;
    if (family !== undefined) {
      const key = seriesKey(family, labels);
      if (!values.has(key) && ++series > maxSeries) {
        dropped++;
        continue;
      }
      values.set(intern(key), (values.get(key) ?? 0) + value);
      continue;
    }
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    if (labels.le === undefined || Number.isNaN(le)) {
      badLines++;
      continue;
    }
    const base = seriesKey('', labels);
    let list = buckets.get(base);
    if (!list) {
      if (buckets.size >= maxSeries) {
        droppedHistograms.add(base);
        continue;
      }
      buckets.set(base, (list = []));
    }
    list.push([le, value]);
  }
  for (const [base, list] of buckets) {
    list.sort((a, b) => a[0] - b[0]);
    let previous = 0;
    for (const [le, cumulative] of list) {
      const count = cumulative - previous;
      previous = cumulative;
      if (count <= 0) continue;
      const key = intern(`d${le === Infinity ? '+Inf' : String(le)}${base}`);
      values.set(key, (values.get(key) ?? 0) + count);
    }
  }
  const bounds = new Set<number>();
  for (const list of buckets.values()) for (const [le] of list) if (le !== Infinity) bounds.add(le);
  return { values, badLines, dropped: dropped + droppedHistograms.size, bounds: [...bounds].sort((a, b) => a - b) };
}

/** `a="x",b="y"} 12` from `from`; undefined when the line is not a well-formed sample. */
function parseLabelsAndValue(line: string, from: number): { labels: Record<string, string>; value: number } | undefined {
  const labels: Record<string, string> = {};
  let i = from;
  for (;;) {
    if (line[i] === '}') break;
    const eq = line.indexOf('="', i);
    if (eq < 0) return undefined;
    const name = line.slice(i, eq);
    let j = eq + 2;
    let value = '';
    let plain = j;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] !== '\\') continue;
      value += line.slice(plain, j);
      const next = line[++j];
      value += next === 'n' ? '\n' : (next ?? '');
      plain = j + 1;
    }
    if (j >= line.length) return undefined;
    labels[name] = value + line.slice(plain, j);
    i = j + 1;
    if (line[i] === ',') i++;
  }
  const rest = line.slice(i + 1).trim().split(' ')[0] ?? '';
  const value = rest === '+Inf' ? Infinity : Number(rest);
  if (rest === '' || Number.isNaN(value)) return undefined;
  return { labels, value };
}
