/** The service registry's public surface: services, endpoints and workload instances derived from resources. */
export { buildRegistry, type Registry, type ServiceTarget } from './registry.js';
export { instancesFromDeployments, instancesFromPods, workloadInstances, injectionRevision, isGateway, type InstanceOptions } from './instances.js';
export { defaultMeshOptions, meshOptionsFrom } from './mesh-options.js';
export { kubePortProtocol, parseProtocol, isHttp, isTls, upstreamProtocol } from './protocol.js';
export { parseExportTo, isVisibleTo, exportToAnnotation, EXPORT_TO_ANNOTATION } from './visibility.js';
export { labelsMatch } from './labels.js';
export { LOCALITY_LABEL, localityFromLabels } from './locality.js';
export { allocateVips, SERVICE_CIDR, AUTO_ALLOCATE_CIDR } from './vip.js';
export type {
  ContainerPort, MeshLocalityLbSetting, MeshOptions, Protocol, RegistrySource, Resolution, Service, ServiceEndpoint, ServicePort, Visibility, WorkloadInstance,
} from './types.js';
