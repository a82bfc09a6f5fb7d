/**
 * Config distribution: the push server the control plane runs and the client the proxy runs.
 * The proxy should import `./client.js` directly, which pulls in nothing of the server.
 */
export { PushServer, type Affects, type PushServerEvents, type PushServerOptions } from './server.js';
export type { ProxyStatus, SyncState, PushMetrics } from './status.js';
export { MetricsRegistry, Counter, Gauge, Histogram } from './metrics.js';
export * from './client.js';
export { versionConfig } from './version.js';
export { STREAM_PATH, REPLICA_HEADER, ProtocolError, FrameDecoder, encodeFrame } from './protocol.js';
export type { ClientMessage, ServerMessage, HelloMessage, ConfigMessage, DeltaMessage, ResyncMessage, AckMessage, NackMessage, ErrorMessage, CsrMessage, CertificateMessage, IssuedCertificate } from './protocol.js';
export type { BackoffOptions } from './backoff.js';
export type { Now, SetTimer, CancelTimer } from './clock.js';
