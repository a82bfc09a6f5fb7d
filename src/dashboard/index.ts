/** The dashboard (issue #9): a read-only web UI the control plane serves on 20001. */
export { DashboardServer, type DashboardData, type DashboardOptions } from './server.js';
export { workloadRows, configRows, configObject, namespacesOf, type WorkloadRow, type ConfigRow } from './views.js';
export { startDashboard, type DashboardWiring } from './wiring.js';
export { Replicas, replicaUrls, type ReplicasOptions } from './replicas.js';
