/**
 * The benchmark's upstream: a minimal node:http server returning a small fixed body over
 * keep-alive. Run as its own process (`node upstream.js`); prints `LISTENING <port>` once bound
 * to 127.0.0.1 on a port the kernel chose.
 */
import { createServer } from 'node:http';

const body = Buffer.from('hello from the bench upstream\n');
const server = createServer((req, res) => {
  // Drain any request body so the connection stays reusable.
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
// Longer than any pause between benchmark phases, so proxies' pooled connections stay open.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`LISTENING ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
