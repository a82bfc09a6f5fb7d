/**
 * Render: the merged IstioOperator spec -> the Kubernetes-shaped objects the local runtime
 * applies like any user manifest. Pure and deterministic (same spec, same objects, same order),
 * so it is pinned by golden files (testdata/). Names and labels: conventions.ts; the control
 * plane: render-control-plane.ts; gateways: render-gateways.ts.
 */
import { createHash } from 'node:crypto';
import type { ResolvedOperator } from './operator.js';
import { canonicalJson, type KubeObject } from './objects.js';
import { HASH_ANNOTATION, installLabels, installedStateName } from './conventions.js';
import { renderControlPlane } from './render-control-plane.js';
import { renderGateways } from './render-gateways.js';

/** Apply order: a namespace before what lives in it, identities before the pods that use them. */
const KIND_ORDER = ['Namespace', 'ServiceAccount', 'Service', 'Deployment', 'IstioOperator'];

export function renderInstall(op: ResolvedOperator): KubeObject[] {
  const components = [...renderControlPlane(op), ...renderGateways(op)];
  // The installed spec, as istioctl stored it: the control plane of this revision reads its
  // meshConfig here, and the injector its proxy values (values.global.proxy).
  const installedState: KubeObject = {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: {
      name: installedStateName(op.name, op.revision),
      namespace: op.namespace,
      labels: installLabels('InstalledState', op.name, op.namespace, op.revision),
    },
    spec: op.merged,
  };
  const owned = [...components, installedState].map(withHash);
  // Namespaces are created when absent and never owned: istioctl leaves istio-system in place on
  // uninstall, and an `istio.io/rev` label on a namespace would opt its pods into injection.
  const namespaces = [...new Set(owned.map((o) => o.metadata.namespace ?? ''))].filter((n) => n !== '')
    .map((name): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  return [...namespaces, ...owned].sort(compareObjects);
}

/** The object with the hash of its own content in an annotation (see HASH_ANNOTATION). */
export function withHash(object: KubeObject): KubeObject {
  const hash = createHash('sha256').update(canonicalJson(object)).digest('hex').slice(0, 16);
  return { ...object, metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [HASH_ANNOTATION]: hash } } };
}

export function compareObjects(a: KubeObject, b: KubeObject): number {
  const ka = KIND_ORDER.indexOf(a.kind);
  const kb = KIND_ORDER.indexOf(b.kind);
  if (ka !== kb) return ka - kb;
  const na = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
  const nb = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
  return na < nb ? -1 : na > nb ? 1 : 0;
}
