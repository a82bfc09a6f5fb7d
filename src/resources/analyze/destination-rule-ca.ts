import type { Analyzer } from './context.js';

export const destinationRuleCaAnalyzer: Analyzer = {
  name: 'destinationrule.CaCertificateAnalyzer',
  description: 'DestinationRule TLS without caCertificates (IST0128, IST0129)',
  analyze() {
    // not written yet
  },
};
