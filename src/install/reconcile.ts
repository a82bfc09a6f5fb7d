/**
 * Carrying out a plan against wherever the mesh runs, behind a small interface: the CLI hands in
 * the local runtime's client (src/cli/commands/install.ts); tests hand in their own. Also the
 * checks istioctl makes before an uninstall: proxies still served by the revision, gateways
 * about to go.
 */
import { isMap, objectName, type KubeObject } from './objects.js';
import { COMPONENT_LABEL, REVISION_LABEL, revisionLabel } from './conventions.js';
import type { PlanStep } from './plan.js';

export interface InstallTarget {
  /** Every Namespace, ServiceAccount, Service, Deployment and IstioOperator there is. */
  list(): Promise<KubeObject[]>;
  /** Creates or replaces the objects, all or nothing. Returns one line per object. */
  apply(objects: readonly KubeObject[]): Promise<string[]>;
  /** Deletes the objects (as listed). Returns one line per object. */
  remove(objects: readonly KubeObject[]): Promise<string[]>;
  /** The running pods. */
  pods(): Promise<KubeObject[]>;
}

/** Applies creations and changes first (a new control plane is up before an old one goes), then removals. */
export async function applyPlan(target: InstallTarget, steps: readonly PlanStep[]): Promise<string[]> {
  const upserts = steps.filter((s) => s.action !== 'remove').map((s) => s.object);
  const removals = steps.filter((s) => s.action === 'remove').map((s) => s.object);
  const lines: string[] = [];
  if (upserts.length > 0) lines.push(...(await target.apply(upserts)));
  if (removals.length > 0) lines.push(...(await target.remove(removals)));
  return lines;
}

/**
 * Pods whose proxy the revision serves (`namespace/name`): sidecars by the revision the injector
 * recorded (`sidecar.istio.io/status`), gateways by their `istio.io/rev` label. The install's own
 * gateway pods are left out: the gateway warning covers them.
 */
export function proxiesOf(pods: readonly KubeObject[], revision: string): string[] {
  const wanted = revisionLabel(revision);
  return pods.filter((p) => {
    const labels = p.metadata.labels ?? {};
    if (labels[COMPONENT_LABEL] !== undefined) return false;
    return proxyRevision(p) === wanted;
  }).map((p) => `${p.metadata.namespace ?? ''}/${p.metadata.name}`).sort();
}

function proxyRevision(pod: KubeObject): string | undefined {
  const status = pod.metadata.annotations?.['sidecar.istio.io/status'];
  if (status) {
    try {
      const parsed: unknown = JSON.parse(status);
      if (isMap(parsed) && typeof parsed.revision === 'string') return parsed.revision === '' ? 'default' : parsed.revision;
    } catch {
      // Not the injector's JSON: fall through to the label.
    }
  }
  const spec = isMap(pod.spec) ? pod.spec : {};
  const containers = Array.isArray(spec.containers) ? spec.containers.filter(isMap) : [];
  if (!containers.some((c) => c.name === 'istio-proxy')) return undefined;
  return pod.metadata.labels?.[REVISION_LABEL] ?? 'default';
}

/** Gateway Deployments a plan removes (istioctl warns: traffic through them stops). */
export function gatewaysRemoved(steps: readonly PlanStep[]): string[] {
  return steps
    .filter((s) => s.action === 'remove' && s.object.kind === 'Deployment' && /Gateways$/.test(s.object.metadata.labels?.[COMPONENT_LABEL] ?? ''))
    .map((s) => objectName(s.object));
}

/** The revisions installed (`default` for the default revision), from the installed objects. */
export function installedRevisions(objects: readonly KubeObject[]): string[] {
  const revisions = new Set<string>();
  for (const o of objects) {
    const labels = o.metadata.labels ?? {};
    if (labels[COMPONENT_LABEL] !== undefined && labels[REVISION_LABEL] !== undefined) revisions.add(labels[REVISION_LABEL]);
  }
  return [...revisions].sort();
}
