/**
 * The defaults of Istio's charts (values.yaml of istio-discovery and of the istio-ingress and
 * istio-egress gateway charts) that rendering acts on. A value in the installed spec
 * (`values.pilot.*`, `values.gateways.istio-ingressgateway.*`) is merged over them, as Helm
 * merges user values over a chart's.
 */
import { isMap, mergeFrom, type PlainMap } from './objects.js';
import type { ResolvedOperator } from './operator.js';

const gatewayResources = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2000m', memory: '1024Mi' } };

const PILOT: PlainMap = {
  autoscaleEnabled: true,
  autoscaleMin: 1,
  autoscaleMax: 5,
  replicaCount: 1,
  rollingMaxSurge: '100%',
  rollingMaxUnavailable: '25%',
  resources: { requests: { cpu: '500m', memory: '2048Mi' } },
};

const GATEWAYS: Record<'istio-ingressgateway' | 'istio-egressgateway', PlainMap> = {
  'istio-ingressgateway': {
    autoscaleEnabled: true,
    autoscaleMin: 1,
    autoscaleMax: 5,
    rollingMaxSurge: '100%',
    rollingMaxUnavailable: '25%',
    type: 'LoadBalancer',
    ports: [
      { port: 15021, targetPort: 15021, name: 'status-port', protocol: 'TCP' },
      { port: 80, targetPort: 8080, name: 'http2', protocol: 'TCP' },
      { port: 443, targetPort: 8443, name: 'https', protocol: 'TCP' },
    ],
    resources: gatewayResources,
  },
  'istio-egressgateway': {
    autoscaleEnabled: true,
    autoscaleMin: 1,
    autoscaleMax: 5,
    rollingMaxSurge: '100%',
    rollingMaxUnavailable: '25%',
    type: 'ClusterIP',
    ports: [
      { port: 80, targetPort: 8080, name: 'http2', protocol: 'TCP' },
      { port: 443, targetPort: 8443, name: 'https', protocol: 'TCP' },
    ],
    resources: gatewayResources,
  },
};

function installedValues(op: ResolvedOperator): PlainMap {
  return isMap(op.merged.values) ? op.merged.values : {};
}

export function pilotValues(op: ResolvedOperator): PlainMap {
  const pilot = installedValues(op).pilot;
  return mergeFrom(PILOT, isMap(pilot) ? pilot : {});
}

export function gatewayValues(op: ResolvedOperator, chart: 'istio-ingressgateway' | 'istio-egressgateway'): PlainMap {
  const gateways = installedValues(op).gateways;
  const values = isMap(gateways) ? gateways[chart] : undefined;
  return mergeFrom(GATEWAYS[chart], isMap(values) ? values : {});
}
