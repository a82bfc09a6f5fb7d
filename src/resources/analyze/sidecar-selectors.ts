import type { Analyzer } from './context.js';

export const sidecarSelectorAnalyzer: Analyzer = {
  name: 'sidecar.SelectorAnalyzer',
  description: 'Sidecar selectors match workloads (IST0101) without conflicts (IST0110, IST0111)',
  analyze() {
    // not written yet
  },
};
