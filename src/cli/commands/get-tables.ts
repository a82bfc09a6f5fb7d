/**
 * `weft get` tables, with kubectl's columns: pods NAME READY STATUS RESTARTS AGE (wide: IP,
 * NODE, PROXY MEMORY), deployments NAME READY UP-TO-DATE AVAILABLE AGE, services, namespaces,
 * service accounts, and NAME AGE for the Istio kinds. `-A` adds NAMESPACE in front.
 */
import { podStatusText } from '../../runtime/pods/object.js';

type Obj = Record<string, unknown>;
type Meta = { name: string; namespace?: string; creationTimestamp?: string; labels?: Record<string, string>; annotations?: Record<string, string> };

export function tableFor(kind: string, items: readonly Obj[], wide: boolean, allNamespaces: boolean, now = Date.now()): { header: string[]; rows: string[][] } {
  const meta = (o: Obj) => o.metadata as Meta;
  const age = (o: Obj) => humanAge(now, meta(o).creationTimestamp);
  let header: string[];
  let row: (o: Obj) => string[];
  switch (kind) {
    case 'Pod': {
      header = ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', ...(wide ? ['IP', 'NODE', 'PROXY MEMORY'] : [])];
      row = (o) => {
        const status = (o.status ?? {}) as { podIP?: string; containerStatuses?: { ready: boolean; restartCount: number }[] };
        const cs = status.containerStatuses ?? [];
        // Native sidecars (init containers that keep running) count, as kubectl counts them.
        const total = Math.max(cs.length, ((o.spec as { containers?: unknown[] }).containers ?? []).length);
        const limit = meta(o).annotations?.['weft.io/proxy-memory-limit'];
        return [meta(o).name, `${cs.filter((c) => c.ready).length}/${total}`, podStatusText(o), String(cs.reduce((n, c) => n + c.restartCount, 0)), age(o),
          ...(wide ? [status.podIP ?? '<none>', 'weft-local', limit ? `${Math.round(Number(limit) / 1024 / 1024)}Mi` : '<none>'] : [])];
      };
      break;
    }
    case 'Deployment':
      header = ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'];
      row = (o) => {
        const s = (o.status ?? {}) as { readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number };
        const replicas = (o.spec as { replicas?: number }).replicas ?? 1;
        return [meta(o).name, `${s.readyReplicas ?? 0}/${replicas}`, String(s.updatedReplicas ?? 0), String(s.availableReplicas ?? 0), age(o)];
      };
      break;
    case 'Service':
      header = ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'];
      row = (o) => {
        const spec = o.spec as { type?: string; clusterIP?: string; ports?: { port: number; protocol?: string }[] };
        const type = spec.type ?? 'ClusterIP';
        return [meta(o).name, type, spec.clusterIP ?? '<auto>', type === 'LoadBalancer' ? '127.0.0.1' : '<none>',
          (spec.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') || '<none>', age(o)];
      };
      break;
    case 'Namespace':
      header = ['NAME', 'STATUS', 'AGE', ...(wide ? ['LABELS'] : [])];
      row = (o) => [meta(o).name, 'Active', age(o), ...(wide ? [labelsText(meta(o).labels)] : [])];
      break;
    case 'ServiceAccount':
      header = ['NAME', 'SECRETS', 'AGE'];
      row = (o) => [meta(o).name, '0', age(o)];
      break;
    default:
      header = ['NAME', 'AGE'];
      row = (o) => [meta(o).name, age(o)];
  }
  if (allNamespaces && kind !== 'Namespace') {
    header = ['NAMESPACE', ...header];
    const inner = row;
    row = (o) => [meta(o).namespace ?? '', ...inner(o)];
  }
  return { header, rows: items.map(row) };
}

function labelsText(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? '<none>' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}

/** kubectl's HumanDuration: 45s, 3m12s, 25m, 5h10m, 3d. */
export function humanAge(now: number, since: string | undefined): string {
  if (!since) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 3) return `${m}m`;
  if (h < 8) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}
