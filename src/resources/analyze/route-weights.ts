/**
 * Weft's own check (WFT0005, a warning): an http, tcp or tls rule that splits traffic over several
 * destinations, giving every one a weight, where the weights do not add up to 100. Istio accepts
 * this and sends each destination its share of the total, so 1:3 means 25% and 75%; the warning
 * says so, since a sum other than 100 is usually a typo in a traffic shift. One destination, or
 * destinations without weights, say nothing about percentages and are not reported.
 */
import { Messages } from '../messages.js';
import type { Analyzer } from './context.js';

export const routeWeightsAnalyzer: Analyzer = {
  name: 'weft.RouteWeightsAnalyzer',
  description: 'route weights that do not add up to 100 (WFT0005)',
  analyze(ctx) {
    for (const vs of ctx.of('VirtualService')) {
      for (const kind of ['http', 'tcp', 'tls'] as const) {
        (vs.spec[kind] ?? []).forEach((rule, i) => {
          const route = rule.route ?? [];
          if (route.length < 2) return;
          const weights = route.map((rd) => rd.weight);
          if (weights.some((w) => w === undefined)) return;
          const total = weights.reduce<number>((sum, w) => sum + (w ?? 0), 0);
          // A total of 0 is already a validation error (Istio's "total destination weight = 0").
          if (total !== 100 && total !== 0) ctx.report(vs, Messages.WeightsDoNotAddUp, [total], ['spec', kind, i, 'route']);
        });
      }
    }
  },
};
