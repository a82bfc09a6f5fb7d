/**
 * A running pod as Kubernetes shows it: the object the runtime stores (so the control plane sees
 * pods, their addresses and readiness) and `weft get pods` prints. Status follows the kubelet:
 * phase, the Ready/ContainersReady conditions, and per container ready, restartCount and state.
 */
import type { Pod } from './pod.js';
import type { Container } from './container.js';

export function podObject(pod: Pod): Record<string, unknown> {
  const o = pod.options;
  const plan = pod.plan;
  const containers = pod.orderedContainers();
  const ready = pod.ready;
  // Kubernetes' phase: Running once every container has been started at least once.
  const started = containers.length > 0 && containers.every((c) => c.state.kind !== 'waiting' || c.restartCount > 0);
  const phase = (pod.phase === 'Running' || pod.phase === 'Terminating') && started ? 'Running' : 'Pending';
  const annotations = { ...(plan?.annotations ?? {}) };
  if (plan?.proxyMemoryLimitBytes !== undefined) annotations['weft.io/proxy-memory-limit'] = String(plan.proxyMemoryLimitBytes);
  const metadata: Record<string, unknown> = {
    name: pod.name,
    namespace: pod.namespace,
    uid: o.uid,
    creationTimestamp: pod.createdAt.toISOString(),
    labels: plan?.labels ?? { 'pod-template-hash': o.templateHash },
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${o.deployment}-${o.templateHash}`, uid: o.deploymentUid, controller: true, blockOwnerDeletion: true }],
  };
  if (pod.phase === 'Terminating') metadata.deletionTimestamp = new Date().toISOString();
  const condition = (type: string, value: boolean) => ({ type, status: value ? 'True' : 'False', lastProbeTime: null });
  const initialized = pod.initContainers.every((c) => c.completed);
  const status: Record<string, unknown> = {
    phase,
    conditions: [condition('PodScheduled', true), condition('Initialized', initialized), condition('ContainersReady', ready), condition('Ready', ready)],
    hostIP: '127.0.0.1',
    startTime: pod.createdAt.toISOString(),
    ...(pod.network ? { podIP: pod.network.ip, podIPs: [{ ip: pod.network.ip }] } : {}),
    containerStatuses: containers.map(containerStatus),
    ...(pod.initContainers.length > 0 ? { initContainerStatuses: pod.initContainers.map(containerStatus) } : {}),
    ...(pod.message ? { message: pod.message } : {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: plan?.spec ?? { containers: [{ name: 'pending', image: 'pending' }] },
    status,
  };
}

function containerStatus(c: Container): Record<string, unknown> {
  const s = c.state;
  const state = s.kind === 'running' ? { running: { startedAt: s.since.toISOString() } }
    : s.kind === 'waiting' ? { waiting: { reason: s.reason } }
    : { terminated: { exitCode: s.exitCode ?? 0, ...(s.signal ? { signal: s.signal } : {}), ...(s.reason ? { reason: s.reason } : {}), finishedAt: s.since.toISOString() } };
  const last = c.lastTermination;
  return {
    name: c.spec.name,
    ready: c.ready,
    restartCount: c.restartCount,
    started: s.kind === 'running',
    image: 'weft',
    // No container runtime here: the id names the process, which is what one would kill or trace.
    ...(c.pid !== undefined ? { containerID: `weft://${c.pid}` } : {}),
    state,
    ...(last ? { lastState: { terminated: { exitCode: last.exitCode ?? 0, ...(last.signal ? { signal: last.signal } : {}), finishedAt: last.at.toISOString() } } } : {}),
  };
}

/** kubectl's STATUS column: the reason a container waits, or the phase. */
export function podStatusText(object: Record<string, unknown>): string {
  const meta = object.metadata as { deletionTimestamp?: string };
  if (meta.deletionTimestamp) return 'Terminating';
  const status = object.status as { phase?: string; containerStatuses?: { state?: { waiting?: { reason?: string } } }[] } | undefined;
  const init = (object.status as { initContainerStatuses?: { state?: { waiting?: { reason?: string }; terminated?: { reason?: string } } }[] } | undefined)?.initContainerStatuses ?? [];
  const done = init.filter((c) => c.state?.terminated?.reason === 'Completed').length;
  if (done < init.length) {
    const reason = init[done]?.state?.waiting?.reason;
    return reason && reason !== 'ContainerCreating' ? reason : `Init:${done}/${init.length}`;
  }
  const waiting = (status?.containerStatuses ?? []).map((c) => c.state?.waiting?.reason).filter((r): r is string => r !== undefined);
  const problem = waiting.find((r) => r !== 'ContainerCreating');
  if (problem) return problem;
  if (status?.phase === 'Pending' && waiting.length > 0) return 'ContainerCreating';
  return status?.phase ?? 'Pending';
}
