/**
 * Decodes one framed record (header … trailer) into the raw model, tolerating damage:
 * a token that cannot be decoded ends decoding of that record only (bsm-format.md §2.4 rule 6), the trailer is
 * checked but a bad one does not lose the record, and XNU's over-counted exec args are recovered (§5.4).
 */
import { decodeToken } from './decode-token.js';
import { TRAILER_MAGIC, TRAILER_SIZE } from './token-ids.js';
import type { BsmRecord, Diagnostic, HeaderToken, StringListToken, Token, TrailerToken } from './types.js';

/** The most alternative string counts tried when exec args are over-counted (bounds work on damaged input). */
const MAX_COUNT_TRIALS = 4096;

/** Only XNU's exec args/env keep a count larger than the strings written (§5.4); other lists are not retried. */
function isExecStrings(id: number): boolean {
  return id === 0x3c || id === 0x3d;
}

/** True when the 7 bytes at `at` are a trailer whose count equals `size`. */
export function trailerMatches(b: Buffer, at: number, size: number): boolean {
  return at >= 0 && at + TRAILER_SIZE <= b.length && b[at] === 0x13 && b.readUInt16BE(at + 1) === TRAILER_MAGIC && b.readUInt32BE(at + 3) === size;
}

interface Walk {
  tokens: Token[];
  /** Offset where decoding stopped, and why (undefined when it reached `limit` exactly). */
  failAt: number;
  failure?: string;
  failId?: number;
}

/**
 * Decodes body tokens from `pos` up to `limit`. When a string-list token is followed by a remainder that does not
 * decode exactly to `limit`, retries it with fewer strings (smallest count first) before giving up.
 */
function walk(b: Buffer, pos: number, limit: number, tokens: Token[]): Walk {
  while (pos < limit) {
    const id = b[pos];
    const t = decodeToken(b, pos, limit);
    if (typeof t !== 'string' && isExecStrings(id)) {
      const rest = walk(b, pos + t.length, limit, []);
      if (rest.failure === undefined) {
        tokens.push(t, ...rest.tokens);
        return { tokens, failAt: limit };
      }
      const fixed = recoverStringCount(b, pos, limit, (t as StringListToken).declaredCount);
      if (fixed) {
        tokens.push(...fixed);
        return { tokens, failAt: limit };
      }
      tokens.push(t, ...rest.tokens);
      return { tokens, failAt: rest.failAt, failure: rest.failure, failId: rest.failId };
    }
    if (typeof t === 'string') {
      if (isExecStrings(id)) {
        const fixed = recoverStringCount(b, pos, limit, b.readUInt32BE(pos + 1));
        if (fixed) {
          tokens.push(...fixed);
          return { tokens, failAt: limit };
        }
      }
      return { tokens, failAt: pos, failure: t, failId: id };
    }
    tokens.push(t);
    pos += t.length;
  }
  return { tokens, failAt: pos };
}

/** Finds the smallest string count k < declared after which the rest of the record decodes cleanly (§5.4). */
function recoverStringCount(b: Buffer, pos: number, limit: number, declared: number): Token[] | undefined {
  if (pos + 5 > limit) return undefined;
  const trials = Math.min(declared, MAX_COUNT_TRIALS);
  for (let k = 0; k < trials; k++) {
    const t = decodeToken(b, pos, limit, k);
    if (typeof t === 'string') return undefined; // even k strings do not fit: more will not either
    const rest = walk(b, pos + t.length, limit, []);
    if (rest.failure === undefined) return [t, ...rest.tokens];
  }
  return undefined;
}

function diag(code: Diagnostic['code'], offset: number, recordOffset: number, message: string, tokenId?: number): Diagnostic {
  const d: Diagnostic = { code, offset, recordOffset, message, severity: code.startsWith('BSM_W') ? 'warning' : 'error' };
  if (tokenId !== undefined) d.tokenId = tokenId;
  return d;
}

/**
 * Decodes the record in `bytes` (exactly one framed record: header size bytes, or a standalone file token).
 * `offset` is the record's absolute offset in its source, used in diagnostics.
 */
