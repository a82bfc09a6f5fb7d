/**
 * What the push server knows about each connected proxy, as `weft proxy-status` shows it (the
 * columns of `istioctl proxy-status`), and the metrics it keeps. Istio's metric names are used
 * where Istio has one, so existing dashboards and alerts keep working.
 */
import type { ServerHttp2Stream } from 'node:http2';
import type { ProxyNode } from '../proxy-config/index.js';
import type { Counter, Gauge, Histogram, MetricsRegistry } from './metrics.js';
import type { ConfigIndex } from './resources.js';
import type { AuthMethod } from './peer-auth.js';

/** SYNCED: the proxy ACKed what was sent. STALE: sent but not ACKed (in flight, or NACKed). NOT SENT: nothing sent yet. */
export type SyncState = 'SYNCED' | 'STALE' | 'NOT SENT';

export interface ProxyStatus {
  nodeId: string;
  role: ProxyNode['role'];
  namespace: string;
  /** The control plane revision the proxy belongs to ('' for the default revision). */
  revision: string;
  /** The control plane replica holding the stream (this server). */
  replica: string;
  /** Epoch milliseconds. */
  connectedAt: number;
  sentVersion?: string;
  ackedVersion?: string;
  /** The last version the proxy rejected, while no later version has been ACKed. */
  nackedVersion?: string;
  nackError?: string;
  state: SyncState;
  /** How the proxy authenticated this stream: its token, or its workload certificate (mTLS). Always set by the push server. */
  auth?: AuthMethod;
}

/** One proxy's stream. Keyed by connection rather than node id: a reconnecting proxy may briefly hold two. */
export interface Connection {
  id: number;
  node: ProxyNode;
  stream: ServerHttp2Stream;
  connectedAt: number;
  /** The latest push. A proxy reconnecting with lastVersion counts as sent and ACKed that version (nonce ''). */
  sent?: { version: string; nonce: string };
  acked?: string;
  nacked?: { version: string; error: string };
  /** When the earliest change not yet ACKed by this proxy happened; undefined for connect-time pushes. */
  pendingSince?: number;
  /** A CSR being signed: one at a time per proxy, so a proxy cannot queue signing work without bound. */
  signing?: boolean;
  closed: boolean;
  /** What this stream was last sent, resource by resource: the base of the next delta. */
  sentIndex?: ConfigIndex;
  /** The proxy asked for the whole config (it lacked a delta's base). */
  resync?: boolean;
  /** A frame is still being written to this stream; pushes wait for it. */
  writing?: boolean;
  /** A push waiting for that write: the earliest change it carries, or null for a connect-time push. */
  deferred?: number | null;
  auth: AuthMethod;
  /** From the hello: where the proxy's /stats/prometheus is served on node.ip. */
  prometheusPort?: number;
}

export function proxyStatus(conn: Connection, replica: string): ProxyStatus {
  const status: ProxyStatus = {
    nodeId: conn.node.id,
    role: conn.node.role,
    revision: conn.node.revision,
    namespace: conn.node.namespace,
    replica,
    connectedAt: conn.connectedAt,
    state: !conn.sent ? 'NOT SENT' : conn.acked === conn.sent.version ? 'SYNCED' : 'STALE',
    auth: conn.auth,
  };
  if (conn.sent) status.sentVersion = conn.sent.version;
  if (conn.acked !== undefined) status.ackedVersion = conn.acked;
  if (conn.nacked) {
    status.nackedVersion = conn.nacked.version;
    status.nackError = conn.nacked.error;
  }
  return status;
}

export interface PushMetrics {
  pushes: Counter;
  /** Seconds from the first change of a debounced batch to the proxy's ACK. */
  pushLatency: Histogram;
  connected: Gauge;
  nacks: Counter;
  configErrors: Counter;
  csrs: Counter;
  certificatesIssued: Counter;
  csrErrors: Counter;
}

export function pushMetrics(registry: MetricsRegistry): PushMetrics {
  return {
    pushes: registry.counter('pilot_xds_pushes', 'Configs pushed to proxies (a recompiled but unchanged config is not pushed).'),
    // Istio measures until the push is sent; we measure until the ACK, the moment the proxy serves it.
    pushLatency: registry.histogram(
      'pilot_proxy_convergence_time',
      'Seconds from a config change to the proxy ACKing the resulting config.',
      [0.01, 0.05, 0.1, 0.5, 1, 3, 5, 10, 20, 30],
    ),
    connected: registry.gauge('pilot_xds', 'Proxies connected to this control plane replica.'),
    nacks: registry.counter('pilot_total_xds_rejects', 'Configs rejected (NACKed) by proxies.'),
    configErrors: registry.counter('pilot_total_xds_internal_errors', 'Proxy configs that could not be compiled or encoded, so were not sent.'),
    // Istio's CA metric names (istiod's citadel_server_*).
    csrs: registry.counter('citadel_server_csr_count', 'Certificate signing requests received from proxies.'),
    certificatesIssued: registry.counter('citadel_server_success_cert_issuance_count', 'Workload certificates issued.'),
    csrErrors: registry.counter('citadel_server_csr_sign_err_count', 'Certificate signing requests refused or failed.'),
  };
}
