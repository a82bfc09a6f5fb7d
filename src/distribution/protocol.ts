/**
 * The wire protocol between the push server and a proxy, modelled on xDS's aggregated stream (ADS):
 * one long-lived HTTP/2 request per proxy, `POST /weft.v1.Discovery/Stream`, carrying
 * length-prefixed JSON messages both ways (a 4-byte big-endian length, then that many bytes of
 * UTF-8 JSON, as gRPC frames protobuf).
 *
 *   proxy -> server   hello {node, token, lastVersion?}   first message, exactly once
 *   server -> proxy   response headers (200, weft-replica), then config {version, nonce, config}
 *   server -> proxy   delta {version, baseVersion, nonce, upserts, removes}   every later push
 *   proxy -> server   ack {version, nonce} | nack {version, nonce, error}
 *   proxy -> server   resync {version, nonce, error}    a delta whose base the proxy does not hold
 *   proxy -> server   csr {requestId, csr}              any time after the 200 (Istio's CA call)
 *   server -> proxy   certificate {requestId, certificateChain, trustBundle} | {requestId, error}
 *   server -> proxy   error {code, message}, then the stream ends (bad token, protocol error)
 *
 * A CSR rides the authenticated stream, so the identity it is signed for is the one the hello's
 * token covers (namespace + service account), whatever the CSR itself says.
 *
 * Versions are content hashes, so "same version" means "same config"; a nonce names one push, so
 * an ACK for an older push that crosses a newer one on the wire is recognised as stale.
 *
 * Deltas, as in delta xDS: the first push on a stream is the whole config; each later one names
 * the version it applies to (`baseVersion`, the last config sent on this stream, ACKed or not) and
 * carries only what changed: `upserts` {listeners?, routes?, clusters?, endpoints?, secrets?: whole
 * resources added or changed; node?, mesh?: the block, if changed} and `removes` {type: names}.
 * Names are a listener's, route configuration's, cluster's or secret's `name` and a load
 * assignment's `cluster`. The proxy rebuilds the whole config from its last received one (lists
 * kept in name order) and applies and answers that, exactly as if it had been sent whole. A proxy
 * that does not hold the base answers `resync`, and the server sends the whole config again.
 * A reconnect starts over with a whole config, unless the hello's lastVersion is current.
 * Client-safe: imports only proxy-config types.
 */
import type { ProxyConfig, ProxyNode, ProxyRole } from '../proxy-config/index.js';
import { RESOURCE_TYPES, type ResourceRemoves, type ResourceUpserts } from './delta.js';

export const STREAM_PATH = '/weft.v1.Discovery/Stream';
export const CONTENT_TYPE = 'application/x-weft-stream+json';
/** Response header naming the control plane replica that holds the stream. */
export const REPLICA_HEADER = 'weft-replica';
/** Bounds a peer's claim on our memory; a whole mesh's sidecar config fits well below it. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface HelloMessage {
  type: 'hello';
  node: ProxyNode;
  token: string;
  /** The version the proxy already serves (after a reconnect), so an unchanged config is not re-sent. */
  lastVersion?: string;
  /** Where the proxy serves /stats/prometheus on its node ip (Istio's ENVOY_PROMETHEUS_PORT node metadata); the service graph scrapes it. */
  prometheusPort?: number;
}
export interface AckMessage {
  type: 'ack';
  version: string;
  nonce: string;
}
export interface NackMessage {
  type: 'nack';
  /** The rejected version; the proxy keeps serving its last good one. */
  version: string;
  nonce: string;
  error: string;
}
/** A certificate signing request for the proxy's locally generated key (PEM PKCS#10). */
export interface CsrMessage {
  type: 'csr';
  /** Chosen by the proxy; the answer carries it back. */
  requestId: string;
  csr: string;
}
export interface IssuedCertificate {
  /** PEM: the workload certificate, then intermediates (the `default` secret's chain). */
  certificateChain: string;
  /** PEM: the mesh's root certificates (the `ROOTCA` secret). */
  trustBundle: string;
}
export type CertificateMessage =
  | ({ type: 'certificate'; requestId: string } & IssuedCertificate)
  | { type: 'certificate'; requestId: string; error: string };
