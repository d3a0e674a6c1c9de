/**
 * What the collector reports: every record counted once (live, recovered, trail, pipe-only, lost by reason), the
 * kernel's drop counter, the spool and the sinks. Rendered as a one-line periodic stats line, a final report, the
 * state file that `bsmkit stats` reads, and Prometheus text (docs/accounting.md).
 */
import type { PriorityOutcome } from '../sources/pipe/thread-priority.js';

export type CollectMode = 'trail' | 'pipe' | 'hybrid';

export interface RecordCounts {
  /** Delivered from the pipe as it happened (hybrid: matched with their trail copy). */
  live: number;
  /** Hybrid: dropped by the pipe and taken from the trail. */
  recovered: number;
  /** Read from the trail only (trail mode; hybrid: committed before the pipe was open, or flushed). */
  trail: number;
  /** Hybrid: kept from the pipe because the trail has no copy (write failure, LOCAL-only selection). */
  pipeOnly: number;
}

export interface LossEntry {
  reason: string;
  message: string;
  /** Records lost, when known. */
  records?: number;
  file?: string;
  /** Pipe byte offsets between which the records were dropped, or a trail file offset. */
  from?: number;
  to?: number;
  at: string;
}

export interface SinkStats {
  name: string;
  checkpoint: number;
  lag: number;
  delivered: number;
  failures: number;
  lastError?: string;
  state: 'starting' | 'running' | 'retrying' | 'stopped';
}

export interface CollectorStats {
  pid: number;
  status: 'running' | 'stopped';
  mode: CollectMode;
  startedAt: string;
  updatedAt: string;
  /** Records in the spool: every one counted once by how it arrived. */
  records: RecordCounts & { total: number };
  /** Records known lost, by reason (pipe-drops, spool-full, pipe-drop-not-in-trail, ...). */
  lost: Record<string, number>;
  /** Loss events whose record count is unknown (expired trail files, trail gaps), by reason. */
  lossEvents: Record<string, number>;
  /** Framing damage (bytes skipped) by source. */
  damage: { trail: number; pipe: number };
  kernel: { pipe?: string; qlimit?: number; drops: number; haveCounters: boolean; drainPriority?: PriorityOutcome };
  spool: {
    dir: string;
    bytes: number;
    maxBytes: number;
    segments: number;
    firstSeq: number;
    lastSeq: number;
    paused: boolean;
    pauseReason?: string;
    pausedMs: number;
    pauses: number;
    tornBytes: number;
  };
  backlog: { pipeRecords: number; trailRecords: number; bytes: number };
  sinks: SinkStats[];
  /** The latest losses with their positions (at most 200). */
  losses: LossEntry[];
  errors: string[];
}

export function totalLost(s: CollectorStats): number {
  return Object.values(s.lost).reduce((a, b) => a + b, 0);
}

const mb = (n: number): string => (n / 1048576).toFixed(1) + 'MB';

/** The periodic one-line summary. */
export function statsLine(s: CollectorStats): string {
  const r = s.records;
  const sinks = s.sinks.map((k) => `${k.name}:lag=${k.lag}${k.failures ? `,fail=${k.failures}` : ''}`).join(' ');
  return (
    `collect ${s.mode}: total=${r.total} live=${r.live} recovered=${r.recovered} trail=${r.trail} pipe-only=${r.pipeOnly} ` +
    `lost=${totalLost(s)} kernel-drops=${s.kernel.drops} spool=${mb(s.spool.bytes)}/${s.spool.segments}seg` +
    `${s.spool.paused ? ' PAUSED(' + (s.spool.pauseReason ?? '') + ')' : ''} backlog=${s.backlog.pipeRecords}p/${s.backlog.trailRecords}t` +
    (sinks ? ' ' + sinks : '')
  );
}

