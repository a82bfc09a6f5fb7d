/**
 * Saturation load with wrk (closed loop: each connection sends its next request when the last
 * response arrives), and parsing of its text report.
 */
import { waitForExit, type ProcessGroup } from './processes.js';

export interface WrkSettings {
  threads: number;
  connections: number;
  durationS: number;
  warmupS: number;
}

/** The saturation settings: one wrk thread, 50 keep-alive connections, 10 s after a 2 s warm-up. */
export const WRK_SETTINGS: WrkSettings = { threads: 1, connections: 50, durationS: 10, warmupS: 2 };

export function wrkArgs(s: WrkSettings, durationS: number, url: string, host?: string): string[] {
  return [`-t${s.threads}`, `-c${s.connections}`, `-d${durationS}s`, '--latency', ...(host ? ['-H', `Host: ${host}`] : []), url];
}

export interface WrkResult {
  requestsPerSec: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses. */
  errors: number;
}

export async function runWrk(group: ProcessGroup, wrk: string, url: string, durationS: number, host?: string, s: WrkSettings = WRK_SETTINGS): Promise<WrkResult> {
  const child = group.start('wrk', wrk, wrkArgs(s, durationS, url, host));
  const code = await waitForExit(group, child, (durationS + 15) * 1000);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${child.stderr().trim()}`);
  return parseWrk(child.stdout());
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  if (unit === 'us') return n / 1000;
  if (unit === 's') return n * 1000;
  if (unit === 'm') return n * 60_000;
  return n;
}

export function parseWrk(text: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!rps) throw new Error(`cannot read wrk output: ${text.slice(0, 300)}`);
  const requests = /(\d+) requests in/.exec(text);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(text);
    return m ? toMs(m[1] ?? '', m[2] ?? 'ms') : NaN;
  };
  let errors = 0;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  if (sock) errors += sock.slice(1).reduce((a, b) => a + Number(b), 0);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  if (non2xx) errors += Number(non2xx[1]);
  return { requestsPerSec: Number(rps[1]), requests: Number(requests?.[1] ?? 0), p50Ms: pct('50'), p99Ms: pct('99'), errors };
}
