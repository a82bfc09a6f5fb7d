/**
 * The seed's last hop, "traffic leaves through an egress gateway", set up as Istio's egress
 * gateway task does it (ServiceEntry, Gateway on the egress gateway, DestinationRule subset,
 * VirtualService from the mesh to the gateway and from the gateway out), against an external
 * server the test runs on the host, and a mesh workload that calls it knowing nothing of the mesh.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const EXTERNAL_HOST = 'shop.external.example';

export interface ExternalServer {
  address: string;
  port: number;
  /** Host headers of the requests it received. */
  received: string[];
  close(): Promise<void>;
}

/** An HTTP server outside the mesh on `address` (the host as pods see it). */
export async function startExternalServer(address: string): Promise<ExternalServer> {
  const received: string[] = [];
  const server = http.createServer((req, res) => {
    received.push(req.headers.host ?? '');
    res.end(`external answer to ${req.url ?? ''}`);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, address, resolve));
  return {
    address,
    port: (server.address() as AddressInfo).port,
    received,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/**
 * The caller (an injected pod `egress-client`, with a Service as Istio's sleep sample has) and the
 * ServiceEntry for EXTERNAL_HOST, written to `dir`; returns the manifest's path. The caller sends
 * `GET http://EXTERNAL_HOST/hello` through HTTP_PROXY when the runtime sets one (plain mode), else
 * straight to the external server's address with that Host, where capture takes it (netns mode).
 */
export function egressManifests(dir: string, external: ExternalServer): string {
  const script = join(dir, 'egress-client.js');
  writeFileSync(script, `const http = require('http');
http.createServer((q, s) => {
  if (q.url === '/ready') return s.end('ok');
  const proxy = process.env.HTTP_PROXY ? new URL(process.env.HTTP_PROXY) : undefined;
  const target = proxy ? { host: proxy.hostname, port: proxy.port, path: 'http://${EXTERNAL_HOST}/hello' } : { host: process.env.EXTERNAL_IP, port: 80, path: '/hello' };
  http.get({ ...target, headers: { host: '${EXTERNAL_HOST}' }, agent: false }, (r) => {
    let b = '';
    r.on('data', (c) => (b += c));
    r.on('end', () => s.end(r.statusCode + ' ' + b));
  }).on('error', (e) => { s.statusCode = 502; s.end(e.message); });
}).listen(9080, process.env.WEFT_BIND_ADDRESS);
`);
  const file = join(dir, 'egress.yaml');
  writeFileSync(file, `apiVersion: v1
kind: Service
metadata: {name: egress-client}
spec:
  selector: {app: egress-client}
  ports: [{name: http, port: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: egress-client}
spec:
  selector: {matchLabels: {app: egress-client}}
  template:
    metadata: {labels: {app: egress-client, version: v1}}
    spec:
      containers:
      - name: egress-client
        image: node
        command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(script)}]
        env: [{name: EXTERNAL_IP, value: ${JSON.stringify(external.address)}}]
        ports: [{containerPort: 9080}]
        readinessProbe: {httpGet: {path: /ready, port: 9080}, periodSeconds: 1}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external-shop}
spec:
  hosts: [${EXTERNAL_HOST}]
  ports: [{number: 80, name: http-port, protocol: HTTP}]
  location: MESH_EXTERNAL
  resolution: STATIC
  endpoints: [{address: ${JSON.stringify(external.address)}, ports: {http-port: ${external.port}}}]
`);
  return file;
}

/**
 * Istio's egress gateway routing for EXTERNAL_HOST: the Gateway on the egress gateway, its subset,
 * and the VirtualService sending the mesh's calls to the gateway and the gateway's out. Plain:
 * today's task (port 80, HTTP, auto mTLS decides the hop to the gateway). Mutual: the task's
 * mutual TLS variant (port 443, ISTIO_MUTUAL on both the Gateway server and the subset).
 */
export function egressRouting(dir: string, hop: 'plain' | 'mutual'): string {
  const port = hop === 'plain' ? 80 : 443;
  const file = join(dir, `egress-routing-${hop}.yaml`);
  writeFileSync(file, `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: istio-egressgateway}
spec:
  selector: {istio: egressgateway}
  servers:
  - port: {number: ${port}, name: ${hop === 'plain' ? 'http' : 'https'}, protocol: ${hop === 'plain' ? 'HTTP' : 'HTTPS'}}
    hosts: [${EXTERNAL_HOST}]${hop === 'mutual' ? '\n    tls: {mode: ISTIO_MUTUAL}' : ''}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: egressgateway-for-shop}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets:
  - name: shop${hop === 'mutual' ? `\n    trafficPolicy:\n      tls: {mode: ISTIO_MUTUAL, sni: ${EXTERNAL_HOST}}` : ''}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: direct-shop-through-egress-gateway}
spec:
  hosts: [${EXTERNAL_HOST}]
  gateways: [istio-egressgateway, mesh]
  http:
  - match: [{gateways: [mesh], port: 80}]
    route:
    - destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: shop, port: {number: ${port}}}
      weight: 100
  - match: [{gateways: [istio-egressgateway], port: ${port}}]
    route:
    - destination: {host: ${EXTERNAL_HOST}, port: {number: 80}}
      weight: 100
`);
  return file;
}
