// @ts-check
/**
 * Workloads: every pod with READY, STATUS, RESTARTS and AGE as `weft get pods` prints them, and
 * its proxy's sync status, config version and replica as `weft proxy-status` prints them.
 * Rows are replaced whenever the event stream sends a new list.
 */
import { age, api, el } from './util.js';

/** @param {import('./main.js').ViewContext} ctx */
export function workloadsView(ctx) {
  const body = el('tbody');
  const table = el('table', { id: 'workloads' },
    el('thead', {}, el('tr', {}, ...['Namespace', 'Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Proxy', 'Config version', 'Replica'].map((h) => el('th', {}, h)))),
    body);
  const note = el('p', { class: 'muted' }, 'loading');
  ctx.root.append(el('h2', {}, 'Workloads'), table, note);

  /** @param {any[]} items */
  const render = (items) => {
    body.replaceChildren(...items.map((w) => el('tr', { 'data-pod': `${w.namespace}/${w.name}` },
      el('td', {}, w.namespace),
      el('td', {}, w.name),
      el('td', { class: 'ready' }, w.ready),
      el('td', { class: `status ${w.status}` }, w.status),
      el('td', { class: 'restarts' }, w.restarts),
      el('td', {}, age(w.createdAt)),
      el('td', {}, w.ip ?? '<none>'),
      el('td', { class: `sync ${w.proxy?.state ?? ''}`, title: w.proxy?.nack ?? '' }, w.proxy ? w.proxy.state : '-'),
      el('td', { class: 'version' }, w.proxy?.version ?? '-'),
      el('td', {}, w.proxy?.replica ?? '-'))));
    note.textContent = items.length === 0 ? 'no pods' : `${items.length} pods`;
  };
  const q = ctx.namespace ? `?namespace=${encodeURIComponent(ctx.namespace)}` : '';
  api(`/api/workloads${q}`).then((r) => render(r.items), (err) => (note.textContent = err.message));
  return {
    /** @param {string} type @param {any} data */
    onEvent: (type, data) => {
      if (type === 'workloads') render(data.items);
    },
  };
}
