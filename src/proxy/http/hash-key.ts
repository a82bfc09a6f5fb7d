/**
 * The request's consistent-hash key (the route's hash policy: header, cookie, source IP, query
 * parameter), and Envoy's cookie generation: when the cookie is missing and the policy has a
 * TTL, the proxy makes one up from this downstream connection (xxHash64 of the client's and the
 * proxy's `ip:port`, as 16 hex digits), hashes on it, and returns it with the upstream's response
 * (`Set-Cookie: name="value"; Max-Age=ttl; Path=path; <attributes>; HttpOnly`, no Max-Age for a zero TTL: a
 * session cookie). The client sends it back, so its later requests reach the same endpoint.
 * Without a TTL a missing cookie means no hash (the balancer picks at random).
 */
import type { HashPolicy } from '../../proxy-config/index.js';
import { xxHash64 } from '../upstream/index.js';
import { firstQueryValue } from '../stages/route-match.js';
import type { Exchange } from './exchange.js';

export interface HashKey {
  key: string | undefined;
  /** A Set-Cookie value to add to the upstream's response. */
  setCookie?: string;
}

export function hashKey(ex: Exchange, policy: HashPolicy): HashKey {
  if ('header' in policy) return { key: ex.header(policy.header.toLowerCase()) };
  if ('sourceIp' in policy) return { key: ex.conn.remoteAddress };
  if ('queryParameter' in policy) return { key: firstQueryValue(ex.query, policy.queryParameter) };
  const { name, path, ttlMs, attributes } = policy.cookie;
  const value = cookieValue(ex.header('cookie'), name);
  if (value !== undefined && value !== '') return { key: value };
  if (ttlMs === undefined) return { key: undefined };
  const generated = generatedValue(ex);
  return { key: generated, setCookie: setCookieValue(name, generated, path, Math.floor(ttlMs / 1000), attributes) };
}

/** Http::Utility::parseCookieValue: the first `name=value` pair, surrounding double quotes dropped. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || part.slice(0, eq).trim() !== name) continue;
    const v = part.slice(eq + 1).trim();
    return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
  }
  return undefined;
}

/** The same value for every request on one connection, so racing streams agree. */
function generatedValue(ex: Exchange): string {
  const socket = ex.req.socket;
  const remote = endpointString(socket?.remoteAddress ?? ex.conn.remoteAddress, socket?.remotePort);
  const local = endpointString(socket?.localAddress, socket?.localPort);
  return xxHash64(remote + local).toString(16).padStart(16, '0');
}

/** Envoy's Address::Instance::asString: `1.2.3.4:80`, `[::1]:80`. */
function endpointString(address: string | undefined, port: number | undefined): string {
  const a = address ?? '';
  return `${a.includes(':') ? `[${a}]` : a}:${port ?? 0}`;
}

/** Http::Utility::makeSetCookieValue with httponly; attributes (`SameSite=Strict`, `Secure`) before it. */
export function setCookieValue(name: string, value: string, path: string | undefined, maxAgeSeconds: number, attributes: readonly { name: string; value?: string }[] = []): string {
  let cookie = `${name}="${value}"`;
  if (maxAgeSeconds > 0) cookie += `; Max-Age=${maxAgeSeconds}`;
  if (path) cookie += `; Path=${path}`;
  for (const a of attributes) cookie += a.value ? `; ${a.name}=${a.value}` : `; ${a.name}`;
  return `${cookie}; HttpOnly`;
}

/** Adds Set-Cookie to a response's headers, after any the upstream sent. */
export function appendSetCookie(headers: Record<string, string | string[] | undefined>, cookie: string): void {
  const prior = headers['set-cookie'];
  headers['set-cookie'] = prior === undefined ? [cookie] : Array.isArray(prior) ? [...prior, cookie] : [prior, cookie];
}
