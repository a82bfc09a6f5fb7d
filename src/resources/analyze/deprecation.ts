import type { Analyzer } from './context.js';

export const deprecationAnalyzer: Analyzer = {
  name: 'deprecation.FieldAnalyzer',
  description: 'deprecated fields still in use (IST0002)',
  analyze() {
    // not written yet
  },
};
