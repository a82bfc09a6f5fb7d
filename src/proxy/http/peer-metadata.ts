/**
 * Istio's HTTP metadata exchange, the encoding: `x-envoy-peer-metadata` carries the sender's
 * workload metadata as a base64 (standard, padded) `google.protobuf.Struct` in protobuf's
 * deterministic serialization (map keys sorted), with the fields Istio's peer_metadata filter
 * writes (istio/proxy extensions/common/metadata_object.cc convertWorkloadMetadataToStruct): NAME,
 * NAMESPACE, WORKLOAD_NAME, CLUSTER_ID, OWNER, and LABELS holding only `app`, `version`,
 * `service.istio.io/canonical-name` and `-revision`; `x-envoy-peer-metadata-id` carries the node
 * id. So an Envoy sidecar and a Weft proxy understand each other. Protobuf's wire format is
 * written by hand for this one message: a library would cost every sidecar memory for 80 lines.
 */
import type { ProxyNode } from '../../proxy-config/index.js';

export const PEER_METADATA = 'x-envoy-peer-metadata';
export const PEER_METADATA_ID = 'x-envoy-peer-metadata-id';

/** One side's workload, as the metric labels need it ('' when the peer did not say). */
export interface PeerMetadata {
  /** The pod. */
  name: string;
  namespace: string;
  workload: string;
  cluster: string;
  app: string;
  version: string;
  canonicalService: string;
  canonicalRevision: string;
}

/** Istio's default CLUSTER_ID (values.global.multiCluster.clusterName). */
export const DEFAULT_CLUSTER_ID = 'Kubernetes';

/** This proxy's metadata, as its injector would label the pod (canonical name: app, else the workload). */
export function localPeer(node: ProxyNode): PeerMetadata {
  const l = node.labels;
  const suffix = `.${node.namespace}`;
  return {
    name: node.id.endsWith(suffix) ? node.id.slice(0, -suffix.length) : node.id,
    namespace: node.namespace,
    workload: node.workload,
    cluster: DEFAULT_CLUSTER_ID,
    app: l.app ?? '',
    version: l.version ?? '',
    canonicalService: l['service.istio.io/canonical-name'] ?? l['app.kubernetes.io/name'] ?? l.app ?? node.workload,
    canonicalRevision: l['service.istio.io/canonical-revision'] ?? l['app.kubernetes.io/version'] ?? l.version ?? 'latest',
  };
}

/** The two header values this proxy sends, computed once per node (a config keeps its node object). */
const encoded = new WeakMap<ProxyNode, { id: string; value: string }>();

export function localPeerHeaders(node: ProxyNode): { id: string; value: string } {
  let e = encoded.get(node);
  if (!e) {
    const p = localPeer(node);
    const labels: Record<string, string> = {};
    if (p.canonicalService) labels['service.istio.io/canonical-name'] = p.canonicalService;
    if (p.canonicalRevision) labels['service.istio.io/canonical-revision'] = p.canonicalRevision;
    if (p.app) labels.app = p.app;
    if (p.version) labels.version = p.version;
    const fields: StructValue = { CLUSTER_ID: p.cluster, LABELS: labels, NAME: p.name, NAMESPACE: p.namespace, WORKLOAD_NAME: p.workload };
    if (p.workload) fields.OWNER = `kubernetes://apis/apps/v1/namespaces/${p.namespace}/deployments/${p.workload}`;
    const kind = node.role === 'sidecar' ? 'sidecar' : 'router';
    e = { id: `${kind}~${node.ip}~${node.id}~${node.namespace}.svc.cluster.local`, value: encodeStruct(fields).toString('base64') };
    encoded.set(node, e);
  }
  return e;
}

// Decoded peers by header value: a mesh has few distinct peers, so each is decoded once and the
// same object comes back (metrics key their series on it). Bounded against hostile variety.
const decoded = new Map<string, PeerMetadata | null>();
const MAX_DECODED = 1000;

