import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FilterChain, Listener } from '../../proxy-config/index.js';
import { selectFilterChain, serverNameMatches, needsInspection } from './filter-chain.js';

const tcp = (name: string, match: FilterChain['match'], extra: Partial<FilterChain> = {}): FilterChain => ({
  name,
  match,
  protocol: 'tcp',
  tcp: { clusters: [{ cluster: name, weight: 1 }], statPrefix: name },
  ...extra,
});

const listener: Listener = {
  name: '0.0.0.0_443',
  direction: 'gateway',
  address: '0.0.0.0',
  port: 443,
  filterChains: [
    tcp('exact', { serverNames: ['api.example.com'], transportProtocol: 'tls' }),
    tcp('wild', { serverNames: ['*.example.com'], transportProtocol: 'tls' }),
    tcp('h2only', { transportProtocol: 'tls', applicationProtocols: ['h2'] }),
    tcp('port9080', { destinationPort: 9080 }),
    tcp('terminate', { serverNames: ['secure.test'] }, { tls: { mode: 'SIMPLE', certificate: 'c' } }),
  ],
  defaultChain: tcp('default', {}),
};

test('filter chains are tried in order; the default chain takes the rest', () => {
  const cases: [Parameters<typeof selectFilterChain>[1], string][] = [
    [{ transport: 'tls', serverName: 'api.example.com' }, 'exact'],
    [{ transport: 'tls', serverName: 'www.example.com' }, 'wild'],
    [{ transport: 'tls', serverName: 'a.b.example.com' }, 'wild'],
    [{ transport: 'tls', serverName: 'example.com', alpn: ['h2'] }, 'h2only'],
    [{ transport: 'tls', serverName: 'other.org', alpn: ['http/1.1'] }, 'default'],
    [{ transport: 'raw_buffer', destinationPort: 9080 }, 'port9080'],
    [{ transport: 'raw_buffer' }, 'default'],
    [{ transport: 'raw_buffer', serverName: 'secure.test' }, 'default'],
    [{ transport: 'tls', serverName: 'secure.test' }, 'terminate'],
  ];
  for (const [facts, want] of cases) assert.equal(selectFilterChain(listener, facts)?.name, want, JSON.stringify(facts));
  assert.equal(selectFilterChain({ ...listener, defaultChain: undefined }, { transport: 'raw_buffer' }), undefined);
});

test('server name wildcards follow Envoy: *.x.com matches below x.com, not x.com itself', () => {
  assert.ok(serverNameMatches('*.example.com', 'A.Example.com'));
  assert.ok(!serverNameMatches('*.example.com', 'example.com'));
  assert.ok(!serverNameMatches('*.example.com', 'badexample.com'));
  assert.ok(serverNameMatches('*', 'anything'));
});

test('only chains that look at TLS, SNI or ALPN need the first bytes', () => {
  assert.ok(needsInspection(listener.filterChains));
  assert.ok(!needsInspection([tcp('plain', {}), tcp('p', { destinationPort: 3306 })]));
});
