import type { Analyzer } from './context.js';

export const routeWeightsAnalyzer: Analyzer = {
  name: 'weft.RouteWeightsAnalyzer',
  description: 'route weights that do not add up to 100 (WFT0005)',
  analyze() {
    // not written yet
  },
};
