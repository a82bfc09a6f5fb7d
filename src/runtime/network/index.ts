/**
 * The netns network provider for the local runtime (see provider.ts): pods in network
 * namespaces with Istio's transparent capture. The runtime picks it with `--network netns`, or
 * with `auto` when `NetnsNetwork.problem()` finds nothing missing.
 */
export { NetnsNetwork, PROXY_UID, PROXY_GID, listMeshNetwork, removeMeshNetwork } from './provider.js';
export type { NetnsOptions, NetnsPod, NetnsPodRequest, RunAs, MeshNetworkResources } from './provider.js';
export { serviceNames, type HostEntry } from './hosts.js';
export type { ServiceVip } from './services.js';
export { captureRules, ANNOTATIONS as CAPTURE_ANNOTATIONS, PROXY_PORTS, CaptureAnnotationError, type CaptureOptions } from './capture-rules.js';
export { nativeAddonProblem, findNativeAddon } from './native.js';
