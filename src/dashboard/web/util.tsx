/**
 * Small pieces the dashboard's views share: fetching the dashboard's JSON API, formatting
 * rates, durations and ages, a definition list for key/value details, the hash route's query,
 * and the live event stream's hook. Text from the mesh is always rendered as text (JSX escapes
 * it); nothing here builds markup from strings.
 */
import { useEffect } from 'preact/hooks';
import type { LiveEvents } from './types.js';

/** GET a dashboard API path; rejects with the server's error message. */
export async function api<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = (await res.json().catch(() => ({}))) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

export const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function rate(n: number | undefined | null): string {
  if (n === undefined || n === null) return '-';
  return n >= 10 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(2);
}

/** @param share 0..1 */
export function percent(share: number | undefined | null): string {
  if (share === undefined || share === null) return '-';
  return `${(share * 100).toFixed(share > 0 && share < 0.01 ? 2 : 1)}%`;
}

export function millis(ms: number | undefined | null): string {
  if (ms === undefined || ms === null) return '-';
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
}

export function bytes(n: number): string {
  if (n >= 1048576) return `${(n / 1048576).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n.toFixed(0)} B`;
}

/** kubectl's AGE: 45s, 12m, 3h, 2d. */
export function age(iso: string | null): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** A definition list of key/value pairs (span tags, node and edge details); empty values left out. */
export function Details({ pairs }: { pairs: [string, string | number | null | undefined][] }) {
  return (
    <dl class="tags">
      {pairs.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => [<dt key={`${k}-t`}>{k}</dt>, <dd key={`${k}-d`}>{v}</dd>])}
    </dl>
  );
}

/** The hash route's query: `#/traces?service=x` gives { service: 'x' }. */
export function routeParams(): URLSearchParams {
  const q = location.hash.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : location.hash.slice(q + 1));
}

/**
 * The page's one event stream, fanned out: main.tsx dispatches each server-sent event here and
 * a view listens for the kinds it shows, so a live update re-renders that view only.
 */
export const live = new EventTarget();

export function useLive<K extends keyof LiveEvents>(type: K, listener: (data: LiveEvents[K]) => void): void {
  useEffect(() => {
    const handler = (e: Event) => listener((e as CustomEvent<LiveEvents[K]>).detail);
    live.addEventListener(type, handler);
    return () => live.removeEventListener(type, handler);
  });
}
