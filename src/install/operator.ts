/**
 * From what the user gave (`-f` files, `--set` flags, `--revision`) to the one IstioOperator spec
 * an install reconciles, in istioctl's order (operator/pkg/render/manifest.go MergeInputs):
 * files merged in order, then the --set flags, then all of that merged over the chosen profile.
 * Every problem names where it came from: `file:line:column` and the field path for a file, the
 * flag itself for a --set.
 */
import { stringify } from 'yaml';
import { loadResources, type ResourceOf, type SourceText } from '../resources/index.js';
import { formatDiagnostic, type Diagnostic } from '../lib/diagnostic.js';
import { isMap, mergeFrom, type PlainMap } from './objects.js';
import { SUPPORTED_PROFILES, isSupportedProfile, profileSpec, type SupportedProfile } from './profiles.js';
import { applySetFlag, parseSetFlag, SetFlagError } from './set-flags.js';
import { DEFAULT_NAMESPACE, DEFAULT_OPERATOR_NAME, installedStateName, normalizeRevision } from './conventions.js';

export type IstioOperatorSpec = ResourceOf<'IstioOperator'>['spec'];

export interface InstallInput {
  files: readonly SourceText[];
  sets: readonly string[];
  /** `--revision R`: the same as `--set revision=R`, applied last. */
  revision?: string;
}

export interface ResolvedOperator {
  /** The user's IstioOperator name (`installed-state` when it has none): the owner label's value. */
  name: string;
  /** The control plane namespace. */
  namespace: string;
  /** '' for the default revision. */
  revision: string;
  profile: SupportedProfile;
  /** The merged spec, typed. */
  spec: IstioOperatorSpec;
  /** The merged spec as data, as it is stored in the installed-state IstioOperator. */
  merged: PlainMap;
}

export type Resolution =
  | { ok: true; operator: ResolvedOperator; warnings: string[] }
  | { ok: false; errors: string[]; warnings: string[] };

const API_VERSION = 'install.istio.io/v1alpha1';

/** A flag as the user wrote it (`--set a=b`, `--revision r`) and the field path it set. */
interface AppliedFlag {
  shown: string;
  path: string;
}

export function resolveOperator(input: InstallInput): Resolution {
  const errors: string[] = [];
  const warnings: string[] = [];
  let user: PlainMap = { apiVersion: API_VERSION, kind: 'IstioOperator', metadata: {}, spec: {} };
  let profileFrom: string | undefined;

  for (const source of input.files) {
    const loaded = loadResources([source], { defaultNamespace: DEFAULT_NAMESPACE, defaultName: DEFAULT_OPERATOR_NAME });
    for (const d of loaded.diagnostics) (d.level === 'Error' ? errors : warnings).push(formatDiagnostic(d));
    if (!loaded.ok) continue;
    const others = loaded.resources.filter((r) => r.kind !== 'IstioOperator');
    for (const r of others) errors.push(`${where(r.source, [])} ${r.kind} ${r.metadata.name}: weft install takes IstioOperator resources only; apply other resources with weft apply`);
    const operators = loaded.resources.filter((r): r is ResourceOf<'IstioOperator'> => r.kind === 'IstioOperator');
    if (operators.length !== 1) {
      errors.push(`${source.file}: contains ${operators.length} IstioOperator resources; exactly one per file is supported`);
      continue;
    }
    const raw = operators[0]!.raw;
    if (operators[0]!.spec.profile !== undefined) profileFrom = `${where(operators[0]!.source, ['spec', 'profile'])} spec.profile`;
    user = mergeFrom(user, isMap(raw.spec) ? raw : { ...raw, spec: {} });
  }
  if (errors.length > 0) return { ok: false, errors, warnings };

  const flags: AppliedFlag[] = [];
  const before = structuredClone(user);
  const spec = user.spec as PlainMap;
  const setTexts = [
    ...input.sets.map((text) => ({ text, shown: `--set ${text}` })),
    ...(input.revision !== undefined ? [{ text: `revision=${input.revision}`, shown: `--revision ${input.revision}` }] : []),
  ];
  for (const { text, shown } of setTexts) {
    try {
      const flag = parseSetFlag(text);
      flags.push({ shown, path: applySetFlag(spec, flag) });
      if (flags.at(-1)!.path === 'spec.profile') profileFrom = shown;
    } catch (err) {
      if (!(err instanceof SetFlagError)) throw err;
      errors.push(err.message);
    }
  }
  nameGateways(spec);
  // Flags that applied are still checked, so one run reports every bad flag.
  if (flags.length > 0) checkFlags(before, user, flags, errors, warnings);
  if (errors.length > 0) return { ok: false, errors, warnings };

  const profile = typeof spec.profile === 'string' && spec.profile !== '' ? spec.profile : 'default';
  if (!isSupportedProfile(profile)) {
    errors.push(`${profileFrom ?? 'spec.profile'}: profile "${profile}" is not supported by weft install; use one of ${SUPPORTED_PROFILES.join(', ')}`);
    return { ok: false, errors, warnings };
  }
  const merged = mergeFrom(profileSpec(profile), spec);
  merged.profile = profile;
  const revision = normalizeRevision(typeof merged.revision === 'string' ? merged.revision : undefined);
  if (revision === '') delete merged.revision;
  else merged.revision = revision;

  const meta = (isMap(user.metadata) ? user.metadata : {}) as { name?: unknown };
  const name = typeof meta.name === 'string' && meta.name !== '' ? meta.name : DEFAULT_OPERATOR_NAME;
  const values = isMap(merged.values) ? merged.values : {};
  const global = isMap(values.global) ? values.global : {};
  const namespace = [merged.namespace, global.istioNamespace].find((n): n is string => typeof n === 'string' && n !== '') ?? DEFAULT_NAMESPACE;

  // The merged spec must be a valid IstioOperator; a failure here means a profile and the user's
  // settings combine into something invalid, which the checks above cannot see on their own.
  const doc = { apiVersion: API_VERSION, kind: 'IstioOperator', metadata: { name: installedStateName(name, revision), namespace }, spec: merged };
  const loaded = loadResources([{ file: `profile ${profile} + your settings`, text: stringify(doc) }]);
  const typed = loaded.resources[0];
  if (!loaded.ok || !typed || typed.kind !== 'IstioOperator') {
    for (const d of loaded.diagnostics) if (d.level === 'Error') errors.push(`the ${profile} profile merged with your settings is invalid: ${d.location?.path ?? ''}: ${d.message}`);
    return { ok: false, errors, warnings };
  }
  for (const [component, what] of [['cni', 'a CNI plugin'], ['ztunnel', 'ztunnel (ambient mode)'], ['istiodRemote', 'a remote control plane']] as const) {
    if (typed.spec.components?.[component]?.enabled) warnings.push(`components.${component} is enabled, but the local runtime has no ${what}; it is not installed`);
  }
  return { ok: true, operator: { name, namespace, revision, profile, spec: typed.spec, merged }, warnings };
}

