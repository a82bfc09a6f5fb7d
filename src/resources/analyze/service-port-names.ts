import type { Analyzer } from './context.js';

export const servicePortNameAnalyzer: Analyzer = {
  name: 'service.PortNameAnalyzer',
  description: 'Service port names follow Istio's protocol naming (IST0118, IST0150)',
  analyze() {
    // not written yet
  },
};
