/**
 * Service VIPs for pods without a sidecar, as kube-proxy does it: in the host's nat table, a
 * chain of DNAT rules (one per ready endpoint, picked at random with equal odds) for traffic
 * that pods send to a VIP:port. A pod with a sidecar never gets here: its own capture sends the
 * connection to the sidecar, which routes by the original VIP:port. Pure: services in, an
 * `iptables-restore --noflush` document out (declaring the chain flushes it: one atomic swap).
 */

export interface ServiceVip {
  /** For the comment only: `reviews.default`. */
  name: string;
  vip: string;
  ports: { port: number; endpoints: { ip: string; port: number }[] }[];
}

/**
 * `nat` chain: the DNATs. `reject` chain (filter, entered from the mesh's forward chain): a VIP
 * port with no ready endpoint is refused at once (TCP reset), as kube-proxy does, rather than
 * routed off the host to time out.
 */
export function serviceRules(chain: string, services: readonly ServiceVip[], reject?: string): string {
  const refused: string[] = [];
  const lines = ['*nat', `:${chain} - [0:0]`];
  const sorted = [...services].sort((a, b) => (a.vip < b.vip ? -1 : a.vip > b.vip ? 1 : 0));
  for (const s of sorted) {
    if (!/^[\w.-]+$/.test(s.name)) throw new Error(`service name ${JSON.stringify(s.name)}: not usable in a rule comment`);
    for (const p of s.ports) {
      const n = p.endpoints.length;
      if (n === 0 && reject !== undefined) refused.push(`-A ${reject} -d ${s.vip}/32 -p tcp -m tcp --dport ${p.port} -m comment --comment ${s.name} -j REJECT --reject-with tcp-reset`);
      p.endpoints.forEach((e, i) => {
        // The i-th rule takes 1/(n-i) of what reaches it: equal odds for every endpoint.
        const odds = i < n - 1 ? ` -m statistic --mode random --probability ${(1 / (n - i)).toFixed(10)}` : '';
        lines.push(`-A ${chain} -d ${s.vip}/32 -p tcp -m tcp --dport ${p.port} -m comment --comment ${s.name}${odds} -j DNAT --to-destination ${e.ip}:${e.port}`);
      });
    }
  }
  lines.push('COMMIT');
  if (reject !== undefined) lines.push('*filter', `:${reject} - [0:0]`, ...refused, 'COMMIT');
  lines.push('');
  return lines.join('\n');
}