/**
 * A gateway entry without a name gets its chart's (istio-ingressgateway, istio-egressgateway),
 * as in istioctl: `--set components.ingressGateways[0].k8s.replicaCount=3` alone scales the
 * default ingress gateway.
 */
function nameGateways(spec: PlainMap): void {
  const components = spec.components;
  if (!isMap(components)) return;
  for (const direction of ['ingress', 'egress'] as const) {
    const list = components[`${direction}Gateways`];
    if (!Array.isArray(list)) continue;
    for (const gw of list) if (isMap(gw) && (gw.name === undefined || gw.name === '')) gw.name = `istio-${direction}gateway`;
  }
}

/**
 * Validates the user's spec after the flags. A problem that was not there before them is theirs:
 * it names the flag whose path shares the most with the problem's (the last such flag).
 */
function checkFlags(before: PlainMap, after: PlainMap, flags: readonly AppliedFlag[], errors: string[], warnings: string[]): void {
  const validate = (doc: PlainMap) => loadResources([{ file: '--set', text: stringify(doc) }], { defaultNamespace: DEFAULT_NAMESPACE, defaultName: DEFAULT_OPERATOR_NAME }).diagnostics;
  const known = new Set(validate(before).map((d) => `${d.location?.path ?? ''}|${d.message}`));
  for (const d of validate(after)) {
    if (known.has(`${d.location?.path ?? ''}|${d.message}`)) continue;
    const path = d.location?.path ?? '';
    let owner = flags[flags.length - 1]!;
    let best = -1;
    for (const f of flags) {
      const shared = sharedLength(f.path, path);
      if (shared >= best) [owner, best] = [f, shared];
    }
    (d.level === 'Error' ? errors : warnings).push(`${owner.shown}: ${message(d)}`);
  }
}

/** Length of the common prefix of two field paths, in whole path elements. */
function sharedLength(a: string, b: string): number {
  const pa = a.split(/(?=[.[])/);
  const pb = b.split(/(?=[.[])/);
  let n = 0;
  while (n < pa.length && n < pb.length && pa[n] === pb[n]) n++;
  return n;
}

function message(d: Diagnostic): string {
  return `${d.location?.path ? `${d.location.path}: ` : ''}${d.message}`;
}

function where(source: { file: string; locate(path: (string | number)[]): { line: number; column: number } } | undefined, path: (string | number)[]): string {
  if (!source) return '';
  const pos = source.locate(path);
  return `${source.file}:${pos.line}:${pos.column}`;
}
