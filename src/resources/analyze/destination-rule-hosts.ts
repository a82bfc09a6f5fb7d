import type { Analyzer } from './context.js';

export const destinationRuleHostAnalyzer: Analyzer = {
  name: 'destinationrule.SubsetSelectPodAnalyzer',
  description: 'DestinationRule hosts exist (IST0174) and subsets select workloads (IST0173)',
  analyze() {
    // not written yet
  },
};
