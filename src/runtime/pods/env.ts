/**
 * A container's environment as the kubelet builds it: `env` in order, each value able to refer to
 * earlier ones as `$(NAME)` (`$$` escapes), the downward API's `fieldRef`s resolved from the pod,
 * and the same expansion applied to command and args. Sources the local runtime has no object for
 * (ConfigMaps, Secrets) are reported, not silently left empty.
 */
import type { Container } from '../../resources/kube/container.js';

export interface PodFields {
  name: string;
  namespace: string;
  uid: string;
  serviceAccountName: string;
  podIP: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
}

export interface ResolvedEnv {
  env: Record<string, string>;
  problems: string[];
}

export function fieldValue(path: string, pod: PodFields): string | undefined {
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (keyed) return (keyed[1] === 'labels' ? pod.labels : pod.annotations)[keyed[2] ?? ''] ?? '';
  switch (path) {
    case 'metadata.name': return pod.name;
    case 'metadata.namespace': return pod.namespace;
    case 'metadata.uid': return pod.uid;
    case 'spec.serviceAccountName': return pod.serviceAccountName;
    case 'spec.nodeName': return 'weft-local';
    case 'status.podIP': case 'status.podIPs': return pod.podIP;
    case 'status.hostIP': case 'status.hostIPs': return '127.0.0.1';
    default: return undefined;
  }
}

export function resolveEnv(container: Container, pod: PodFields, base: Record<string, string>): ResolvedEnv {
  const env: Record<string, string> = { ...base };
  const problems: string[] = [];
  if ((container.envFrom ?? []).length > 0) problems.push('envFrom (ConfigMaps and Secrets) is not supported by the local runtime');
  for (const e of container.env ?? []) {
    if (e.value !== undefined || !e.valueFrom) {
      env[e.name] = expand(e.value ?? '', env);
      continue;
    }
    const ref = e.valueFrom.fieldRef;
    const value = ref ? fieldValue(ref.fieldPath, pod) : undefined;
    if (value === undefined) {
      problems.push(ref ? `env ${e.name}: fieldRef ${ref.fieldPath} is not supported` : `env ${e.name}: only fieldRef values are supported by the local runtime`);
      continue;
    }
    env[e.name] = value;
  }
  return { env, problems };
}

/** Kubernetes' $(VAR) expansion: known names are replaced, unknown ones left as written, `$$` is `$`. */
export function expand(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && env[name] !== undefined ? env[name] : match;
  });
}
