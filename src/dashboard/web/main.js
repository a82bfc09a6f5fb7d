// @ts-check
/**
 * The dashboard page: a hash router over four views (graph, workloads, traces, config), the
 * namespace filter they share, and the one event stream (/api/events) whose `graph` and
 * `workloads` events reach the view on screen, so it updates without a reload.
 */
import { api, el } from './util.js';
import { graphView } from './graph.js';
import { workloadsView } from './workloads.js';
import { tracesView } from './traces.js';
import { configView } from './config.js';

/**
 * @typedef {{ namespace: string, window: string, root: HTMLElement, setWindow: (w: string) => void }} ViewContext
 * @typedef {{ onEvent?: (type: string, data: any) => void, stop?: () => void }} View
 */

/** @type {Record<string, (ctx: ViewContext) => View>} */
const VIEWS = { graph: graphView, workloads: workloadsView, traces: tracesView, config: configView };

const state = { view: '', namespace: '', window: '60s', route: '' };
/** @type {View | undefined} */
let current;
/** @type {EventSource | undefined} */
let events;

const root = /** @type {HTMLElement} */ (document.getElementById('view'));
const select = /** @type {HTMLSelectElement} */ (document.getElementById('namespace'));
const live = /** @type {HTMLElement} */ (document.getElementById('live'));

function connect() {
  events?.close();
  const q = new URLSearchParams({ window: state.window });
  if (state.namespace) q.set('namespace', state.namespace);
  events = new EventSource(`/api/events?${q}`);
  events.onopen = () => {
    live.textContent = 'live';
    live.classList.add('on');
  };
  events.onerror = () => {
    live.textContent = 'reconnecting';
    live.classList.remove('on');
  };
  for (const type of ['graph', 'workloads']) {
    events.addEventListener(type, (e) => current?.onEvent?.(type, JSON.parse(/** @type {MessageEvent} */ (e).data)));
  }
}

function show() {
  const hash = location.hash.replace(/^#\/?/, '');
  const name = hash.split('?')[0] || 'graph';
  const view = name in VIEWS ? name : 'graph';
  if (state.route === location.hash && current) return;
  state.route = location.hash;
  current?.stop?.();
  root.replaceChildren();
  state.view = view;
  for (const a of document.querySelectorAll('header nav a')) a.classList.toggle('active', a.getAttribute('data-view') === view);
  const factory = VIEWS[view];
  if (!factory) return;
  current = factory({
    namespace: state.namespace,
    window: state.window,
    root,
    setWindow: (w) => {
      state.window = w;
      connect();
    },
  });
  connect();
}

async function start() {
  try {
    const overview = await api('/api/overview');
    for (const ns of overview.namespaces) select.append(el('option', { value: ns }, ns));
    document.title = `Weft dashboard (${overview.replica})`;
  } catch (err) {
    root.append(el('p', { class: 'error-text' }, `cannot reach the control plane: ${/** @type {Error} */ (err).message}`));
  }
  select.addEventListener('change', () => {
    state.namespace = select.value;
    state.route = '';
    show();
  });
  window.addEventListener('hashchange', show);
  show();
}

void start();
