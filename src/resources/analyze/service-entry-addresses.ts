/**
 * Istio's serviceentry.Analyzer (ProtocolAddressesAnalyzer in pkg/config/analysis/analyzers/
 * serviceentry/protocoladdresses.go): a ServiceEntry without addresses cannot be told apart for
 * TCP traffic, so each of its ports whose protocol is TCP or unset is reported (IST0134), unless
 * the proxies allocate addresses themselves: meshConfig.defaultConfig.proxyMetadata with
 * ISTIO_META_DNS_CAPTURE "true" and either ISTIO_META_DNS_AUTO_ALLOCATE or
 * PILOT_ENABLE_IP_AUTOALLOCATE "true". The meshConfig is the IstioOperator's among the inputs, or
 * Istio's default (which sets neither). Istio also exempts entries whose status already lists
 * allocated addresses; files cannot carry a status, so that case does not arise here.
 */
import { Messages } from '../messages.js';
import type { Analyzer } from './context.js';

export const serviceEntryAddressesAnalyzer: Analyzer = {
  name: 'serviceentry.Analyzer',
  description: 'ServiceEntry TCP ports need addresses (IST0134)',
  analyze(ctx) {
    const metadata = ctx.operatorMeshConfig()?.defaultConfig?.proxyMetadata ?? {};
    const autoAllocated = metadata['ISTIO_META_DNS_CAPTURE'] === 'true'
      && (metadata['ISTIO_META_DNS_AUTO_ALLOCATE'] === 'true' || metadata['PILOT_ENABLE_IP_AUTOALLOCATE'] === 'true');
    if (autoAllocated) return;
    for (const se of ctx.of('ServiceEntry')) {
      // `addresses: []` decodes to no addresses in Istio's protobuf types too.
      if ((se.spec.addresses ?? []).length > 0) continue;
      se.spec.ports?.forEach((port, i) => {
        if (port.protocol && port.protocol.toUpperCase() !== 'TCP') return;
        ctx.report(se, Messages.ServiceEntryAddressesRequired, [], ['spec', 'ports', i, 'name']);
      });
    }
  },
};
