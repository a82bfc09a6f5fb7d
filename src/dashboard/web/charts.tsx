/**
 * Charts of an edge's or a service's rates over time (/api/graph/series), drawn by uPlot (small
 * and fast: a few hundred points per line redraw in well under a millisecond): request rate,
 * error rate, and p50/p99 latency, each with a time axis; a null value is a gap (no traffic, no
 * latency). The box polls every few seconds while it is on screen. Each chart's container says
 * what it drew in data-max and data-points, for tests and for anyone reading the page's DOM.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Series, SeriesPoint } from './types.js';
import { api, message } from './util.js';

const WIDTH = 320;
const HEIGHT = 120;

/** 1, 2 or 5 times a power of ten, at least the largest value, so the axis reads cleanly. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= max) ?? 10 * p;
}

interface Line { name: string; color: string; values: (number | null)[] }

/** Values alone between gaps (one step with traffic) have no line to draw: those are drawn as dots. */
function isolated(u: uPlot, seriesIdx: number): number[] | null {
  const values = u.data[seriesIdx] ?? [];
  const alone: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] != null && values[i - 1] == null && values[i + 1] == null) alone.push(i);
  return alone.length ? alone : null;
}

export function LineChart({ id, title, unit, at, lines }: { id: string; title: string; unit: string; at: number[]; lines: Line[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const data: uPlot.AlignedData = [at, ...lines.map((l) => l.values)];
  const max = Math.max(0, ...lines.flatMap((l) => l.values.filter((v): v is number => v !== null)));
  useEffect(() => {
    if (!box.current) return;
    const u = new uPlot({
      width: WIDTH,
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, top) => [0, niceMax(top)] } },
      axes: [{ size: 24, font: '9px system-ui' }, { size: 40, font: '9px system-ui' }],
      series: [{}, ...lines.map((l) => ({ label: l.name, stroke: l.color, width: 1.5, spanGaps: false, points: { show: false, size: 5, fill: l.color, filter: isolated } }))],
    }, data, box.current);
    plot.current = u;
    return () => u.destroy();
  }, []);
  useEffect(() => plot.current?.setData(data), [at, lines]);
  return (
    <figure class="chart-box" id={id}>
      <figcaption>{title} ({unit}){lines.length > 1 ? lines.map((l) => <span key={l.name} style={{ color: l.color }}> {'\u25a0'} {l.name}</span>) : null}</figcaption>
      <div class="plot" role="img" aria-label={`${title} (${unit})`} data-max={max} data-points={lines[0]?.values.filter((v) => v !== null).length ?? 0} ref={box} />
    </figure>
  );
}

/** The charts for one edge (`edge`) or one service (`node`), refreshed every `everyMs`. */
export function SeriesCharts({ edge, node, tcp = false, range = '5m', step = '10s', everyMs = 5_000 }: { edge?: string; node?: string; tcp?: boolean; range?: string; step?: string; everyMs?: number }) {
  const [series, setSeries] = useState<Series | undefined>(undefined);
  const [error, setError] = useState('');
  useEffect(() => {
    const q = new URLSearchParams({ range, step });
    if (edge) q.set('edge', edge);
    if (node) q.set('node', node);
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const s = await api<Series>(`/api/graph/series?${q}`);
        if (!stopped) {
          setSeries(s);
          setError('');
        }
      } catch (err) {
        if (!stopped) setError(`charts: ${message(err)}`);
      }
      if (!stopped) timer = setTimeout(() => void load(), everyMs);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  if (error) return <div class="charts" id="charts"><p class="error-text">{error}</p></div>;
  if (!series) return <div class="charts" id="charts"><p class="muted">loading the charts</p></div>;
  return <div class="charts" id="charts"><Charts series={series} tcp={tcp} range={range} /></div>;
}

function Charts({ series, tcp, range }: { series: Series; tcp: boolean; range: string }) {
  const points: SeriesPoint[] = series.points;
  // uPlot's time axis is in seconds.
  const at = points.map((p) => Date.parse(p.at) / 1000);
  const incoming = series.edges?.length ?? 0;
  const note = `last ${range}, ${series.stepSeconds}s steps`
    + (series.latency ? `; ${incoming} incoming edge${incoming === 1 ? '' : 's'}, p50/p99 from their duration histograms merged` : '');
  return (
    <>
      <h4>Over time</h4>
      <p class="muted">{note}</p>
      {tcp
        ? <LineChart id="chart-bytes" title="bytes" unit="B/s" at={at} lines={[{ name: 'bytes', color: '#4b8bbe', values: points.map((p) => p.tcp?.bytesPerSecond ?? 0) }]} />
        : <>
          <LineChart id="chart-requests" title="request rate" unit="req/s" at={at} lines={[{ name: 'requests', color: '#0b5cad', values: points.map((p) => p.requestRate) }]} />
          <LineChart id="chart-errors" title="error rate" unit="%" at={at} lines={[{ name: 'errors', color: '#cf222e', values: points.map((p) => (p.requestRate > 0 ? p.errorRate * 100 : null)) }]} />
          <LineChart id="chart-latency" title="latency" unit="ms" at={at} lines={[{ name: 'p50', color: '#1a7f37', values: points.map((p) => p.p50Ms) }, { name: 'p99', color: '#9a6700', values: points.map((p) => p.p99Ms) }]} />
        </>}
    </>
  );
}
