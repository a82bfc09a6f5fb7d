import { defineKind } from '../resource.js';
import { z } from '../schema.js';

// Placeholder schema: replaced by the full model of this kind.
export const telemetrySpec = z.record(z.string(), z.unknown());
export type TelemetrySpec = z.output<typeof telemetrySpec>;

export const telemetryKind = defineKind({
  kind: 'Telemetry',
  group: 'telemetry.istio.io',
  versions: ['v1alpha1', 'v1'],
  namespaced: true,
  spec: telemetrySpec,
  emptySpec: {},
});
