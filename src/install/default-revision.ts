/**
 * The default revision tag. istioctl makes the first control plane installed in a mesh "the
 * default for injection and validation", even when it has a revision (the seed installs with
 * `--set revision=1-20-1`, then labels namespaces `istio-injection: enabled`): namespaces and
 * pods that ask for the default revision get that one. Istio keeps the choice in a revision tag
 * webhook; here it is `values.defaultRevision` in the installed state, which the runtime's
 * injector reads when no control plane of the default revision is installed.
 */
import { isMap, mergeFrom, type KubeObject } from './objects.js';
import { COMPONENT_LABEL, REVISION_LABEL, revisionLabel } from './conventions.js';
import type { ResolvedOperator } from './operator.js';

/**
 * `op` with `values.defaultRevision` set to its own revision when no other revision is installed,
 * or when its installed state already says so (so re-running an install keeps the tag).
 */
export function withDefaultTag(op: ResolvedOperator, current: readonly KubeObject[]): { operator: ResolvedOperator; madeDefault: boolean } {
  if (op.revision === '') return { operator: op, madeDefault: false };
  const label = revisionLabel(op.revision);
  const owned = current.filter((o) => o.metadata.labels?.[COMPONENT_LABEL] !== undefined);
  const others = owned.some((o) => o.metadata.labels?.[REVISION_LABEL] !== label);
  const alreadyDefault = owned.some((o) => o.kind === 'IstioOperator' && o.metadata.labels?.[REVISION_LABEL] === label
    && isMap(o.spec) && isMap(o.spec.values) && o.spec.values.defaultRevision === op.revision);
  if (others && !alreadyDefault) return { operator: op, madeDefault: false };
  const merged = mergeFrom(op.merged, { values: { defaultRevision: op.revision } });
  return { operator: { ...op, merged }, madeDefault: !alreadyDefault };
}
