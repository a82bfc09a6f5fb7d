/**
 * Comparison proxy: the undici proxy's shape (a node:http server, no routing) forwarding through
 * Weft's own upstream layer (`Upstreams.send`: cluster, balancer, breakers, the HTTP/1 pool on
 * Node's parser). Beside the undici proxy it compares the two HTTP clients; beside the weft row it
 * shows what the proxy's chain (routing, headers, telemetry) costs on top of its client.
 * A small body the client received whole (`completeBody`) is written with the head, as the
 * proxy's relay does; other bodies are piped.
 * `node weft-client-proxy-server.js <upstreamPort>`; prints `LISTENING <port>`.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Upstreams } from '../../src/proxy/upstream/index.js';

const upstreamPort = Number(process.argv[2]);
const upstreams = new Upstreams();
upstreams.apply(
  [{
    name: 'upstream',
    discovery: 'eds',
    protocol: 'http1',
    loadBalancer: { policy: 'LEAST_REQUEST' },
    connectTimeoutMs: 1000,
    circuitBreakers: { maxConnections: 2 ** 32 - 1, maxPendingRequests: 2 ** 32 - 1, maxRequests: 2 ** 32 - 1, maxRetries: 2 ** 32 - 1, maxRequestsPerConnection: 0 },
  }],
  [{ cluster: 'upstream', endpoints: [{ address: '127.0.0.1', port: upstreamPort, weight: 1, labels: {}, tlsMode: 'disabled', healthy: true }] }],
);

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k in headers) {
    const v = headers[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

const server = createServer((req, res) => {
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) req.resume();
  upstreams.send('upstream', { method: req.method ?? 'GET', path: req.url ?? '/', headers: forwardable(req.headers), body: hasBody ? req : null }, {}).then(
    (up) => {
      res.writeHead(up.status, up.headers);
      // A small body that came whole goes out with the head in one write, as the proxy's relay
      // writes it (undici's row streams its one chunk, also a single write); any other streams.
      const whole = up.completeBody;
      if (whole !== undefined) res.end(whole);
      else up.body.pipe(res);
    },
    () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('bad gateway\n');
    },
  );
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`LISTENING ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
