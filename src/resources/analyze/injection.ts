import type { Analyzer } from './context.js';

export const injectionAnalyzer: Analyzer = {
  name: 'injection.Analyzer',
  description: 'namespaces enabled for injection (IST0102, IST0123) and workloads opted out (IST0103)',
  analyze() {
    // not written yet
  },
};
