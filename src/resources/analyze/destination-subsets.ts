import type { Analyzer } from './context.js';

export const destinationSubsetAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationRuleAnalyzer',
  description: 'VirtualService destination subsets are defined by a DestinationRule (IST0101)',
  analyze() {
    // not written yet
  },
};
