/**
 * The iptables rules that make a pod's sidecar transparent, as istio-iptables writes them in a
 * Kubernetes pod (same chain names, same order, so `iptables-save` inside a pod reads like
 * Istio's): outbound TCP -> 15001 except the proxy's own traffic (matched by its uid or gid) and
 * loopback, with the proxy's calls to its own pod address sent back to 15006 (an app calling its
 * own service); inbound TCP -> 15006 except the proxy's own ports. Pure: options in, an
 * `iptables-restore` document out, so the rules are tested without root.
 *
 * Supported pod annotations (Istio's names and meanings):
 *   traffic.sidecar.istio.io/includeOutboundIPRanges  CIDRs to capture, `*` (default) for all
 *   traffic.sidecar.istio.io/excludeOutboundIPRanges  CIDRs never captured
 *   traffic.sidecar.istio.io/includeOutboundPorts     ports captured whatever the destination IP
 *   traffic.sidecar.istio.io/excludeOutboundPorts     ports never captured
 *   traffic.sidecar.istio.io/includeInboundPorts      ports captured inbound, `*` (default) for all, `` none
 *   traffic.sidecar.istio.io/excludeInboundPorts      ports never captured inbound
 *   sidecar.istio.io/interceptionMode                 REDIRECT (default) or NONE; TPROXY is refused
 * Not supported: DNS capture (there is no DNS proxy), UDP, IPv6 rules, kubevirtInterfaces.
 */

export interface CaptureOptions {
  /** The proxy's uid and gid: its own connections are never captured (Istio: 1337). */
  proxyUid: number;
  proxyGid: number;
  outboundPort: number;
  inboundPort: number;
  /** Ports of the proxy itself, never captured inbound (admin, health, Prometheus, capture ports). */
  proxyPorts: number[];
  annotations: Readonly<Record<string, string>>;
}

/** The source address of the sidecar's connections to its own app (Istio's 127.0.0.6): never captured. */
export const INBOUND_BIND_ADDRESS = '127.0.0.6';

/** Istio's sidecar ports: 15000 admin, 15001/15006 capture, 15020 merged stats, 15021 health, 15090 Prometheus. */
export const PROXY_PORTS = [15000, 15001, 15006, 15020, 15021, 15090];

export const ANNOTATIONS = {
  includeOutboundIPRanges: 'traffic.sidecar.istio.io/includeOutboundIPRanges',
  excludeOutboundIPRanges: 'traffic.sidecar.istio.io/excludeOutboundIPRanges',
  includeOutboundPorts: 'traffic.sidecar.istio.io/includeOutboundPorts',
  excludeOutboundPorts: 'traffic.sidecar.istio.io/excludeOutboundPorts',
  includeInboundPorts: 'traffic.sidecar.istio.io/includeInboundPorts',
  excludeInboundPorts: 'traffic.sidecar.istio.io/excludeInboundPorts',
  interceptionMode: 'sidecar.istio.io/interceptionMode',
} as const;

/** Thrown for an annotation value Istio would also refuse; names the annotation. */
export class CaptureAnnotationError extends Error {}

