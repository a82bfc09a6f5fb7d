/**
 * The dashboard page (bundled by esbuild into app.js with Preact, uPlot and cytoscape): a hash
 * router over four views (graph, workloads, traces, config), the namespace filter they share,
 * and the one event stream (/api/events) whose `graph` and `workloads` events reach the view on
 * screen through `live`, so it updates without a reload.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { api, live, message } from './util.js';
import { GraphView } from './graph.js';
import { WorkloadsView } from './workloads.js';
import { TracesView } from './traces.js';
import { ConfigView } from './config.js';

export interface ViewProps {
  namespace: string;
  window: string;
  setWindow: (w: string) => void;
}

const VIEWS = { graph: GraphView, workloads: WorkloadsView, traces: TracesView, config: ConfigView };
type ViewName = keyof typeof VIEWS;

const viewOf = (hash: string): ViewName => {
  const name = hash.replace(/^#\/?/, '').split('?')[0] ?? '';
  return name in VIEWS ? (name as ViewName) : 'graph';
};

function App() {
  const [hash, setHash] = useState(location.hash);
  const [namespace, setNamespace] = useState('');
  const [window_, setWindow] = useState('60s');
  const [namespaces, setNamespaces] = useState<string[]>([]);
  const [connected, setConnected] = useState<boolean | undefined>(undefined);
  const [error, setError] = useState('');

  useEffect(() => {
    api<{ namespaces: string[]; replica: string }>('/api/overview').then((o) => {
      setNamespaces(o.namespaces);
      document.title = `Weft dashboard (${o.replica})`;
    }, (err) => setError(`cannot reach the control plane: ${message(err)}`));
    const onHash = () => setHash(location.hash);
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    const q = new URLSearchParams({ window: window_ });
    if (namespace) q.set('namespace', namespace);
    const events = new EventSource(`/api/events?${q}`);
    events.onopen = () => setConnected(true);
    events.onerror = () => setConnected(false);
    for (const type of ['graph', 'workloads']) {
      events.addEventListener(type, (e) => live.dispatchEvent(new CustomEvent(type, { detail: JSON.parse((e as MessageEvent<string>).data) as unknown })));
    }
    return () => events.close();
  }, [namespace, window_]);

  const view = viewOf(hash);
  const View = VIEWS[view];
  return (
    <>
      <header>
        <strong class="brand">Weft</strong>
        <nav>
          {(Object.keys(VIEWS) as ViewName[]).map((v) => (
            <a key={v} href={`#/${v}`} data-view={v} class={v === view ? 'active' : ''}>{v[0]?.toUpperCase()}{v.slice(1)}</a>
          ))}
        </nav>
        <label>namespace <select id="namespace" value={namespace} onChange={(e) => setNamespace(e.currentTarget.value)}>
          <option value="">all</option>
          {namespaces.map((ns) => <option key={ns} value={ns}>{ns}</option>)}
        </select></label>
        <span id="live" class={connected ? 'live on' : 'live'} title="live updates">{connected === undefined ? 'connecting' : connected ? 'live' : 'reconnecting'}</span>
      </header>
      <main id="view">
        {error ? <p class="error-text">{error}</p> : null}
        {/* A new route or namespace is a new view: it fetches afresh, as a page load would. */}
        <View key={`${hash}|${namespace}`} namespace={namespace} window={window_} setWindow={setWindow} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
