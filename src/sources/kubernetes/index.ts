/** The Kubernetes API as a config source: list and watch Istio's CRDs and the core objects the registry reads. */
export { KubernetesSource, type KubernetesSourceOptions } from './kubernetes.js';
export { loadConnection, type Connection, type ConnectionOptions, type Credentials } from './connection.js';
