/**
 * Which access logs a proxy writes, from Telemetry resources (Istio's Telemetries.AccessLogging and
 * mergeLogs, pilot/pkg/model/telemetry.go). The Telemetries that apply are, in this order, the
 * first namespace-wide one of the root namespace (mesh-wide), the first namespace-wide one of the
 * proxy's namespace, and the first of that namespace whose selector matches the proxy (oldest
 * first at each level), so a workload's setting overrides its namespace's, which overrides the
 * mesh's. Each accessLogging entry names providers (none: those of the entry before it, starting
 * from meshConfig.defaultProviders.accessLogging) and turns them on, or off with `disabled`, for
 * the side its `match.mode` selects: the server side is the inbound listener, the client side the
 * outbound and gateway listeners.
 *
 * With no Telemetry accessLogging and no default providers the mesh's accessLogFile decides, as
 * in Istio; otherwise Telemetry decides alone. Providers are meshConfig.extensionProviders of kind
 * envoyFileAccessLog plus Istio's built-in `envoy` (/dev/stdout); other kinds write nothing here.
 * A provider's `filter.expression` (CEL, the last one an entry naming that provider gives, as
 * Istio's mergeLogs keeps it) goes with it to the proxy, which logs only what it matches.
 */
import type { AccessLogSettings, MeshRuntimeConfig, ProxyNode } from '../../proxy-config/index.js';
import type { ResourceOf } from '../../resources/index.js';
import { labelsMatch } from '../../registry/index.js';
import type { Snapshot } from '../snapshot.js';

type Telemetry = ResourceOf<'Telemetry'>;
type AccessLogging = NonNullable<Telemetry['spec']['accessLogging']>[number];
type Side = 'CLIENT' | 'SERVER';

const BUILTIN_PROVIDERS: Record<string, AccessLogSettings | null> = { envoy: { encoding: 'TEXT', file: '/dev/stdout' } };

const hasSelector = (t: Telemetry): boolean => Object.keys(t.spec.selector?.matchLabels ?? {}).length > 0;
const namespaceWide = (t: Telemetry): boolean => !hasSelector(t) && !t.spec.targetRef && (t.spec.targetRefs?.length ?? 0) === 0;

/** The Telemetries that apply to a proxy, mesh first, each with its accessLogging entries. */
export function applicableTelemetries(snapshot: Snapshot, node: Pick<ProxyNode, 'namespace' | 'labels'>): Telemetry[] {
  const { telemetries, mesh } = snapshot;
  const out: Telemetry[] = [];
  const root = telemetries.find((t) => t.metadata.namespace === mesh.rootNamespace && namespaceWide(t));
  if (root) out.push(root);
  if (node.namespace !== mesh.rootNamespace) {
    const ns = telemetries.find((t) => t.metadata.namespace === node.namespace && namespaceWide(t));
    if (ns) out.push(ns);
  }
  const workload = telemetries.find((t) => t.metadata.namespace === node.namespace && hasSelector(t) && labelsMatch(t.spec.selector?.matchLabels, node.labels));
  if (workload) out.push(workload);
  return out;
}

/** The access-log fields of a proxy's MeshRuntimeConfig. */
export function accessLogConfig(snapshot: Snapshot, node: Pick<ProxyNode, 'namespace' | 'labels'>): Pick<MeshRuntimeConfig, 'accessLog' | 'accessLogs'> {
  const levels = applicableTelemetries(snapshot, node).map((t) => t.spec.accessLogging ?? []).filter((l) => l.length > 0);
  const defaults = snapshot.mesh.defaultAccessLogProviders ?? [];
  if (levels.length === 0 && defaults.length === 0) return snapshot.mesh.accessLog ? { accessLog: snapshot.mesh.accessLog } : {};

  const client = mergeLogs(levels, defaults, 'CLIENT');
  const server = mergeLogs(levels, defaults, 'SERVER');
  const providers = snapshot.mesh.accessLogProviders ?? BUILTIN_PROVIDERS;
  const accessLogs: NonNullable<MeshRuntimeConfig['accessLogs']> = [];
  const filters = new Map<string, string | undefined>();
  for (const level of levels) for (const entry of level) for (const p of names(entry)) filters.set(p, entry.filter?.expression);
  for (const name of [...new Set([...client, ...server])].sort()) {
    const settings = lookupProvider(providers, name);
    if (!settings) continue;
    const mode: Side | undefined = client.has(name) && server.has(name) ? undefined : client.has(name) ? 'CLIENT' : 'SERVER';
    const filter = filters.get(name);
    accessLogs.push({ ...settings, ...(mode ? { mode } : {}), ...(filter ? { filter } : {}) });
  }
  return { accessLogs };
}

/** Istio's mergeLogs for one side: the provider names left on. */
function mergeLogs(levels: readonly AccessLogging[][], defaults: readonly string[], side: Side): Set<string> {
  if (levels.length === 0) return new Set(defaults);
  // Only the providers of the most specific level that names any are in scope.
  let inScope: readonly string[] = defaults;
  for (const level of levels) {
    const named = level.flatMap((l) => names(l));
    if (named.length > 0) inScope = named;
  }
  const scope = new Set(inScope);
  const on = new Set<string>();
  let parent: readonly string[] = defaults;
  for (const level of levels) {
    for (const entry of level) {
      const current = names(entry).length > 0 ? names(entry) : parent;
      parent = current;
      const mode = entry.match?.mode ?? 'CLIENT_AND_SERVER';
      if (mode !== 'CLIENT_AND_SERVER' && mode !== side) continue;
      for (const p of current) {
        if (!scope.has(p)) continue;
        if (entry.disabled === true) on.delete(p);
        else on.add(p);
      }
    }
  }
  return on;
}

function names(entry: AccessLogging): string[] {
  return (entry.providers ?? []).map((p) => p.name);
}

/** Istio's fetchProvider: names compare case-insensitively; the first definition wins. */
function lookupProvider(providers: Record<string, AccessLogSettings | null>, name: string): AccessLogSettings | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(providers)) if (key.toLowerCase() === wanted) return value ?? undefined;
  return undefined;
}
