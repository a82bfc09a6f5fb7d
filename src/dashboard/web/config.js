// @ts-check
/**
 * Config: the applied resources (per namespace) with the `weft analyze` messages about each,
 * one resource as applied on a click; and for one connected proxy, what the control plane gives
 * it now (`weft proxy-config`), secret material already redacted by the control plane.
 */
import { api, el } from './util.js';

/** @param {import('./main.js').ViewContext} ctx */
export function configView(ctx) {
  const body = el('tbody');
  const table = el('table', { id: 'config' },
    el('thead', {}, el('tr', {}, ...['Namespace', 'Kind', 'Name', 'Source', 'Analyzer messages'].map((h) => el('th', {}, h)))), body);
  const panel = el('aside', { class: 'panel', id: 'config-details' }, el('p', { class: 'muted' }, 'click a resource to see it as applied'));
  const proxySelect = /** @type {HTMLSelectElement} */ (el('select', { id: 'proxy' }, el('option', { value: '' }, 'choose a proxy')));
  const proxyOut = el('div', { id: 'proxy-config' });
  const unattached = el('div');
  ctx.root.append(el('h2', {}, 'Applied resources'), el('div', { class: 'split' }, el('div', {}, table, unattached), panel),
    el('h2', {}, 'Proxy config'), el('label', {}, 'proxy ', proxySelect), proxyOut);

  /** @param {any[]} messages */
  const messageList = (messages) => messages.length === 0
    ? el('span', { class: 'muted' }, 'none')
    : el('ul', {}, ...messages.map((m) => el('li', { class: m.level }, `${m.level} [${m.code}] ${m.path ? `${m.path}: ` : ''}${m.message}`)));

  /** @param {any} r */
  const openResource = async (r) => {
    try {
      const obj = await api(`/api/config/object?${new URLSearchParams({ kind: r.kind, namespace: r.namespace, name: r.name })}`);
      panel.replaceChildren(el('h3', {}, `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`), messageList(r.messages), el('pre', {}, JSON.stringify(obj, null, 2)));
    } catch (err) {
      panel.replaceChildren(el('p', { class: 'error-text' }, /** @type {Error} */ (err).message));
    }
  };

  const q = ctx.namespace ? `?namespace=${encodeURIComponent(ctx.namespace)}` : '';
  api(`/api/config${q}`).then((res) => {
    body.replaceChildren(...res.rows.map((/** @type {any} */ r) => el('tr', { class: 'clickable', 'data-resource': `${r.kind}/${r.namespace}/${r.name}`, onclick: () => void openResource(r) },
      el('td', {}, r.namespace || '-'), el('td', {}, r.kind), el('td', {}, r.name), el('td', { class: 'muted', title: r.source ?? '' }, r.source ? r.source.split('/').pop() : '-'), el('td', {}, messageList(r.messages)))));
    if (res.unattached.length) unattached.replaceChildren(el('h3', {}, 'Messages about no single resource'), messageList(res.unattached));
  }, (err) => body.replaceChildren(el('tr', {}, el('td', { class: 'error-text', colspan: 5 }, err.message))));

  api('/api/proxies').then((res) => {
    for (const p of res.proxies) if (!ctx.namespace || p.namespace === ctx.namespace) proxySelect.append(el('option', { value: p.nodeId }, `${p.nodeId} (${p.role}, ${p.state})`));
  }, () => {});
  proxySelect.addEventListener('change', async () => {
    if (!proxySelect.value) return void proxyOut.replaceChildren();
    try {
      const { config } = await api(`/api/proxy-config?proxyID=${encodeURIComponent(proxySelect.value)}`);
      /** @param {string} title @param {any[]} items @param {(x: any) => string} describe */
      const section = (title, items, describe) => el('details', {}, el('summary', {}, `${title} (${items.length})`), el('ul', {}, ...items.map((x) => el('li', {}, describe(x)))));
      proxyOut.replaceChildren(
        el('p', {}, `version ${config.version ?? '-'}`),
        section('Listeners', config.listeners ?? [], (l) => `${l.name} ${l.direction ?? ''} ${l.address ?? ''}:${l.port ?? ''}`),
        section('Routes', config.routes ?? [], (r) => `${r.name}: ${(r.virtualHosts ?? []).map((/** @type {any} */ v) => v.name).join(', ')}`),
        section('Clusters', config.clusters ?? [], (c) => c.name),
        section('Endpoints', config.endpoints ?? [], (e) => `${e.cluster} (${(e.endpoints ?? []).map((/** @type {any} */ x) => `${x.address}:${x.port}`).join(', ')})`),
        section('Secrets', config.secrets ?? [], (s) => `${s.name}${s.privateKey ? ` key ${s.privateKey}` : ''}`),
        el('details', {}, el('summary', {}, 'Full config (JSON)'), el('pre', {}, JSON.stringify(config, null, 2))));
    } catch (err) {
      proxyOut.replaceChildren(el('p', { class: 'error-text' }, /** @type {Error} */ (err).message));
    }
  });
  return {};
}
