/**
 * Synthetic trails for the selection tests: records built with the real encoder from short descriptions, and a
 * runner that feeds them through parseReduceArgs → compileSelection → runReduce and answers with the indices of
 * the records that came out.
 */
import { encodeFileToken, encodeRecord, ipv4, ipv6, str } from '../../src/format/encode/index.js';
import type { HeaderInput, TokenInput } from '../../src/format/encode/index.js';
import { builtinClassTable } from '../../src/catalog/class-table.js';
import { builtinEventTable } from '../../src/catalog/event-table.js';
import type { Diagnostic } from '../../src/format/types.js';
import { catalogFromTables } from '../../src/select/catalog-port.js';
import { compileSelection } from '../../src/select/compile.js';
import { parseReduceArgs, type ResolveContext } from '../../src/select/parse-args.js';
import { runReduce } from '../../src/select/reduce-run.js';
import type { ReduceStats } from '../../src/select/reduce-stream.js';
import { parseIdFile } from '../../src/select/user-ids.js';

export type HeaderKind = 'header32' | 'header32_ex' | 'header64' | 'header64_ex';
export type SubjectKind = 'subject32' | 'subject32_ex' | 'subject64' | 'subject64_ex';
export type ProcessKind = 'process32' | 'process32_ex' | 'process64' | 'process64_ex';

export interface Ids {
  auid?: number;
  euid?: number;
  egid?: number;
  ruid?: number;
  rgid?: number;
  pid?: number;
}

export function header(kind: HeaderKind, event: number, sec: number, msec = 0): HeaderInput {
  switch (kind) {
    case 'header32':
      return { type: kind, event, sec, msec };
    case 'header32_ex':
      return { type: kind, event, addrType: 4, addr: ipv4('192.0.2.1'), sec, msec };
    case 'header64':
      return { type: kind, event, sec: BigInt(sec), msec: BigInt(msec) };
    case 'header64_ex':
      return { type: kind, event, addrType: 16, addr: ipv6('2001:db8::1'), sec: BigInt(sec), msec: BigInt(msec) };
  }
}

export function subject(kind: SubjectKind | ProcessKind, ids: Ids = {}): TokenInput {
  const ex = kind.endsWith('_ex');
  const is64 = kind.includes('64');
  return {
    type: kind,
    auid: ids.auid ?? 1000,
    euid: ids.euid ?? 1000,
    egid: ids.egid ?? 1000,
    ruid: ids.ruid ?? 1000,
    rgid: ids.rgid ?? 1000,
    pid: ids.pid ?? 4242,
    sid: 1,
    port: is64 ? 0n : 0,
    addrType: ex ? 16 : 4,
    addr: ex ? ipv6('2001:db8::7') : ipv4('10.1.2.3'),
  } as TokenInput;
}

export const ret = (status: number, kind: 'return32' | 'return64' = 'return32'): TokenInput =>
  kind === 'return32' ? { type: kind, status, value: 0 } : { type: kind, status, value: 0n };
export const path = (p: string): TokenInput => ({ type: 'path', path: str(p) });
export const ipc = (ipcType: number, ipcId: number): TokenInput => ({ type: 'ipc', ipcType, ipcId });
export const zone = (z: string): TokenInput => ({ type: 'zonename', zone: str(z) });
export const text = (t: string): TokenInput => ({ type: 'text', text: str(t) });

export interface Rec {
  header: HeaderInput;
  body: TokenInput[];
}

/** A record: header of `kind`, then the body tokens. */
export function rec(kind: HeaderKind, event: number, sec: number, body: TokenInput[] = [], msec = 0): Rec {
  return { header: header(kind, event, sec, msec), body };
}

/** The bytes of a trail: records (and `{ file: sec }` for standalone file tokens) in order. */
export function trail(items: Array<Rec | { file: number }>): { bytes: Buffer; offsets: number[] } {
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let off = 0;
  for (const it of items) {
    const b = 'file' in it ? encodeFileToken(it.file, 0, Buffer.from('trail.bsm\0')) : encodeRecord(it.header, it.body);
    offsets.push(off);
    parts.push(b);
    off += b.length;
  }
  return { bytes: Buffer.concat(parts), offsets };
}

export const ctx: ResolveContext = {
  catalog: catalogFromTables(builtinEventTable('openbsm'), builtinClassTable()),
  users: parseIdFile('root:*:0:0::/root:/bin/sh\nalice:*:501:20::/home/alice:/bin/sh\nbob:*:502:20::/home/bob:/bin/sh\n'),
  groups: parseIdFile('wheel:*:0:root\nstaff:*:20:\nwww:*:80:\n'),
};

export interface RunResult {
  /** Indices (into the items given) of what came out, in output order. */
  picked: number[];
  out: Buffer;
  stats: ReduceStats;
  diagnostics: Diagnostic[];
}

/** Runs reduce with `argv` over one or more in-memory inputs (chunked to exercise chunk boundaries). */
export async function reduceItems(argv: string[], inputs: Array<Array<Rec | { file: number }>>, chunk = 97): Promise<RunResult> {
  const args = parseReduceArgs(argv, ctx);
  const sel = compileSelection(args.select);
  const built = inputs.map((items) => trail(items));
  const diagnostics: Diagnostic[] = [];
  const parts: Array<{ b: Buffer; input: number; offset: number }> = [];
  let current = 0;
  const stats = await runReduce(
    built.map((t, i) => ({
      name: `in${i}`,
      async *open() {
        current = i;
        for (let p = 0; p < t.bytes.length; p += chunk) yield t.bytes.subarray(p, p + chunk);
      },
    })),
    sel,
    (c, offset) => {
      parts.push({ b: Buffer.from(c), input: current, offset });
    },
    { merge: args.merge, coalesce: false, keepErrors: args.keepErrors, onDiagnostic: (_n, d) => diagnostics.push(d) },
  );
  // Identify each emitted item by its bytes (inputs may be merged, so offsets alone do not say which input).
  const picked: number[] = [];
  let base = 0;
  const all = built.flatMap((t, i) => {
    const rows = t.offsets.map((o, k) => ({ index: base + k, bytes: t.bytes.subarray(o, t.offsets[k + 1] ?? t.bytes.length), input: i }));
    base += t.offsets.length;
    return rows;
  });
  for (const p of parts) {
    const hit = all.find((r) => r.bytes.equals(p.b) && !picked.includes(r.index));
    picked.push(hit ? hit.index : -1);
  }
  return { picked, out: Buffer.concat(parts.map((p) => p.b)), stats, diagnostics };
}

/** Shorthand for one input. */
export async function pick(argv: string[], items: Array<Rec | { file: number }>): Promise<number[]> {
  return (await reduceItems(argv, [items])).picked;
}
