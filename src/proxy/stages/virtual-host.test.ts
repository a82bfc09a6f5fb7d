import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteConfiguration, VirtualHost } from '../../proxy-config/index.js';
import { portStart, selectVirtualHost } from './virtual-host.js';

function vhost(name: string, domains: string[]): VirtualHost {
  return { name, domains, routes: [] };
}

const config: RouteConfiguration = {
  name: '80',
  virtualHosts: [
    vhost('reviews', ['reviews.default.svc.cluster.local', 'reviews', 'reviews.default', '10.96.0.12']),
    vhost('ratings-port', ['ratings:9080']),
    vhost('suffix-long', ['*-bar.foo.com']),
    vhost('suffix', ['*.foo.com']),
    vhost('suffix-deeper', ['*.api.foo.com']),
    vhost('prefix', ['foo.*']),
    vhost('prefix-long', ['foo-bar.*']),
    vhost('v6', ['[::1]', '[2001:db8::1]']),
    vhost('upper', ['MiXeD.Example.COM']),
    vhost('catch-all', ['*']),
    vhost('duplicate', ['reviews']),
  ],
};

test('Envoy domain order: exact, suffix wildcard (longest first), prefix wildcard, then *', () => {
  const cases: [authority: string, port: number, expected: string | undefined][] = [
    ['reviews', 80, 'reviews'],
    ['reviews:9080', 80, 'reviews'], // Istio ignores the port in host matching
    ['REVIEWS.default.svc.cluster.local', 80, 'reviews'],
    ['10.96.0.12:80', 80, 'reviews'],
    ['baz-bar.foo.com', 80, 'suffix-long'], // *-bar.foo.com beats *.foo.com
    ['x.foo.com', 80, 'suffix'],
    ['x.api.foo.com', 80, 'suffix-deeper'],
    ['x.api.foo.com:8443', 80, 'suffix-deeper'],
    ['.foo.com', 80, 'catch-all'], // a wildcard never matches the empty string
    ['-bar.foo.com', 80, 'suffix'], // ... so *-bar.foo.com does not take -bar.foo.com
    ['foo.com', 80, 'prefix'], // *.foo.com does not match foo.com; foo.* does
    ['foo.example.org', 80, 'prefix'],
    ['foo-bar.example.org', 80, 'prefix-long'],
    ['foo.', 80, 'catch-all'],
    ['x.foo.example', 80, 'catch-all'],
    ['[::1]:8080', 80, 'v6'],
    ['[2001:db8::1]', 80, 'v6'],
    ['mixed.example.com', 80, 'upper'],
    ['unknown.example', 80, 'catch-all'],
    ['', 80, 'catch-all'],
    ['ratings', 9080, 'ratings-port'], // a domain with a port matches the request's destination port
    ['ratings:9080', 80, 'ratings-port'],
    ['ratings', 80, 'catch-all'],
  ];
  for (const [authority, port, expected] of cases) {
    assert.equal(selectVirtualHost(config, authority, port)?.name, expected, `${authority} (port ${port})`);
  }
});

test('without a * virtual host an unknown authority has none (404 NR upstream of here)', () => {
  const noDefault: RouteConfiguration = { name: 'http.8080', virtualHosts: [vhost('bookinfo', ['bookinfo.com', '*.bookinfo.com'])] };
  assert.equal(selectVirtualHost(noDefault, 'bookinfo.com:8080', 8080)?.name, 'bookinfo');
  assert.equal(selectVirtualHost(noDefault, 'www.bookinfo.com', 8080)?.name, 'bookinfo');
  assert.equal(selectVirtualHost(noDefault, 'evil.com', 8080), undefined);
  assert.equal(selectVirtualHost({ name: 'empty', virtualHosts: [] }, 'x', 80), undefined);
});

test('the first virtual host claiming a domain keeps it', () => {
  assert.equal(selectVirtualHost(config, 'reviews', 80)?.name, 'reviews');
});

test('port detection follows Envoy getPortStart', () => {
  const cases: [string, number][] = [['a', -1], ['a:80', 1], ['[::1]', -1], ['[::1]:80', 5], ['a:', 1], ['::1', 1]];
  for (const [authority, expected] of cases) assert.equal(portStart(authority), expected, authority);
});

test('garbage config does not throw', () => {
  const bad = { name: 'x', virtualHosts: [null, { name: 'n', domains: [null, 7, ''], routes: [] }, { name: 'ok', domains: ['*'] }] };
  assert.equal(selectVirtualHost(bad as unknown as RouteConfiguration, 'a', 80)?.name, 'ok');
  assert.equal(selectVirtualHost({ name: 'y' } as unknown as RouteConfiguration, 'a', 80), undefined);
});
