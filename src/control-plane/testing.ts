/**
 * For the control plane's in-process tests: the one Service they serve config for, the sidecar
 * that asks for it (bookinfo's reviews), and certificate requests with fresh keys.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { ProxyNode } from '../proxy-config/index.js';
import { buildCsr } from '../lib/csr.js';

export const REVIEWS_SERVICE = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
`;

/** reviews-v1-0.default, service account bookinfo-reviews, at `ip`. */
export function reviewsNode(ip: string): ProxyNode {
  return { id: 'reviews-v1-0.default', role: 'sidecar', namespace: 'default', workload: 'reviews-v1', labels: { app: 'reviews' }, serviceAccount: 'bookinfo-reviews', ip, revision: '' };
}

/** A CSR for a new P-256 key, naming `uris` (none: the identity is the one the token covers). */
export function csrFor(uris: string[] = []): { privateKey: KeyObject; csr: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, csr: buildCsr(privateKey, uris) };
}
