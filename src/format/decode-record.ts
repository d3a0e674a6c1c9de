/**
 * Decodes one framed record (header … trailer) into the raw model, tolerating damage:
 * a token that cannot be decoded ends decoding of that record only (bsm-format.md §2.4 rule 6), the trailer is
 * checked but a bad one does not lose the record, and XNU's over-counted exec args are recovered (§5.4).
 */
import { decodeToken, u16, u32, view } from './decode-token.js';
import { TokenIndex } from './token-index.js';
import { TRAILER_MAGIC, TRAILER_SIZE } from './token-ids.js';
import type { BsmRecord, Diagnostic, HeaderToken, StringListToken, Token, TrailerToken } from './types.js';

function diag(code: Diagnostic['code'], offset: number, recordOffset: number, message: string, tokenId?: number): Diagnostic {
  const d: Diagnostic = { code, offset, recordOffset, message, severity: code.startsWith('BSM_W') ? 'warning' : 'error' };
  if (tokenId !== undefined) d.tokenId = tokenId;
  return d;
}

const shared = new TokenIndex();

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
  const idx = shared;
  idx.walk(bytes);
  const trailerAt = end - TRAILER_SIZE;
  const trailerOk = idx.trailerOk;
  let intact = trailerOk && header.size === end && idx.failAt < 0;
  if (!trailerOk) {
    let why: string;
    if (trailerAt < header.length) why = `record of ${end} bytes has no room for a trailer`;
    else if (bytes[trailerAt] !== 0x13) why = `no trailer token at the record's end (byte 0x${bytes[trailerAt].toString(16).padStart(2, '0')})`;
    else if (u16(trailerAt + 1) !== TRAILER_MAGIC) why = `trailer magic 0x${u16(trailerAt + 1).toString(16)} is not 0xb105`;
    else why = `trailer count ${u32(trailerAt + 3)} differs from the record size ${end}`;
    diagnostics.push(diag('BSM_E_BAD_TRAILER', offset + Math.max(trailerAt, 0), offset, why, 0x13));
  }
  const tokens: Token[] = [header];
  for (let i = 1; i < idx.count; i++) {
    const id = idx.ids[i], s = idx.starts[i], e = idx.ends[i], lim = idx.stringLimits[i];
    if (lim === -2) {
      // Undecodable bytes up to the trailer are kept as one token so printers can show them.
      tokens.push({ type: 'unknown', id, offset: s, length: e - s, data: bytes.subarray(s + 1, e) });
    } else if (id === 0x13 && i === idx.count - 1 && trailerOk) {
      tokens.push({ type: 'trailer', id, offset: s, length: 7, magic: TRAILER_MAGIC, count: end } as TrailerToken);
    } else {
      const t = decodeToken(bytes, s, e, lim) as Token;
      tokens.push(t);
      if (lim >= 0) {
        const st = t as StringListToken;
        diagnostics.push(diag('BSM_W_EXEC_ARGS_TRUNCATED', offset + s, offset,
          `${st.type} declares ${st.declaredCount} strings but ${st.strings.length} are present`, id));
      } else if (id === 0x21 && bytes[s + 1] > 4) {
        diagnostics.push(diag('BSM_W_DATA_FORMAT', offset + s, offset, `data token print format ${bytes[s + 1]} is not 0-4`, id));
      }
    }
  }
  if (idx.failAt >= 0) {
    const f = idx.failAt;
    const why = decodeToken(bytes, f, trailerOk ? trailerAt : end);
    const msg = typeof why === 'string' ? why : 'token does not end where the record does';
    const unknown = msg.startsWith('unknown token id');
    diagnostics.push(diag(unknown ? 'BSM_E_UNKNOWN_TOKEN' : 'BSM_E_BAD_TOKEN', offset + f, offset, `token at record offset ${f}: ${msg}`, bytes[f]));
  }
  if (header.size !== end && trailerOk) {
    intact = false;
    diagnostics.push(diag('BSM_E_SIZE_MISMATCH', offset + 1, offset, `header size ${header.size} differs from the record's ${end} bytes (trailer found by walking the tokens)`));
  }
  return { kind: 'record', offset, bytes, header, tokens, intact, diagnostics };
}
