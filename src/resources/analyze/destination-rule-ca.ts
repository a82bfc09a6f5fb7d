/**
 * Istio's destinationrule.CaCertificateAnalyzer (pkg/config/analysis/analyzers/destinationrule/
 * ca-certificates.go): SIMPLE or MUTUAL TLS in a DestinationRule's traffic policy (IST0128) or a
 * port-level setting (IST0129) without caCertificates does not verify the server's identity.
 * A credentialName is an exemption only when the DestinationRule has a workloadSelector, as in
 * Istio. Subset traffic policies are not checked, as in Istio.
 */
import type { ClientTlsSettings } from '../istio/destination-rule.js';
import { Messages } from '../messages.js';
import type { Analyzer } from './context.js';

export const destinationRuleCaAnalyzer: Analyzer = {
  name: 'destinationrule.CaCertificateAnalyzer',
  description: 'DestinationRule TLS without caCertificates (IST0128, IST0129)',
  analyze(ctx) {
    for (const dr of ctx.of('DestinationRule')) {
      const { host, trafficPolicy, workloadSelector } = dr.spec;
      const name = `${dr.metadata.namespace}/${dr.metadata.name}`;
      const unverified = (tls: ClientTlsSettings | undefined): tls is ClientTlsSettings =>
        (tls?.mode === 'SIMPLE' || tls?.mode === 'MUTUAL') && !tls.caCertificates && !(tls.credentialName && workloadSelector);

      const tls = trafficPolicy?.tls;
      if (unverified(tls)) {
        ctx.report(dr, Messages.NoServerCertificateVerificationDestinationLevel, [name, dr.metadata.namespace, tls.mode, host],
          ['spec', 'trafficPolicy', 'tls', 'mode']);
      }
      trafficPolicy?.portLevelSettings?.forEach((p, i) => {
        if (!unverified(p.tls)) return;
        // Istio prints the PortSelector message in protobuf text form.
        const port = p.port?.number !== undefined ? `number:${p.port.number}` : '';
        ctx.report(dr, Messages.NoServerCertificateVerificationPortLevel, [name, dr.metadata.namespace, p.tls.mode, host, port],
          ['spec', 'trafficPolicy', 'portLevelSettings', i, 'tls', 'mode']);
      });
    }
  },
};
