/**
 * bsmkit public API (docs/api.md). Layers, bottom up: format (raw record model, decode, encode, framing),
 * render (praudit text, NDJSON), catalog (audit_class/audit_event/... and preselection), select (auditreduce),
 * sources (trail follower, audit pipe), activity (process reconstruction), spool/collector/sinks.
 */

// ---- format: the raw model, decoding, framing, encoding ----------------------------------------------------------
export * from './format/token-ids.js';
export type * from './format/types.js';
export { decodeToken } from './format/decode-token.js';
export { decodeRecord } from './format/decode-record.js';
export { Framer, MIN_RECORD_SIZE } from './format/framer.js';
export type { FramerSink, FramerRangeSink, FramerOptions } from './format/framer.js';
export { TokenIndex, tokenEnd, trailerMatches, isCleanRecord } from './format/token-index.js';
export { Validator, validateFile } from './format/validate.js';
export type { ValidationCounts } from './format/validate.js';
export { decodeAll, frameStream, readFileItems, readRecords, READ_CHUNK } from './format/read-file.js';
export type { StreamItem } from './format/read-file.js';
export {
  BufferWriter,
  DEFAULT_HEADER_VERSION,
  ENCODE_ERROR,
  encodeFileToken,
  encodeRecord,
  encodeToken,
  execArgs,
  execEnv,
  ipAddr,
  ipv4,
  ipv6,
  stringList,
  uuid,
  writeFileToken,
  writeRecord,
  writeToken,
} from './format/encode/index.js';
export type { HeaderInput, TokenInput } from './format/encode/index.js';

// ---- render: presentation layers ---------------------------------------------------------------------------------
export { createPrauditRenderer, createPrauditByteRenderer } from './render/praudit/index.js';
export type { PrauditOptions, PrauditRenderer } from './render/praudit/index.js';
export { createJsonRenderer, createJsonByteRenderer, recordToJson } from './render/json/index.js';
export type { JsonOptions, JsonRenderer, JsonByteRenderer, EventDescriber } from './render/json/index.js';
export { bsmErrno, errnoText } from './render/errno.js';
export { hostPlatform, parsePlatform, PLATFORMS } from './render/platform.js';
export type { Platform as RenderPlatform } from './render/platform.js';

// ---- catalog: audit configuration and preselection ---------------------------------------------------------------
export {
  EventTable,
  builtinEventTable,
  hostOrBuiltinEventTable,
  loadAuditEventFile,
  parseAuditEvent,
  formatAuditEvent,
} from './catalog/event-table.js';
export type { EventEntry } from './catalog/event-table.js';
export { ClassTable, builtinClassTable, hostOrBuiltinClassTable, loadAuditClassFile, parseAuditClass, formatAuditClass } from './catalog/class-table.js';
export type { AuditClass } from './catalog/class-table.js';
export { parseFlags, tryParseFlags, formatFlags, formatMaskHex, EMPTY_MASK } from './catalog/flags.js';
export type { AuMask } from './catalog/flags.js';
export { auPreselect, wouldSelect, recordOutcome, pipeMasksFor, EventClassMap, AU_PRS_SUCCESS, AU_PRS_FAILURE, AU_PRS_BOTH } from './catalog/preselect.js';
export type { PreselectMasks, RecordOutcome } from './catalog/preselect.js';
export { loadCatalog } from './catalog/catalog.js';
export { parseAuditControl, loadAuditControlFile, formatAuditControl, parseSize, parseExpireAfter, policyBits, POLICY_BITS } from './catalog/control.js';
export type { AuditControl, ExpireAfter } from './catalog/control.js';
export { parseAuditUser, loadAuditUserFile, formatAuditUser, sessionMask } from './catalog/user.js';
export type { AuditUserEntry } from './catalog/user.js';
export { addClass, removeClass, planAddClass, planRemoveClass, planDiff, applyPlan } from './catalog/class-editor.js';
export type { AddClassRequest, RemoveClassRequest, ClassEditPlan, EditOptions } from './catalog/class-editor.js';
export { replaceFileAtomically } from './catalog/atomic-file.js';
export { formatCatalogDiagnostic } from './catalog/diagnostics.js';
export type { CatalogDiagnostic } from './catalog/diagnostics.js';
export type { Catalog, LoadCatalogOptions } from './catalog/catalog.js';

