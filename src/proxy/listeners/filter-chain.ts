/**
 * Which filter chain of a listener serves a connection, from what is known when it arrives: the
 * port it was addressed to, whether it starts with a TLS ClientHello, and the SNI and ALPN in it.
 * Chains are tried in order and the first that fits wins (the compiler orders them most specific
 * first); the listener's default chain catches the rest.
 */
import type { Listener, FilterChain, FilterChainMatch } from '../../proxy-config/index.js';

export interface ConnectionFacts {
  /** The port the client addressed; unknown for the inbound capture port without a port map. */
  destinationPort?: number;
  transport: 'tls' | 'raw_buffer';
  serverName?: string;
  alpn?: readonly string[];
}

export function selectFilterChain(listener: Listener, facts: ConnectionFacts): FilterChain | undefined {
  // Envoy narrows by destination port first: a port with chains of its own never falls through to
  // the port-less (catch-all) chains or the default, so plaintext to a STRICT mTLS port is refused
  // rather than passed through.
  let portHasChains = false;
  for (const chain of listener.filterChains) {
    if (chain.match.destinationPort === undefined || chain.match.destinationPort !== facts.destinationPort) continue;
    portHasChains = true;
    if (chainFits(chain, facts)) return chain;
  }
  if (portHasChains) return undefined;
  for (const chain of listener.filterChains) {
    if (chain.match.destinationPort === undefined && chainFits(chain, facts)) return chain;
  }
  return listener.defaultChain;
}

export function chainFits(chain: FilterChain, facts: ConnectionFacts): boolean {
  const m: FilterChainMatch = chain.match;
  if (m.destinationPort !== undefined && m.destinationPort !== facts.destinationPort) return false;
  // A chain that terminates TLS can only serve a TLS connection, whatever its match says.
  const transport = m.transportProtocol ?? (chain.tls ? 'tls' : undefined);
  if (transport !== undefined && transport !== facts.transport) return false;
  if (m.serverNames && m.serverNames.length > 0) {
    if (facts.serverName === undefined || !m.serverNames.some((n) => serverNameMatches(n, facts.serverName ?? ''))) return false;
  }
  if (m.applicationProtocols && m.applicationProtocols.length > 0) {
    if (!facts.alpn || !m.applicationProtocols.some((p) => facts.alpn?.includes(p))) return false;
  }
  return true;
}

/** Envoy's server_names: exact, or `*.suffix` matching any name below the suffix (not the suffix itself). */
export function serverNameMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const n = name.toLowerCase();
  if (p === '*') return true;
  if (p.startsWith('*.')) return n.length > p.length - 1 && n.endsWith(p.slice(1));
  return p === n;
}

/** True when choosing a chain needs the first bytes of the connection (TLS or not, SNI, ALPN). */
export function needsInspection(chains: readonly FilterChain[]): boolean {
  return chains.some((c) => c.tls !== undefined || c.match.transportProtocol !== undefined || (c.match.serverNames?.length ?? 0) > 0 || (c.match.applicationProtocols?.length ?? 0) > 0);
}
