import type { Analyzer } from './context.js';

export const telemetryAnalyzer: Analyzer = {
  name: 'telemetry.SelectorAnalyzer',
  description: 'Telemetry selectors (IST0159, IST0160) and providers (IST0157)',
  analyze() {
    // not written yet
  },
};
