/** `weft install` and `weft uninstall` without the CLI: resolve, render, plan, apply. */
export { resolveOperator, type InstallInput, type ResolvedOperator, type Resolution } from './operator.js';
export { renderInstall } from './render.js';
export { withDefaultTag } from './default-revision.js';
export { planInstall, planUninstall, formatPlan, ownedBy, type PlanStep, type PlanAction } from './plan.js';
export { applyPlan, proxiesOf, gatewaysRemoved, installedRevisions, type InstallTarget } from './reconcile.js';
export { normalizeRevision, revisionLabel, istiodName, installedStateName, COMPONENT_LABEL, OWNER_LABEL, REVISION_LABEL } from './conventions.js';
export { SUPPORTED_PROFILES } from './profiles.js';
export type { KubeObject } from './objects.js';
