/**
 * One API object -> one validated resource, through the same loader as `weft apply` and the files
 * source, so a VirtualService means the same thing whichever way it arrives. What the API server
 * adds is trimmed first: server-set metadata (managedFields, uid, resourceVersion, timestamps,
 * kubectl's last-applied copy) and the `status` an Istio CRD may carry are not part of what the
 * user wrote and would only cost memory or trip the schema. Pods, Services and Namespaces are
 * reduced to the fields the registry reads: a cluster's objects carry fields newer than any
 * schema here (and istiod itself reads these through typed clients that ignore unknown fields).
 *
 * The mesh's `istio` ConfigMap (key `mesh`, the MeshConfig YAML istiod reads on a cluster) becomes
 * the IstioOperator the control plane already takes meshConfig from.
 */
import { parse as parseYaml } from 'yaml';
import { loadResources, type AnyResource } from '../../resources/index.js';
import { serviceSpec } from '../../resources/kube/service.js';
import type { Diagnostic } from '../../lib/diagnostic.js';

export type Converted = { ok: true; resource: AnyResource; warnings: Diagnostic[] } | { ok: false; errors: Diagnostic[] };

type Mapping = Record<string, unknown>;

const DROPPED_META = ['managedFields', 'uid', 'resourceVersion', 'creationTimestamp', 'generation', 'selfLink', 'generateName', 'finalizers'];
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const SERVICE_FIELDS = new Set(Object.keys(serviceSpec.shape));

/** Validates `object` (apiVersion and kind already set) as the resource at API path `path`. */
export function convertObject(object: Mapping, path: string): Converted {
  const trimmed = trim(object);
  const loaded = loadResources([{ file: path, text: JSON.stringify(trimmed, null, 1) }], { duplicates: 'error' });
  // Line and column of a JSON rendering mean nothing to a user: the API path and field path do.
  const located = loaded.diagnostics.map((d) => (d.location ? { ...d, location: { ...d.location, line: 0, column: 0 } } : d));
  const resource = loaded.resources[0];
  if (!loaded.ok || !resource) return { ok: false, errors: located.filter((d) => d.level === 'Error') };
  // The JSON text is not the object's source: a diagnostic must not point into it.
  delete resource.source;
  return { ok: true, resource, warnings: located };
}

/** The `istio[-<revision>]` ConfigMap as the IstioOperator meshOptionsFrom reads meshConfig from. */
export function meshConfigMapToOperator(configMap: Mapping, revision: string, path: string): Converted {
  const meta = (configMap.metadata ?? {}) as Mapping;
  const data = (configMap.data ?? {}) as Mapping;
  let mesh: unknown = {};
  if (typeof data.mesh === 'string' && data.mesh.trim() !== '') {
    try {
      mesh = parseYaml(data.mesh) ?? {};
    } catch (err) {
      return { ok: false, errors: [{ code: 'IST0106', level: 'Error', message: `Schema validation error: data.mesh is not YAML: ${(err as Error).message}`, location: { file: path, line: 0, column: 0, path: 'data.mesh' } }] };
    }
  }
  const operator = {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: revision ? `installed-state-${revision}` : 'installed-state', namespace: meta.namespace },
    spec: { ...(revision ? { revision } : {}), meshConfig: mesh },
  };
  const converted = convertObject(operator, path);
  if (converted.ok) return converted;
  // Errors point at data.mesh, where the user wrote them.
  return { ok: false, errors: converted.errors.map((d) => (d.location ? { ...d, location: { ...d.location, path: d.location.path.replace(/^spec\.meshConfig/, 'data.mesh') } } : d)) };
}

function trim(object: Mapping): Mapping {
  const meta = { ...((object.metadata ?? {}) as Mapping) };
  for (const key of DROPPED_META) delete meta[key];
  if (meta.annotations && typeof meta.annotations === 'object') {
    const annotations = { ...(meta.annotations as Mapping) };
    delete annotations[LAST_APPLIED];
    meta.annotations = annotations;
  }
  const base = { apiVersion: object.apiVersion, kind: object.kind, metadata: meta };
  switch (object.kind) {
    case 'Pod':
      return { ...base, spec: podSpec((object.spec ?? {}) as Mapping), status: podStatus((object.status ?? {}) as Mapping) };
    case 'Service': {
      const spec = Object.fromEntries(Object.entries((object.spec ?? {}) as Mapping).filter(([k]) => SERVICE_FIELDS.has(k)));
      return { ...base, spec };
    }
    case 'Namespace':
      return base;
    default: {
      // Istio kinds: the spec as written; status is the server's.
      return object.spec === undefined ? base : { ...base, spec: object.spec };
    }
  }
}

/** The containers' names and ports, the service account and host networking: what instances are built from. */
function podSpec(spec: Mapping): Mapping {
  const containers = (Array.isArray(spec.containers) ? (spec.containers as Mapping[]) : []).map((c) => ({
    name: c.name,
    image: typeof c.image === 'string' && c.image !== '' ? c.image : 'unknown',
    ...(Array.isArray(c.ports) ? { ports: (c.ports as Mapping[]).map((p) => pick(p, ['name', 'containerPort', 'protocol'])) } : {}),
  }));
  return { containers, ...pick(spec, ['serviceAccountName', 'serviceAccount', 'hostNetwork', 'nodeName']) };
}

function podStatus(status: Mapping): Mapping {
  return {
    ...pick(status, ['phase', 'podIP', 'hostIP']),
    ...(Array.isArray(status.podIPs) ? { podIPs: (status.podIPs as Mapping[]).map((p) => pick(p, ['ip'])) } : {}),
    ...(Array.isArray(status.conditions) ? { conditions: (status.conditions as Mapping[]).map((c) => pick(c, ['type', 'status'])) } : {}),
  };
}

function pick(from: Mapping, keys: readonly string[]): Mapping {
  const out: Mapping = {};
  for (const k of keys) if (from[k] !== undefined && from[k] !== null) out[k] = from[k];
  return out;
}
