/** The live service graph (control-plane side): proxies' Istio metrics scraped, kept briefly, turned into nodes and edges. */
export { GraphCollector, type GraphCollectorOptions, type ScrapeTarget, type ServiceGraph, type EdgeSeries, type EdgePoint, type ServiceSeries } from './collector.js';
export { computeGraph, quantile, type GraphEdge, type GraphNode, type GraphInput, type NodeKind, type EdgeProtocol, type TcpStats } from './compute.js';
export { MetricsHistory, type HistoryLimits, type TargetInfo, type TargetStatus } from './history.js';
export { readExposition, GRAPH_LABELS } from './series.js';
export { renderGraph } from './render.js';