export function decodeRecord(bytes: Buffer, offset = 0): BsmRecord {
  const diagnostics: Diagnostic[] = [];
  if (bytes.length > 0 && bytes[0] === 0x11) {
    const t = decodeToken(bytes, 0, bytes.length);
    if (typeof t === 'string') {
      diagnostics.push(diag('BSM_E_BAD_TOKEN', offset, offset, t, 0x11));
      return { kind: 'file-token', offset, bytes, tokens: [], intact: false, diagnostics };
    }
    return { kind: 'file-token', offset, bytes, tokens: [t], intact: t.length === bytes.length, diagnostics };
  }
  const h = decodeToken(bytes, 0, bytes.length);
  if (typeof h === 'string' || !('version' in h)) {
    const why = typeof h === 'string' ? h : `record starts with token id 0x${bytes[0].toString(16)}, not a header`;
    diagnostics.push(diag('BSM_E_BAD_TOKEN', offset, offset, why, bytes[0]));
    return { kind: 'record', offset, bytes, tokens: [], intact: false, diagnostics };
  }
  const header = h as HeaderToken;
  const end = bytes.length;
  const trailerAt = end - TRAILER_SIZE;
  const trailerOk = trailerAt >= header.length && trailerMatches(bytes, trailerAt, end);
  let intact = trailerOk && header.size === end;
  if (!trailerOk) {
    let why: string;
    if (trailerAt < header.length) why = `record of ${end} bytes has no room for a trailer`;
    else if (bytes[trailerAt] !== 0x13) why = `no trailer token at the record's end (byte 0x${bytes[trailerAt].toString(16).padStart(2, '0')})`;
    else if (bytes.readUInt16BE(trailerAt + 1) !== TRAILER_MAGIC) why = `trailer magic 0x${bytes.readUInt16BE(trailerAt + 1).toString(16)} is not 0xb105`;
    else why = `trailer count ${bytes.readUInt32BE(trailerAt + 3)} differs from the record size ${end}`;
    diagnostics.push(diag('BSM_E_BAD_TRAILER', offset + Math.max(trailerAt, 0), offset, why, 0x13));
  }
  // With a bad trailer the tokens may run to the record's end (XNU header32_ex size bug, §6.1).
  const limit = trailerOk ? trailerAt : end;
  const tokens: Token[] = [header];
  const w = walk(bytes, header.length, limit, tokens);
  if (w.failure !== undefined) {
    intact = false;
    const unknown = w.failure.startsWith('unknown token id');
    diagnostics.push(
      diag(unknown ? 'BSM_E_UNKNOWN_TOKEN' : 'BSM_E_BAD_TOKEN', offset + w.failAt, offset,
        `token at record offset ${w.failAt}: ${w.failure}`, w.failId),
    );
    if (trailerOk) {
      // Keep the undecodable bytes as a token so printers can show them, then still deliver the trailer.
      tokens.push({ type: 'unknown', id: bytes[w.failAt], offset: w.failAt, length: limit - w.failAt, data: bytes.subarray(w.failAt + 1, limit) });
    }
  }
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.type === 'exec_args' || t.type === 'exec_env' || t.type === 'krb5_principal' || t.type === 'cert_hash' || t.type === 'path_attr') {
      if (t.truncated) {
        diagnostics.push(diag('BSM_W_EXEC_ARGS_TRUNCATED', offset + t.offset, offset,
          `${t.type} declares ${t.declaredCount} strings but ${t.strings.length} are present`, t.id));
      }
    } else if (t.type === 'data' && t.howToPrint > 4) {
      diagnostics.push(diag('BSM_W_DATA_FORMAT', offset + t.offset, offset, `data token print format ${t.howToPrint} is not 0-4`, t.id));
    }
  }
  if (trailerOk) {
    const trailer: TrailerToken = { type: 'trailer', id: 0x13, offset: trailerAt, length: 7, magic: TRAILER_MAGIC, count: end };
    tokens.push(trailer);
  }
  if (header.size !== end && trailerOk) {
    intact = false;
    diagnostics.push(diag('BSM_E_SIZE_MISMATCH', offset + 1, offset, `header size ${header.size} differs from the record's ${end} bytes (trailer found by walking the tokens)`));
  }
  return { kind: 'record', offset, bytes, header, tokens, intact, diagnostics };
}