export interface ConfigMessage {
  type: 'config';
  version: string;
  nonce: string;
  config: ProxyConfig;
}
export interface DeltaMessage {
  type: 'delta';
  version: string;
  baseVersion: string;
  nonce: string;
  upserts: ResourceUpserts;
  removes: ResourceRemoves;
}
/** The proxy cannot rebuild a delta (it does not hold its base): send the whole config. Not a NACK. */
export interface ResyncMessage {
  type: 'resync';
  version: string;
  nonce: string;
  error: string;
}
export interface ErrorMessage {
  type: 'error';
  code: 'UNAUTHENTICATED' | 'PROTOCOL' | 'TIMEOUT' | 'SHUTTING_DOWN';
  message: string;
}

export type ClientMessage = HelloMessage | AckMessage | NackMessage | CsrMessage | ResyncMessage;
export type ServerMessage = ConfigMessage | DeltaMessage | ErrorMessage | CertificateMessage;

export class ProtocolError extends Error {
  constructor(
    readonly code: 'WEFT_FRAME_TOO_LARGE' | 'WEFT_BAD_FRAME' | 'WEFT_BAD_MESSAGE',
    message: string,
  ) {
    super(message);
  }
}

/** One frame: length prefix + JSON text. Throws WEFT_FRAME_TOO_LARGE rather than send what the peer must refuse. */
export function encodeFrame(message: ClientMessage | ServerMessage, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Buffer {
  return frameJson(JSON.stringify(message), maxBytes);
}

export function frameJson(json: string, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Buffer {
  const length = Buffer.byteLength(json);
  if (length > maxBytes) throw new ProtocolError('WEFT_FRAME_TOO_LARGE', `message of ${length} bytes exceeds the limit of ${maxBytes}`);
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32BE(length, 0);
  frame.write(json, 4, 'utf8');
  return frame;
}

/**
 * Reassembles frames from a byte stream however TCP and HTTP/2 split it. Chunks are kept as a
 * list and joined once per frame, so a large frame arriving in many small chunks costs one copy,
 * not one per chunk. A frame announcing more than maxBytes is refused as soon as its header
 * arrives, before any of its body is buffered. After an error the decoder stays failed: the
 * stream is out of sync and must be closed.
 */
export class FrameDecoder {
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Total bytes (header included) of the frame being assembled, once its header is known. */
  #frameBytes: number | undefined;
  #failed: ProtocolError | undefined;

  constructor(maxBytes = DEFAULT_MAX_MESSAGE_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Feeds bytes; returns every JSON value completed by them, in order. */
  push(chunk: Uint8Array): unknown[] {
    if (this.#failed) throw this.#failed;
    if (chunk.length === 0) return [];
    this.#chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.#buffered += chunk.length;
    const values: unknown[] = [];
    try {
      for (;;) {
        if (this.#frameBytes === undefined) {
          if (this.#buffered < 4) break;
          const length = this.#joined().readUInt32BE(0);
          if (length > this.#maxBytes) throw new ProtocolError('WEFT_FRAME_TOO_LARGE', `frame of ${length} bytes exceeds the limit of ${this.#maxBytes}`);
          this.#frameBytes = 4 + length;
        }
        if (this.#buffered < this.#frameBytes) break;
        const all = this.#joined();
        const body = all.subarray(4, this.#frameBytes);
        const rest = all.subarray(this.#frameBytes);
        this.#chunks = rest.length > 0 ? [rest] : [];
        this.#buffered = rest.length;
        this.#frameBytes = undefined;
        values.push(parseJson(body));
      }
    } catch (error) {
      this.#failed = error instanceof ProtocolError ? error : new ProtocolError('WEFT_BAD_FRAME', String(error));
      this.#chunks = [];
      this.#buffered = 0;
      throw this.#failed;
    }
    return values;
  }

  #joined(): Buffer {
    if (this.#chunks.length !== 1) this.#chunks = [Buffer.concat(this.#chunks, this.#buffered)];
    return this.#chunks[0] as Buffer;
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ProtocolError('WEFT_BAD_FRAME', `frame of ${body.length} bytes is not JSON`);
  }
}

// ---------------------------------------------------------------- message validation

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bad(what: string): never {
  throw new ProtocolError('WEFT_BAD_MESSAGE', what);
}

function str(message: Fields, key: string): string {
  const value = message[key];
  if (typeof value !== 'string') bad(`${String(message.type)} message: ${key} must be a string`);
  return value;
}

const ROLES: readonly ProxyRole[] = ['sidecar', 'ingress-gateway', 'egress-gateway'];

export function isProxyNode(value: unknown): value is ProxyNode {
  if (!isObject(value)) return false;
  const strings = ['id', 'namespace', 'workload', 'serviceAccount', 'ip', 'revision'].every((k) => typeof value[k] === 'string');
  const labels = value.labels;
  return (
    strings &&
    value.id !== '' &&
    ROLES.includes(value.role as ProxyRole) &&
    isObject(labels) &&
    Object.values(labels).every((v) => typeof v === 'string')
  );
}

/** Checks what a proxy sent; the server never trusts a shape it did not verify. */
export function parseClientMessage(value: unknown): ClientMessage {
  if (!isObject(value)) bad('message must be a JSON object');
  switch (value.type) {
    case 'hello': {
      if (!isProxyNode(value.node)) bad('hello message: node must be a ProxyNode with a non-empty id');
      const hello: HelloMessage = { type: 'hello', node: value.node, token: str(value, 'token') };
      if (value.lastVersion !== undefined) hello.lastVersion = str(value, 'lastVersion');
      if (value.prometheusPort !== undefined) {
        const port = value.prometheusPort;
        if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) bad('hello message: prometheusPort must be a port number');
        hello.prometheusPort = port;
      }
      return hello;
    }
    case 'ack':
      return { type: 'ack', version: str(value, 'version'), nonce: str(value, 'nonce') };
    case 'nack':
      return { type: 'nack', version: str(value, 'version'), nonce: str(value, 'nonce'), error: str(value, 'error') };
    case 'csr':
      return { type: 'csr', requestId: str(value, 'requestId'), csr: str(value, 'csr') };
    case 'resync':
      return { type: 'resync', version: str(value, 'version'), nonce: str(value, 'nonce'), error: str(value, 'error') };
    default:
      return bad(`unknown message type ${JSON.stringify(value.type)}`);
  }
}

/**
 * Checks what the server sent, down to "config is an object with this version": whether the
 * config itself is valid is for the proxy's `apply` to decide, and to NACK.
 */
export function parseServerMessage(value: unknown): ServerMessage {
  if (!isObject(value)) bad('message must be a JSON object');
  switch (value.type) {
    case 'config': {
      const version = str(value, 'version');
      const config = value.config;
      if (!isObject(config) || config.version !== version) bad('config message: config must be an object carrying the same version');
      return { type: 'config', version, nonce: str(value, 'nonce'), config: config as unknown as ProxyConfig };
    }
    case 'delta':
      return parseDelta(value);
    case 'error':
      return { type: 'error', code: str(value, 'code') as ErrorMessage['code'], message: str(value, 'message') };
    case 'certificate': {
      const requestId = str(value, 'requestId');
      if (value.error !== undefined) return { type: 'certificate', requestId, error: str(value, 'error') };
      return { type: 'certificate', requestId, certificateChain: str(value, 'certificateChain'), trustBundle: str(value, 'trustBundle') };
    }
    default:
      return bad(`unknown message type ${JSON.stringify(value.type)}`);
  }
}

/** Shapes only, as for a whole config: each upserted resource must be an object naming itself; the proxy's apply judges the rest. */
function parseDelta(value: Fields): DeltaMessage {
  const upserts = value.upserts;
  const removes = value.removes;
  if (!isObject(upserts) || !isObject(removes)) bad('delta message: upserts and removes must be objects');
  for (const key of Object.keys(upserts)) {
    const list = upserts[key];
    if (key === 'node' || key === 'mesh') {
      if (!isObject(list)) bad(`delta message: upserts.${key} must be an object`);
      continue;
    }
    const type = RESOURCE_TYPES.find((t) => t === key);
    if (!type) bad(`delta message: unknown resource type upserts.${key}`);
    const nameKey = type === 'endpoints' ? 'cluster' : 'name';
    if (!Array.isArray(list) || !list.every((r) => isObject(r) && typeof r[nameKey] === 'string')) bad(`delta message: upserts.${key} must be a list of resources with a ${nameKey}`);
  }
  for (const key of Object.keys(removes)) {
    const list = removes[key];
    if (!RESOURCE_TYPES.some((t) => t === key)) bad(`delta message: unknown resource type removes.${key}`);
    if (!Array.isArray(list) || !list.every((n) => typeof n === 'string')) bad(`delta message: removes.${key} must be a list of names`);
  }
  return {
    type: 'delta', version: str(value, 'version'), baseVersion: str(value, 'baseVersion'), nonce: str(value, 'nonce'),
    upserts: upserts as ResourceUpserts, removes: removes as ResourceRemoves,
  };
}