/** The peer a header value describes; undefined when it is not one (garbage is ignored, as Envoy does). */
export function decodePeerMetadata(value: string): PeerMetadata | undefined {
  let p = decoded.get(value);
  if (p === undefined) {
    p = parse(value);
    if (decoded.size >= MAX_DECODED) decoded.clear();
    decoded.set(value, p);
  }
  return p ?? undefined;
}

function parse(value: string): PeerMetadata | null {
  let s: StructValue;
  try {
    s = decodeStruct(Buffer.from(value, 'base64'));
  } catch {
    return null;
  }
  const str = (v: StructValue[string] | undefined): string => (typeof v === 'string' ? v : '');
  const labels = typeof s.LABELS === 'object' ? s.LABELS : {};
  return {
    name: str(s.NAME),
    namespace: str(s.NAMESPACE),
    workload: str(s.WORKLOAD_NAME),
    cluster: str(s.CLUSTER_ID),
    app: str(labels.app),
    version: str(labels.version),
    canonicalService: str(labels['service.istio.io/canonical-name']),
    canonicalRevision: str(labels['service.istio.io/canonical-revision']),
  };
}

// ---------------------------------------------------------------- google.protobuf.Struct, strings and structs only

/** A Struct whose values are strings or (one level of) string Structs: all the exchange uses. */
export type StructValue = Record<string, string | Record<string, string>>;

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A length-delimited protobuf field (wire type 2); the TCP exchange frames its `Any` with it too. */
export function lengthDelimited(field: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(body.length)]), body]);
}

/** Struct { map<string, Value> fields = 1 }, entries sorted by key (deterministic serialization). */
export function encodeStruct(fields: StructValue): Buffer {
  const entries = Object.keys(fields).sort().map((key) => {
    const v = fields[key] ?? '';
    // Value: string_value = 3, struct_value = 5.
    const value = typeof v === 'string' ? lengthDelimited(3, Buffer.from(v, 'utf8')) : lengthDelimited(5, encodeStruct(v));
    return lengthDelimited(1, Buffer.concat([lengthDelimited(1, Buffer.from(key, 'utf8')), lengthDelimited(2, value)]));
  });
  return Buffer.concat(entries);
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length || shift > 28) throw new Error('bad varint');
      const b = this.buf[this.pos++] ?? 0;
      result |= (b & 0x7f) << shift;
      if (b < 0x80) return result >>> 0;
      shift += 7;
    }
  }
  /** The field number and wire type of the next field. */
  tag(): [number, number] {
    const t = this.varint();
    return [t >>> 3, t & 7];
  }
  bytes(): Buffer {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw new Error('truncated');
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`wire type ${wire}`);
    if (this.pos > this.buf.length) throw new Error('truncated');
  }
}

/** Reads a Struct; values other than strings and nested string structs are skipped. */
export function decodeStruct(buf: Buffer, depth = 0): StructValue {
  const out: StructValue = {};
  const r = new Reader(buf);
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field !== 1 || wire !== 2) {
      r.skip(wire);
      continue;
    }
    const entry = new Reader(r.bytes());
    let key = '';
    let value: string | Record<string, string> | undefined;
    while (!entry.done) {
      const [f, w] = entry.tag();
      if (f === 1 && w === 2) key = entry.bytes().toString('utf8');
      else if (f === 2 && w === 2) value = decodeValue(entry.bytes(), depth);
      else entry.skip(w);
    }
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function decodeValue(buf: Buffer, depth: number): string | Record<string, string> | undefined {
  const r = new Reader(buf);
  let value: string | Record<string, string> | undefined;
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 3 && w === 2) value = r.bytes().toString('utf8');
    else if (f === 5 && w === 2 && depth === 0) {
      const inner = decodeStruct(r.bytes(), depth + 1);
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(inner)) if (typeof v === 'string') flat[k] = v;
      value = flat;
    } else r.skip(w);
  }
  return value;
}
