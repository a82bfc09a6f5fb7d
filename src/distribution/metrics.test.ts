import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsRegistry } from './metrics.js';

test('metrics render in the Prometheus text format, histogram buckets cumulative', () => {
  const registry = new MetricsRegistry();
  const pushes = registry.counter('pilot_xds_pushes', 'Pushes.');
  const connected = registry.gauge('pilot_xds', 'Connected.');
  const latency = registry.histogram('pilot_proxy_convergence_time', 'Latency.', [1, 0.1]);
  pushes.inc();
  pushes.inc(2);
  connected.inc();
  connected.inc();
  connected.dec();
  for (const v of [0.05, 0.1, 0.5, 7]) latency.observe(v);
  assert.equal(
    registry.render(),
    [
      '# HELP pilot_xds_pushes Pushes.', '# TYPE pilot_xds_pushes counter', 'pilot_xds_pushes 3',
      '# HELP pilot_xds Connected.', '# TYPE pilot_xds gauge', 'pilot_xds 1',
      '# HELP pilot_proxy_convergence_time Latency.', '# TYPE pilot_proxy_convergence_time histogram',
      'pilot_proxy_convergence_time_bucket{le="0.1"} 2', 'pilot_proxy_convergence_time_bucket{le="1"} 3',
      'pilot_proxy_convergence_time_bucket{le="+Inf"} 4', 'pilot_proxy_convergence_time_sum 7.65', 'pilot_proxy_convergence_time_count 4',
      '',
    ].join('\n'),
  );
  assert.throws(() => registry.counter('pilot_xds', 'again'), /already registered/);
  assert.throws(() => registry.counter('bad-name', 'x'), /invalid metric name/);
});
