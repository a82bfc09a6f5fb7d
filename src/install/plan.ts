/**
 * The plan: what an install or uninstall changes, from what is installed now and what is wanted.
 * An object is compared on the fields the install sets (the runtime adds status, uids and
 * timestamps of its own), plus the install hash, which catches a field the install stopped
 * setting. Printed like `+ Deployment istio-system/istiod (replicas 2)`; nothing to do reads
 * "no changes". Namespaces are created when missing and never changed or removed.
 */
import { formatPath } from '../lib/field-path.js';
import { isMap, objectKey, objectName, type KubeObject } from './objects.js';
import { COMPONENT_LABEL, HASH_ANNOTATION, REVISION_LABEL, revisionLabel } from './conventions.js';
import { compareObjects } from './render.js';

export type PlanAction = 'create' | 'change' | 'remove';

export interface PlanStep {
  action: PlanAction;
  /** The wanted object (create, change) or the installed one (remove). */
  object: KubeObject;
  /** `replicas 2`, `replicas 2 -> 3`: what a reader needs to judge the step. */
  detail: string;
}

/** Every object an install owns carries the component label; these are the ones of `revision`. */
export function ownedBy(objects: readonly KubeObject[], revision: string | 'all'): KubeObject[] {
  return objects.filter((o) => {
    const labels = o.metadata.labels ?? {};
    return labels[COMPONENT_LABEL] !== undefined && (revision === 'all' || labels[REVISION_LABEL] === revisionLabel(revision));
  });
}

/**
 * Install: create what is missing, change what differs, remove what this revision owns and no
 * longer wants. A gateway installed by another revision and wanted by this one changes owner
 * in place, as istioctl upgrades gateways in place.
 */
export function planInstall(current: readonly KubeObject[], desired: readonly KubeObject[], revision: string): PlanStep[] {
  const byKey = new Map(current.map((o) => [objectKey(o), o]));
  const steps: PlanStep[] = [];
  for (const want of desired) {
    const have = byKey.get(objectKey(want));
    if (!have) steps.push({ action: 'create', object: want, detail: summary(want) });
    else if (want.kind !== 'Namespace') {
      const changes = differences(want, have);
      if (changes.length > 0) steps.push({ action: 'change', object: want, detail: describeChanges(changes) });
    }
  }
  const wanted = new Set(desired.map(objectKey));
  const removals = ownedBy(current, revision).filter((o) => !wanted.has(objectKey(o)));
  return [...steps, ...removalSteps(removals)];
}

/** Uninstall: remove what the revision owns, or with `all` everything any install owns. */
export function planUninstall(current: readonly KubeObject[], revision: string | 'all'): PlanStep[] {
  return removalSteps(ownedBy(current, revision));
}

function removalSteps(objects: readonly KubeObject[]): PlanStep[] {
  // Pods go before the Services and identities they use; the installed state goes last.
  return [...objects].sort(compareObjects).reverse().map((object) => ({ action: 'remove', object, detail: '' }));
}

export function formatPlan(steps: readonly PlanStep[]): string {
  if (steps.length === 0) return 'no changes\n';
  const mark = { create: '+', change: '~', remove: '-' } as const;
  return steps.map((s) => `${mark[s.action]} ${objectName(s.object)}${s.detail ? ` (${s.detail})` : ''}\n`).join('');
}

function summary(o: KubeObject): string {
  const spec = isMap(o.spec) ? o.spec : {};
  if (o.kind === 'Deployment') return `replicas ${String(spec.replicas ?? 1)}`;
  if (o.kind === 'Service') {
    const ports = Array.isArray(spec.ports) ? spec.ports.filter(isMap).map((p) => String(p.port)) : [];
    return `${String(spec.type ?? 'ClusterIP')} ${ports.join(', ')}`.trim();
  }
  if (o.kind === 'IstioOperator') return `profile ${String(spec.profile ?? 'default')}, revision ${revisionLabel(typeof spec.revision === 'string' ? spec.revision : '')}`;
  return '';
}

interface Change {
  path: (string | number)[];
  from: unknown;
  to: unknown;
}

/** Fields of `want` that `have` does not hold as wanted; the hash catches fields no longer set. */
export function differences(want: KubeObject, have: KubeObject): Change[] {
  const changes: Change[] = [];
  walk(want, have, [], changes);
  const wantHash = want.metadata.annotations?.[HASH_ANNOTATION];
  if (changes.length === 0 && wantHash !== undefined && have.metadata.annotations?.[HASH_ANNOTATION] !== wantHash) {
    changes.push({ path: [], from: undefined, to: undefined });
  }
  return changes;
}

function walk(want: unknown, have: unknown, path: (string | number)[], out: Change[]): void {
  if (isMap(want)) {
    if (!isMap(have)) {
      out.push({ path, from: have, to: want });
      return;
    }
    for (const [key, value] of Object.entries(want)) {
      if (path.length === 2 && path[0] === 'metadata' && path[1] === 'annotations' && key === HASH_ANNOTATION) continue;
      walk(value, have[key], [...path, key], out);
    }
  } else if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) {
      out.push({ path, from: have, to: want });
      return;
    }
    want.forEach((item, i) => walk(item, have[i], [...path, i], out));
  } else if (want !== have) {
    out.push({ path, from: have, to: want });
  }
}

function describeChanges(changes: readonly Change[]): string {
  const shown = changes.slice(0, 3).map((c) => {
    if (c.path.length === 0) return 'settings removed since the last install';
    // `spec.replicas` reads better as `replicas`; other paths are kept whole to stay unambiguous.
    const path = c.path[0] === 'spec' && c.path.length > 1 && typeof c.path[1] === 'string' && c.path.length === 2 ? formatPath(c.path.slice(1)) : formatPath(c.path);
    return isScalar(c.from) && isScalar(c.to) ? `${path} ${show(c.from)} -> ${show(c.to)}` : `${path} changed`;
  });
  const more = changes.length > 3 ? `, and ${changes.length - 3} more` : '';
  return `${shown.join(', ')}${more}`;
}

function isScalar(value: unknown): boolean {
  return value === undefined || value === null || typeof value !== 'object';
}

function show(value: unknown): string {
  return value === undefined ? '(unset)' : String(value);
}
