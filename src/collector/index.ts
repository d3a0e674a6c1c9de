/** The loss-free collector (docs/collector.md, docs/accounting.md). */
export { Collector, type CollectorOptions } from './collector.js';
export {
  formatReport,
  statsLine,
  prometheusText,
  totalLost,
  type CollectMode,
  type CollectorStats,
  type LossEntry,
  type RecordCounts,
  type SinkStats,
} from './accounting.js';
export { Reconciler, type ReconcilerOptions, type ReconcileCounts } from './reconcile.js';
export { readConfigFile, parseSinkFlag, createSinks, defaultMode, type CollectConfig, type SinkSpec } from './config.js';
export type { PipeDeviceSpec, DropGap } from './pipe-drain-protocol.js';
