/**
 * Names and labels an install gives what it renders. They are Istio's own (istioctl labels every
 * object it installs this way), so a plan, an uninstall and the local runtime can find what an
 * install owns, which revision it belongs to, and which control plane a namespace or pod selects.
 */

/** Which part of the install an object belongs to: Pilot, IngressGateways, EgressGateways. */
export const COMPONENT_LABEL = 'operator.istio.io/component';
/** The IstioOperator (metadata.name) that installed the object. */
export const OWNER_LABEL = 'install.operator.istio.io/owning-resource';
export const OWNER_NAMESPACE_LABEL = 'install.operator.istio.io/owning-resource-namespace';
/** The control plane revision: `default` for an install without one. */
export const REVISION_LABEL = 'istio.io/rev';
/**
 * Hash of the object as rendered. A plan compares only the fields an install sets (the runtime
 * adds its own), so a field the install stopped setting shows up only through this hash.
 */
export const HASH_ANNOTATION = 'weft.io/install-hash';

export type ComponentName = 'Pilot' | 'IngressGateways' | 'EgressGateways' | 'InstalledState';

export const DEFAULT_NAMESPACE = 'istio-system';
export const DEFAULT_OPERATOR_NAME = 'installed-state';

/** `--revision default` and no revision are the same control plane. */
export function normalizeRevision(revision: string | undefined): string {
  return revision === undefined || revision === 'default' ? '' : revision;
}

/** The value of the `istio.io/rev` label: `default` for the default revision. */
export function revisionLabel(revision: string): string {
  return revision === '' ? 'default' : revision;
}

/** `istiod` or `istiod-<revision>`: the Deployment, Service and ServiceAccount of a control plane. */
export function istiodName(revision: string): string {
  return revision === '' ? 'istiod' : `istiod-${revision}`;
}

/**
 * Where istioctl kept the merged spec it installed: `installed-state[-<operator name>][-<revision>]`
 * in the control plane namespace (operator/cmd/mesh/install.go savedIOPName, Istio <= 1.22).
 */
export function installedStateName(operatorName: string, revision: string): string {
  let name = 'installed-state';
  if (operatorName !== '' && operatorName !== DEFAULT_OPERATOR_NAME) name += `-${operatorName}`;
  if (revision !== '') name += `-${revision}`;
  return name;
}

/** The labels every rendered object carries (Namespaces excepted: see render.ts). */
export function installLabels(component: ComponentName, owner: string, ownerNamespace: string, revision: string): Record<string, string> {
  return {
    [OWNER_LABEL]: owner,
    [OWNER_NAMESPACE_LABEL]: ownerNamespace,
    [REVISION_LABEL]: revisionLabel(revision),
    [COMPONENT_LABEL]: component,
  };
}
