/**
 * Istio's serviceentry.ConflictingServiceEntryProtocolAnalyzer (pkg/config/analysis/analyzers/
 * serviceentry/conflictingserviceentries.go): ServiceEntries visible in one scope (an exportTo
 * namespace, plus those exported to all) that define the same host and port with different
 * protocols (compared case-insensitively; unset counts as its own value) are each reported once
 * (IST0177). Hosts are compared as written, as Istio does.
 */
import type { ResourceOf } from '../kinds.js';
import { Messages } from '../messages.js';
import type { Analyzer } from './context.js';

type ServiceEntry = ResourceOf<'ServiceEntry'>;

interface Entry {
  protocol: string;
  se: ServiceEntry;
}

export const serviceEntryProtocolAnalyzer: Analyzer = {
  name: 'serviceentry.ConflictingServiceEntryProtocolAnalyzer',
  description: 'ServiceEntries defining one host and port with different protocols (IST0177)',
  analyze(ctx) {
    // (scope, host, port) -> entries; a Map keeps insertion order, so reports are deterministic.
    const index = new Map<string, Entry[]>();
    const keyOf = (scope: string, host: string, port: number): string => JSON.stringify([scope, host, port]);
    for (const se of ctx.of('ServiceEntry')) {
      for (const scope of exportScopes(se)) {
        for (const host of se.spec.hosts) {
          for (const p of se.spec.ports ?? []) {
            const key = keyOf(scope, host, p.number);
            index.set(key, [...(index.get(key) ?? []), { protocol: p.protocol ?? '', se }]);
          }
        }
      }
    }

    const reported = new Set<ServiceEntry>();
    for (const [key, own] of index) {
      const [scope, host, port] = JSON.parse(key) as [string, string, number];
      const entries = scope === '*' ? own : [...own, ...(index.get(keyOf('*', host, port)) ?? [])];
      const protocols = [...new Set(entries.map((e) => e.protocol.toUpperCase()))].sort();
      if (protocols.length < 2) continue;
      const names = [...new Set(entries.map((e) => `${e.se.metadata.namespace}/${e.se.metadata.name}`))].sort();
      for (const e of entries) {
        if (reported.has(e.se)) continue;
        reported.add(e.se);
        ctx.report(e.se, Messages.ConflictingServiceEntryProtocol, [names.join(', '), host, port, protocols.join(', ')], ['metadata', 'name']);
      }
    }
  },
};

/** Istio's exportToScopes: `*` (also for no exportTo), or each named namespace with `.` as its own. */
function exportScopes(se: ServiceEntry): Set<string> {
  const exportTo = se.spec.exportTo ?? [];
  if (exportTo.length === 0 || exportTo.includes('*')) return new Set(['*']);
  return new Set(exportTo.map((e) => (e === '.' ? se.metadata.namespace : e)));
}
