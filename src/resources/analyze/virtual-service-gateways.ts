import type { Analyzer } from './context.js';

export const virtualServiceGatewayAnalyzer: Analyzer = {
  name: 'virtualservice.GatewayAnalyzer',
  description: 'VirtualService gateways exist (IST0101) and carry the VirtualService hosts (IST0132)',
  analyze() {
    // not written yet
  },
};
