/**
 * Kernel-shaped lifecycle records built with the encoder (bsm-format.md §6.1, §6.3): event tokens, subject,
 * return32, and on macOS the identity token after the return. Times are ms since the epoch.
 */
import { BufferWriter, encodeRecord, execArgs, execEnv, hex, ipv4, str, writeRecord, type TokenInput } from '../../src/format/encode/index.js';
import { decodeRecord } from '../../src/format/decode-record.js';
import type { BsmRecord } from '../../src/format/types.js';

export const AUE_EXIT = 1, AUE_FORK = 2, AUE_EXECVE = 23, AUE_VFORK = 25, AUE_OPEN_R = 72, AUE_POSIX_SPAWN = 43190,
  AUE_PDFORK = 43197, AUE_MAC_EXECVE = 43131;

export interface Who {
  pid: number;
  auid?: number;
  euid?: number;
  egid?: number;
  ruid?: number;
  rgid?: number;
  sid?: number;
  addr?: string;
}

export function subject(w: Who): TokenInput {
  return {
    type: 'subject32', auid: w.auid ?? 0xffffffff, euid: w.euid ?? 0, egid: w.egid ?? 0, ruid: w.ruid ?? 0,
    rgid: w.rgid ?? 0, pid: w.pid, sid: w.sid ?? 1, port: 0, addrType: 4, addr: ipv4(w.addr ?? '0.0.0.0'),
  };
}

export interface Rec {
  time: number;
  event: number;
  body: TokenInput[];
}

function rec(time: number, event: number, who: Who, tokens: TokenInput[], status = 0, value = 0, tail: TokenInput[] = []): Rec {
  return { time, event, body: [...tokens, subject(who), { type: 'return32', status, value }, ...tail] };
}

/** fork-family record: arg32 #0 "child PID", subject = the parent. */
export function fork(time: number, parent: Who, child: number, opts: { status?: number; event?: number } = {}): Rec {
  const status = opts.status ?? 0;
  return rec(time, opts.event ?? AUE_FORK, parent, [{ type: 'arg32', argNo: 0, value: child, text: str('child PID') }], status, status ? 0xffffffff : child);
}

export interface ExecOpts {
  argv?: string[];
  env?: string[];
  path?: string;
  status?: number;
  event?: number;
  attr?: { mode: number; uid: number; gid: number; fsid: number; nodeid: bigint; dev: number };
  cdhash?: string;
  identity?: { signingId: string; teamId: string; cdhash: string; signerType?: number };
}

function execTokens(o: ExecOpts): { tokens: TokenInput[]; tail: TokenInput[] } {
  const tokens: TokenInput[] = [];
  if (o.argv) tokens.push(execArgs(o.argv));
  if (o.env) tokens.push(execEnv(o.env));
  if (o.path) tokens.push({ type: 'path', path: str(o.path) });
  if (o.attr) tokens.push({ type: 'attr32', ...o.attr });
  if (o.cdhash) {
    const items = hex(o.cdhash);
    tokens.push({ type: 'data', howToPrint: 3, unit: 0, count: items.length, items });
  }
  const tail: TokenInput[] = [];
  if (o.identity) {
    tail.push({
      type: 'identity', signerType: o.identity.signerType ?? 0, signingId: str(o.identity.signingId), signingIdTruncated: 0,
      teamId: str(o.identity.teamId), teamIdTruncated: 0, cdhash: hex(o.identity.cdhash),
    });
  }
  return { tokens, tail };
}

export function exec(time: number, who: Who, o: ExecOpts = {}): Rec {
  const { tokens, tail } = execTokens(o);
  const status = o.status ?? 0;
  return rec(time, o.event ?? AUE_EXECVE, who, tokens, status, status ? 0xffffffff : 0, tail);
}

/** posix_spawn (macOS): child PID plus the exec tokens, subject = the caller. */
export function spawn(time: number, parent: Who, child: number, o: ExecOpts = {}): Rec {
  const { tokens, tail } = execTokens(o);
  const status = o.status ?? 0;
  return rec(time, AUE_POSIX_SPAWN, parent, [{ type: 'arg32', argNo: 0, value: child, text: str('child PID') }, ...tokens], status, status ? 0xffffffff : 0, tail);
}

export function exit(time: number, who: Who, status = 0): Rec {
  return rec(time, AUE_EXIT, who, [{ type: 'exit', status, value: 0 }]);
}

/** Any other record (an open): only its subject matters to the table. */
export function other(time: number, who: Who, path = '/etc/passwd'): Rec {
  return rec(time, AUE_OPEN_R, who, [{ type: 'arg32', argNo: 2, value: 0, text: str('flags') }, { type: 'path', path: str(path) }], 0, 3);
}

export function encode(r: Rec): Buffer {
  return encodeRecord({ type: 'header32', event: r.event, sec: Math.floor(r.time / 1000), msec: r.time % 1000 }, r.body);
}

/** A whole trail in file order. */
export function trail(recs: Rec[]): Buffer {
  const w = new BufferWriter(1 << 16);
  for (const r of recs) writeRecord(w, { type: 'header32', event: r.event, sec: Math.floor(r.time / 1000), msec: r.time % 1000 }, r.body);
  return w.toBuffer();
}

/** Decoded records with their offsets in `trail(recs)`. */
export function decoded(recs: Rec[]): BsmRecord[] {
  let off = 0;
  return recs.map((r) => {
    const b = encode(r);
    const d = decodeRecord(b, off);
    off += b.length;
    return d;
  });
}

/** Base time for tests: 2024-03-10T12:00:00Z. */
export const T0 = Date.UTC(2024, 2, 10, 12, 0, 0);