/** The final (or `bsmkit stats`) report, for people. */
export function formatReport(s: CollectorStats): string {
  const r = s.records;
  const L: string[] = [];
  L.push(`bsmkit collect (${s.mode}) — ${s.status}, pid ${s.pid}, since ${s.startedAt}, updated ${s.updatedAt}`);
  L.push(`records spooled:   ${r.total}`);
  L.push(`  live (pipe):     ${r.live}`);
  L.push(`  recovered:       ${r.recovered}   (dropped by the pipe, taken from the trail)`);
  L.push(`  trail:           ${r.trail}`);
  L.push(`  pipe-only:       ${r.pipeOnly}   (no trail copy: kept from the pipe)`);
  const lost = Object.entries(s.lost);
  L.push(`records lost:      ${totalLost(s)}${lost.length ? '   (' + lost.map(([k, v]) => `${k} ${v}`).join(', ') + ')' : ''}`);
  const ev = Object.entries(s.lossEvents);
  if (ev.length) L.push(`loss events:       ${ev.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (s.damage.trail || s.damage.pipe) L.push(`damage:            trail ${s.damage.trail}, pipe ${s.damage.pipe} (framing diagnostics)`);
  L.push(`kernel pipe:       ${s.kernel.pipe ?? '-'}  qlimit ${s.kernel.qlimit ?? '-'}  drops ${s.kernel.haveCounters ? s.kernel.drops : 'unknown (no ioctl)'}`);
  const dp = s.kernel.drainPriority;
  if (dp) L.push(`drain thread:      ${dp.applied} priority (${dp.detail})`);
  const sp = s.spool;
  L.push(`spool:             ${sp.dir}  ${mb(sp.bytes)} of ${mb(sp.maxBytes)}, ${sp.segments} segment(s), seq ${sp.firstSeq}..${sp.lastSeq}` +
    `${sp.paused ? `, PAUSED: ${sp.pauseReason}` : ''}${sp.pauses ? `, ${sp.pauses} pause(s) ${(sp.pausedMs / 1000).toFixed(1)}s` : ''}${sp.tornBytes ? `, ${sp.tornBytes} torn bytes truncated at start` : ''}`);
  L.push(`backlog:           ${s.backlog.pipeRecords} pipe / ${s.backlog.trailRecords} trail records awaiting reconciliation`);
  for (const k of s.sinks) {
    L.push(`sink ${k.name.padEnd(12)} checkpoint ${k.checkpoint}, lag ${k.lag}, delivered ${k.delivered}${k.failures ? `, ${k.failures} failure(s), last: ${k.lastError}` : ''} [${k.state}]`);
  }
  const pos = s.losses.slice(-10);
  if (pos.length) {
    L.push(`latest losses:`);
    for (const l of pos) L.push(`  ${l.at} ${l.reason}: ${l.message}`);
  }
  for (const e of s.errors.slice(-5)) L.push(`error: ${e}`);
  return L.join('\n') + '\n';
}

/** Prometheus text exposition (version 0.0.4). */
export function prometheusText(s: CollectorStats): string {
  const L: string[] = [];
  const metric = (name: string, type: string, help: string, rows: Array<[string, number]>): void => {
    L.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of rows) L.push(`${name}${labels} ${v}`);
  };
  const r = s.records;
  metric('bsmkit_records_total', 'counter', 'Records spooled, by how they arrived.', [
    ['{origin="live"}', r.live], ['{origin="recovered"}', r.recovered], ['{origin="trail"}', r.trail], ['{origin="pipe_only"}', r.pipeOnly],
  ]);
  metric('bsmkit_records_lost_total', 'counter', 'Records known lost, by reason.', Object.entries(s.lost).map(([k, v]) => [`{reason="${k}"}`, v]));
  metric('bsmkit_loss_events_total', 'counter', 'Losses of unknown size (expired trail files, gaps), by reason.', Object.entries(s.lossEvents).map(([k, v]) => [`{reason="${k}"}`, v]));
  metric('bsmkit_kernel_pipe_drops_total', 'counter', 'The audit pipe drop counter since the collector opened it.', [['', s.kernel.drops]]);
  const dp = s.kernel.drainPriority;
  if (dp) metric('bsmkit_drain_thread_high_priority', 'gauge', '1 when the pipe drain thread got the high (real-time) scheduling it asked for.', [['', dp.applied === 'high' ? 1 : 0]]);
  metric('bsmkit_spool_bytes', 'gauge', 'Bytes in the spool.', [['', s.spool.bytes]]);
  metric('bsmkit_spool_paused', 'gauge', '1 while spool intake is paused (disk full or size cap).', [['', s.spool.paused ? 1 : 0]]);
  metric('bsmkit_spool_last_seq', 'gauge', 'Sequence number of the newest spooled record.', [['', s.spool.lastSeq]]);
  metric('bsmkit_reconcile_backlog_records', 'gauge', 'Records awaiting reconciliation.', [['{side="pipe"}', s.backlog.pipeRecords], ['{side="trail"}', s.backlog.trailRecords]]);
  metric('bsmkit_sink_lag_records', 'gauge', 'Spooled records a sink has not stored yet.', s.sinks.map((k) => [`{sink="${k.name}"}`, k.lag]));
  metric('bsmkit_sink_failures_total', 'counter', 'Failed sink writes.', s.sinks.map((k) => [`{sink="${k.name}"}`, k.failures]));
  return L.join('\n') + '\n';
}