// ---- select: auditreduce ----------------------------------------------------------------------------------------
export { compileSelection, parseReduceArgs, runReduce, InputScanner } from './select/index.js';
export type { Selection, SelectOptions, ReduceArgs, ReduceStats } from './select/index.js';

// ---- sources ----------------------------------------------------------------------------------------------------
export { formatCursor } from './sources/source.js';
export type { RecordSource, SourceItem, SourceRecord, SourceDiagnostic, SourceLoss, SourceCursor, LossReport, LossReason } from './sources/source.js';
export {
  followTrail,
  parseTrailCursor,
  readCursorFile,
  writeCursorFile,
  parseTrailName,
  trailPrefix,
  trailTime,
  trailTimestamp,
} from './sources/trail/index.js';
export type { TrailItem, TrailFollower, FollowTrailOptions, TrailCursor, TrailMeta, TrailFileEvent, TrailName } from './sources/trail/index.js';
export {
  AUDITPIPE,
  AUDITPIPE_PATH,
  PRESELECT_MODE,
  DeviceError,
  KoffiPipeDevice,
  SimulatedPipeDevice,
  openPipeSource,
  openPipeDrain,
  configurePipe,
  getKernelEventClass,
  setKernelEventClass,
  addKernelClassBit,
  restoreKernelEventClasses,
} from './sources/pipe/index.js';
export type { AuditPipeDevice, PipeItem, PipeCursor, PipeLossReport, PipeDrain, RawPipeBatch, PipeCounters } from './sources/pipe/index.js';

// ---- sinks ------------------------------------------------------------------------------------------------------
export { DuckDbSink, DEFAULT_STORE_PATH, DEFAULT_DUCKDB_CONFIG, defaultStorePath, openStoreReadOnly, NdjsonFileSink, StdoutSink, WorkerSink, RECORD_COLUMNS, RECORDS_TABLE } from './sinks/index.js';
export type { Sink, CollectedRecord, RecordOrigin, DuckDbSinkOptions, NdjsonFileSinkOptions, StdoutSinkOptions, WorkerSinkSpec } from './sinks/index.js';

// ---- spool and collector -----------------------------------------------------------------------------------------
export { Spool, SpoolFullError, recordId, materialize, packRecords, concatRaw } from './spool/index.js';
export type { SpoolOptions, SpoolAppend, SpoolCheckpoints, RawBatch } from './spool/index.js';
export { Collector, Reconciler, formatReport, statsLine, prometheusText, totalLost, readConfigFile, parseSinkFlag, createSinks } from './collector/index.js';
export type { CollectorOptions, CollectorStats, CollectMode, RecordCounts, LossEntry, SinkStats, CollectConfig, SinkSpec, PipeDeviceSpec } from './collector/index.js';

// ---- activity: process reconstruction, OCSF and ECS ------------------------------------------------------------
export { ProcessTracker, processEvents, processEventsFromChunks, DEFAULT_REORDER_MS } from './activity/tracker.js';
export type { TrackerOptions } from './activity/tracker.js';
export { ProcessTable } from './activity/process-table.js';
export type * from './activity/types.js';
export { toOcsf, OCSF_CLASS_UID } from './render/ocsf/index.js';
export type { OcsfProcessActivity } from './render/ocsf/index.js';
export { toEcs, ECS_VERSION } from './render/ecs/index.js';
export type { EcsProcessEvent } from './render/ecs/index.js';

// ---- errors ------------------------------------------------------------------------------------------------------
export { BsmkitError, UsageError } from './errors.js';
