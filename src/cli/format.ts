/** Output helpers shared by commands: kubectl/istioctl-style tables, and reading the control plane's debug port. */

/** Columns padded to the widest cell plus three spaces, as kubectl and istioctl print them. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3))).join('').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export const DEFAULT_MONITORING_URL = 'http://127.0.0.1:15014';

/** `host:port` or a URL -> a base URL without a trailing slash. */
export function monitoringUrl(text: string): string {
  const url = /^https?:\/\//.test(text) ? text : `http://${text}`;
  return url.replace(/\/+$/, '');
}

export interface Fetched<T> {
  url: string;
  status: number;
  body: T;
}

/** GETs JSON with a timeout, so one hung replica does not hang the command. */
export async function getJson<T>(url: string, timeoutMs = 5_000): Promise<Fetched<T>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { url, status: res.status, body: (await res.json()) as T };
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
