// @ts-check
/**
 * Small helpers the dashboard's views share: building DOM nodes without innerHTML (every text
 * from the mesh is set as text, never parsed as markup), fetching the dashboard's JSON API, and
 * formatting rates, durations and ages.
 */

/**
 * @param {string} tag
 * @param {Record<string, string | number | boolean | ((e: Event) => void) | undefined>} [attrs]
 * @param {...(Node | string | number | null | undefined)} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') node.addEventListener(key.replace(/^on/, ''), value);
    else if (key === 'class') node.className = String(value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === 'object' ? child : String(child));
  }
  return node;
}

/**
 * GET a dashboard API path; rejects with the server's error message.
 * @param {string} path
 * @returns {Promise<any>}
 */
export async function api(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

/** @param {number | undefined | null} n */
export function rate(n) {
  if (n === undefined || n === null) return '-';
  return n >= 10 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(2);
}

/** @param {number | undefined | null} share 0..1 */
export function percent(share) {
  if (share === undefined || share === null) return '-';
  return `${(share * 100).toFixed(share > 0 && share < 0.01 ? 2 : 1)}%`;
}

/** @param {number | undefined | null} ms */
export function millis(ms) {
  if (ms === undefined || ms === null) return '-';
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
}

/** @param {number} bytes */
export function bytes(bytes) {
  if (bytes >= 1048576) return `${(bytes / 1048576).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes.toFixed(0)} B`;
}

/** kubectl's AGE: 45s, 12m, 3h, 2d. @param {string | null} iso */
export function age(iso) {
  if (!iso) return '-';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/**
 * A definition list of key/value pairs (span tags, node and edge details).
 * @param {[string, string | number | null | undefined][]} pairs
 */
export function details(pairs) {
  const dl = el('dl', { class: 'tags' });
  for (const [k, v] of pairs) {
    if (v === undefined || v === null || v === '') continue;
    dl.append(el('dt', {}, k), el('dd', {}, v));
  }
  return dl;
}

/** The hash route's query: `#/traces?service=x` gives { service: 'x' }. @returns {URLSearchParams} */
export function routeParams() {
  const q = location.hash.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : location.hash.slice(q + 1));
}
