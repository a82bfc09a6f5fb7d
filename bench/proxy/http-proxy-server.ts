/**
 * Comparison proxy: the `http-proxy` npm package in front of the upstream, with a keep-alive
 * agent (without one it opens a connection per request). `node http-proxy-server.js <upstreamPort>`;
 * prints `LISTENING <port>`.
 */
import { Agent, createServer } from 'node:http';
import httpProxy from 'http-proxy';

const upstreamPort = Number(process.argv[2]);
const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${upstreamPort}`, agent, xfwd: false });
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
  res.end('bad gateway\n');
});
const server = createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`LISTENING ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
