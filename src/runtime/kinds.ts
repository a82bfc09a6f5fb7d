/**
 * The names `weft get` accepts for each kind, as kubectl spells them: plural, singular, short
 * name, and `kind.group`. Shared by the CLI (to refuse a typo before asking the daemon) and the
 * daemon.
 */
import { KINDS, type KindName } from '../resources/index.js';

const SHORT: Partial<Record<KindName, string[]>> = {
  Pod: ['po'], Deployment: ['deploy'], Service: ['svc'], Namespace: ['ns'], ServiceAccount: ['sa'],
  VirtualService: ['vs'], DestinationRule: ['dr'], Gateway: ['gw'], ServiceEntry: ['se'], WorkloadEntry: ['we'],
  PeerAuthentication: ['pa'], RequestAuthentication: ['ra'], AuthorizationPolicy: ['ap'], IstioOperator: ['iop', 'io'],
};

function plural(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower.endsWith('y')) return `${lower.slice(0, -1)}ies`;
  if (lower.endsWith('s')) return `${lower}es`;
  return `${lower}s`;
}

/** `pods`, `po`, `pod`, `Pod`, `deployments.apps` -> the kind name; undefined when unknown. */
export function kindFromName(text: string): KindName | undefined {
  const name = text.toLowerCase().split('.')[0] ?? '';
  for (const def of KINDS) {
    const kind = def.kind as KindName;
    const names = [kind.toLowerCase(), plural(kind), ...(SHORT[kind] ?? [])];
    if (names.includes(name)) return kind;
  }
  return undefined;
}

export function isNamespaced(kind: KindName): boolean {
  return KINDS.find((k) => k.kind === kind)?.namespaced ?? true;
}

export function pluralOf(kind: string): string {
  return plural(kind);
}
