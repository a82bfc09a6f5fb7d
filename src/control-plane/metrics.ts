/**
 * The control plane's own metrics on 15014, beside the push server's. Istio's names where Istio
 * has the metric (pilot_services, pilot_virt_services); Weft's where it has none, because Istio
 * rejects invalid config at its admission webhook and so never counts it in istiod.
 */
import type { Counter, Gauge, MetricsRegistry } from '../distribution/index.js';

export interface ControlPlaneMetrics {
  accepted: Counter;
  rejected: Counter;
  errors: Gauge;
  services: Gauge;
  virtualServices: Gauge;
}

export function controlPlaneMetrics(registry: MetricsRegistry): ControlPlaneMetrics {
  return {
    accepted: registry.counter('weft_config_changes_accepted', 'Configuration changes loaded and pushed.'),
    rejected: registry.counter('weft_config_changes_rejected', 'Configuration changes refused as invalid; the last valid set stayed.'),
    errors: registry.gauge('weft_config_errors', 'Errors in the configuration currently refused (0 when the latest change was valid).'),
    services: registry.gauge('pilot_services', 'Services known to the registry.'),
    virtualServices: registry.gauge('pilot_virt_services', 'VirtualServices known to the control plane.'),
  };
}