/** The `*nat` table for `iptables-restore` in the pod's namespace, or undefined when capture is off. */
export function captureRules(opts: CaptureOptions): string | undefined {
  const a = opts.annotations;
  const mode = (a[ANNOTATIONS.interceptionMode] ?? 'REDIRECT').trim();
  if (mode === 'NONE') return undefined;
  if (mode !== 'REDIRECT') throw new CaptureAnnotationError(`annotation ${ANNOTATIONS.interceptionMode}: ${JSON.stringify(mode)} is not supported here (REDIRECT or NONE)`);

  const includeInbound = a[ANNOTATIONS.includeInboundPorts] ?? '*';
  const excludeInbound = [...new Set([...opts.proxyPorts, opts.outboundPort, opts.inboundPort, ...ports(a, 'excludeInboundPorts')])];
  const includeOutIps = a[ANNOTATIONS.includeOutboundIPRanges] ?? '*';
  const excludeOutIps = cidrs(a, 'excludeOutboundIPRanges');
  const includeOutPorts = ports(a, 'includeOutboundPorts');
  const excludeOutPorts = ports(a, 'excludeOutboundPorts');

  const rules: string[] = ['*nat', ':ISTIO_INBOUND - [0:0]', ':ISTIO_IN_REDIRECT - [0:0]', ':ISTIO_OUTPUT - [0:0]', ':ISTIO_REDIRECT - [0:0]'];
  rules.push(`-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${opts.outboundPort}`);
  rules.push(`-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${opts.inboundPort}`);

  // Inbound: everything but the proxy's own ports, or only the listed ones.
  if (includeInbound.trim() !== '') {
    rules.push('-A PREROUTING -p tcp -j ISTIO_INBOUND');
    if (includeInbound.trim() === '*') {
      for (const p of excludeInbound) rules.push(`-A ISTIO_INBOUND -p tcp --dport ${p} -j RETURN`);
      rules.push('-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT');
    } else {
      for (const p of ports(a, 'includeInboundPorts')) if (!excludeInbound.includes(p)) rules.push(`-A ISTIO_INBOUND -p tcp --dport ${p} -j ISTIO_IN_REDIRECT`);
    }
  }

  // Outbound, as istio-iptables orders it. The proxy's own connections over lo to the pod's
  // address (it picked its own pod as a service endpoint: the app called its own service) go back
  // through 15006, so inbound mTLS and policy apply; the inbound side then reaches the app from
  // 127.0.0.6 (Istio's InboundPassthroughBindIpv4), which the first rule lets through. The app's
  // own calls over lo (to its pod IP) go straight to the app, as in Istio. Weft's sidecar is known
  // by its gid (it keeps uid 0), so the gid's redirect comes before the uid's `! --uid-owner`
  // return, which would otherwise take it; for a proxy with Istio's uid the order changes nothing.
  rules.push('-A OUTPUT -p tcp -j ISTIO_OUTPUT');
  for (const p of excludeOutPorts) rules.push(`-A ISTIO_OUTPUT -p tcp --dport ${p} -j RETURN`);
  rules.push(`-A ISTIO_OUTPUT -s ${INBOUND_BIND_ADDRESS}/32 -o lo -j RETURN`);
  rules.push(`-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --uid-owner ${opts.proxyUid} -j ISTIO_IN_REDIRECT`);
  rules.push(`-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --gid-owner ${opts.proxyGid} -j ISTIO_IN_REDIRECT`);
  rules.push(`-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner ${opts.proxyUid} -j RETURN`);
  rules.push(`-A ISTIO_OUTPUT -m owner --uid-owner ${opts.proxyUid} -j RETURN`);
  rules.push(`-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner ${opts.proxyGid} -j RETURN`);
  rules.push(`-A ISTIO_OUTPUT -m owner --gid-owner ${opts.proxyGid} -j RETURN`);
  rules.push('-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN');
  for (const p of includeOutPorts) rules.push(`-A ISTIO_OUTPUT -p tcp --dport ${p} -j ISTIO_REDIRECT`);
  for (const c of excludeOutIps) rules.push(`-A ISTIO_OUTPUT -d ${c} -j RETURN`);
  if (includeOutIps.trim() === '*') rules.push('-A ISTIO_OUTPUT -j ISTIO_REDIRECT');
  else for (const c of cidrs(a, 'includeOutboundIPRanges')) rules.push(`-A ISTIO_OUTPUT -d ${c} -j ISTIO_REDIRECT`);
  rules.push('COMMIT', '');
  return rules.join('\n');
}

function list(a: Readonly<Record<string, string>>, key: keyof typeof ANNOTATIONS): string[] {
  return (a[ANNOTATIONS[key]] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function ports(a: Readonly<Record<string, string>>, key: keyof typeof ANNOTATIONS): number[] {
  return list(a, key).map((text) => {
    const n = Number(text);
    if (!/^\d{1,5}$/.test(text) || n < 1 || n > 65535) throw new CaptureAnnotationError(`annotation ${ANNOTATIONS[key]}: ${JSON.stringify(text)} is not a port number`);
    return n;
  });
}

function cidrs(a: Readonly<Record<string, string>>, key: keyof typeof ANNOTATIONS): string[] {
  const all = list(a, key);
  if (key === 'includeOutboundIPRanges' && all.includes('*')) return ['0.0.0.0/0'];
  return all.map((text) => {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text);
    const ok = m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && (m[5] === undefined || Number(m[5]) <= 32);
    if (!ok) throw new CaptureAnnotationError(`annotation ${ANNOTATIONS[key]}: ${JSON.stringify(text)} is not an IPv4 CIDR (IPv6 ranges are not supported)`);
    return m[5] === undefined ? `${text}/32` : text;
  });
}
