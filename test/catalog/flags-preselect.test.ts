/**
 * The flags syntax (config-files.md §7) and preselection (§8): getauditflagsbin/getauditflagschar, au_preselect,
 * and "would this decoded record be selected" (event → class, outcome from the return token, auid from the
 * subject), on records built with the encoder and decoded by the real decoder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinClassTable, parseAuditClass } from '../../src/catalog/class-table.js';
import { builtinEventTable, parseAuditEvent } from '../../src/catalog/event-table.js';
import { formatFlags, parseFlags, tryParseFlags, unnamedBits, formatMaskHex } from '../../src/catalog/flags.js';
import {
  AU_DEFAUDITID,
  AU_PRS_BOTH,
  AU_PRS_FAILURE,
  AU_PRS_SUCCESS,
  auPreselect,
  EventClassMap,
  maskForAuid,
  planClassMapAdd,
  recordOutcome,
  wouldSelect,
} from '../../src/catalog/preselect.js';
import { encodeRecord, ipv4, str } from '../../src/format/encode/index.js';
import type { TokenInput } from '../../src/format/encode/index.js';
import { decodeRecord } from '../../src/format/decode-record.js';
import { BsmkitError } from '../../src/errors.js';

const classes = builtinClassTable();
const m = (n: string) => classes.byName(n)!.mask;

test('flags: the spec examples and every prefix, left to right', () => {
  const cases: Array<[string, number, number]> = [
    ['lo,aa', m('lo') | m('aa'), m('lo') | m('aa')],
    ['all,^fr', (0xffffffff & ~m('fr')) >>> 0, (0xffffffff & ~m('fr')) >>> 0],
    ['-fr,+fw', m('fw'), m('fr')],
    ['ex,^-ex', m('ex'), 0],
    ['lo,+ex,-fr,^fa,^+fc,^-fd', m('lo') | m('ex'), m('lo') | m('fr')],
    ['fa,fc,fd,^fa,^+fc,^-fd', m('fd'), m('fc')],
    ['all,^+pc', (0xffffffff & ~m('pc')) >>> 0, 0xffffffff],
    ['', 0, 0],
    ['lo,,aa', m('lo') | m('aa'), m('lo') | m('aa')],
    ['no', 0, 0],
  ];
  for (const [text, success, failure] of cases) {
    assert.deepEqual(parseFlags(text, classes), { success: success >>> 0, failure: failure >>> 0 }, text);
  }
});

test('flags: an unknown class makes the whole string invalid, naming the item', () => {
  const r = tryParseFlags('lo,+nosuch,aa', classes);
  assert.deepEqual(r, { ok: false, error: "unknown audit class 'nosuch'", item: '+nosuch' });
  assert.equal(tryParseFlags(' lo', classes).ok, false, 'no trimming: libbsm compares bytes');
  assert.throws(() => parseFlags('ex,bogus', classes), (e: unknown) => e instanceof BsmkitError && e.code === 'BSMKIT_E_FLAGS' && /bogus/.test(e.message));
});

test('flags format: parse(format(x)) == x for masks made of named classes; unnamed bits reported', () => {
  const masks = ['lo,aa', '+ex,-fr', 'all', '+all', '-all,+pc', 'fc,+fd,-fw,ex', ''];
  for (const t of masks) {
    const mask = parseFlags(t, classes);
    const text = formatFlags(mask, classes);
    assert.deepEqual(parseFlags(text, classes), mask, `${t} → ${text}`);
  }
  assert.equal(formatFlags(parseFlags('lo,+ex,-fr', classes), classes), '-fr,lo,+ex', 'table order');
  assert.deepEqual(unnamedBits({ success: 0x00400000 | m('lo'), failure: 0 }, classes), { success: 0x00400000, failure: 0 });
  assert.equal(formatMaskHex({ success: 0x1000, failure: 0x80000000 }), 'success 0x00001000 failure 0x80000000');
});

test('au_preselect: success, failure, both; class 0 and unknown events are never selected', () => {
  const map = new EventClassMap(builtinEventTable('openbsm'), classes);
  const mask = parseFlags('+ex,-fr', classes);
  assert.equal(map.classOf(23), m('pc') | m('ex'));
  assert.equal(auPreselect(23, mask, AU_PRS_SUCCESS, map), true);
  assert.equal(auPreselect(23, mask, AU_PRS_FAILURE, map), false);
  assert.equal(auPreselect(23, mask, AU_PRS_BOTH, map), true);
  assert.equal(auPreselect(72, mask, AU_PRS_FAILURE, map), true, 'AUE_OPEN_R is fr');
  assert.equal(auPreselect(72, mask, AU_PRS_SUCCESS, map), false);
  assert.equal(auPreselect(0, parseFlags('all', classes), AU_PRS_BOTH, map), false, 'AUE_NULL has class no (0)');
  assert.equal(auPreselect(65000, parseFlags('all', classes), AU_PRS_BOTH, map), false, 'not in the table');
  // Duplicate number: the class of the last line (6171: lo first, ad last).
  assert.equal(auPreselect(6171, parseFlags('ad', classes), AU_PRS_BOTH, map), true);
  assert.equal(auPreselect(6171, parseFlags('lo', classes), AU_PRS_BOTH, map), false);
  // A class list naming an unknown class gives class 0 (kadmind's `ua`).
  assert.equal(map.classOf(6214), 0);
  map.setClass(6214, 0x00400000);
  assert.equal(auPreselect(6214, { success: 0x00400000, failure: 0 }, AU_PRS_SUCCESS, map), true);
});

/** Builds and decodes a record: header32 (or a variant), a subject (variant), a return (variant). */
function rec(opts: {
  event: number;
  auid?: number;
  status?: number;
  header?: 'header32' | 'header32_ex' | 'header64';
  subject?: 'subject32' | 'subject32_ex' | 'subject64';
  ret?: 'return32' | 'return64' | 'none';
}) {
  const body: TokenInput[] = [];
  if (opts.auid !== undefined) {
    const s = opts.subject ?? 'subject32';
    const ex = s.endsWith('_ex');
    body.push({
      type: s,
      auid: opts.auid, euid: 0, egid: 0, ruid: 0, rgid: 0, pid: 100, sid: 100,
      port: s === 'subject64' ? 0n : 0,
      addrType: ex ? 16 : 4,
      addr: ex ? Buffer.alloc(16, 1) : ipv4('10.0.0.1'),
    } as TokenInput);
  }
  body.push({ type: 'path', path: str('/bin/ls') });
  const ret = opts.ret ?? 'return32';
  if (ret !== 'none') body.push(ret === 'return32' ? { type: 'return32', status: opts.status ?? 0, value: 0 } : { type: 'return64', status: opts.status ?? 0, value: 0n });
  const h = opts.header ?? 'header32';
  const header =
    h === 'header32'
      ? { type: 'header32' as const, event: opts.event, sec: 1700000000, msec: 0 }
      : h === 'header64'
        ? { type: 'header64' as const, event: opts.event, sec: 1700000000n, msec: 0n }
        : { type: 'header32_ex' as const, event: opts.event, addrType: 4, addr: ipv4('10.0.0.2'), sec: 1700000000, msec: 0 };
  return decodeRecord(encodeRecord(header, body));
}

test('recordOutcome: event from any header, outcome from return32/return64, auid from any subject', () => {
  assert.deepEqual(recordOutcome(rec({ event: 23, auid: 501, status: 0 })), { event: 23, outcomes: [AU_PRS_SUCCESS], auid: 501 });
  assert.deepEqual(
    recordOutcome(rec({ event: 72, auid: 7, status: 2, header: 'header64', subject: 'subject64', ret: 'return64' })),
    { event: 72, outcomes: [AU_PRS_FAILURE], auid: 7 },
  );
  assert.deepEqual(recordOutcome(rec({ event: 2, auid: 9, subject: 'subject32_ex', header: 'header32_ex', ret: 'none' })), {
    event: 2,
    outcomes: [],
    auid: 9,
  });
});

test('wouldSelect: outcome-aware class check, header variants, per-auid and naflags masks', () => {
  const map = new EventClassMap(builtinEventTable('openbsm'), classes);
  const successEx = parseFlags('+ex', classes);
  const failedFr = parseFlags('-fr', classes);
  assert.equal(wouldSelect(rec({ event: 23, auid: 501, status: 0 }), successEx, map), true);
  assert.equal(wouldSelect(rec({ event: 23, auid: 501, status: 13 }), successEx, map), false, 'failed exec, success-only mask');
  assert.equal(wouldSelect(rec({ event: 72, auid: 501, status: 2, header: 'header64', ret: 'return64' }), failedFr, map), true);
  assert.equal(wouldSelect(rec({ event: 72, auid: 501, status: 0, header: 'header32_ex', ret: 'return64' }), failedFr, map), false);
  assert.equal(wouldSelect(rec({ event: 72, auid: 501, ret: 'none' }), failedFr, map), true, 'no return token: header check only');
  const file = decodeRecord(Buffer.from([0x11, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0]));
  assert.equal(wouldSelect(file, parseFlags('all', classes), map), false, 'a standalone file token is not a record');

  const masks = {
    flags: parseFlags('lo', classes),
    naflags: parseFlags('ex', classes),
    perAuid: new Map([[501, parseFlags('ex,fr', classes)]]),
  };
  assert.deepEqual(maskForAuid(masks, 501), masks.perAuid.get(501));
  assert.deepEqual(maskForAuid(masks, 1000), masks.flags);
  assert.deepEqual(maskForAuid(masks, AU_DEFAUDITID), masks.naflags);
  assert.deepEqual(maskForAuid(masks, undefined), masks.naflags);
  assert.equal(wouldSelect(rec({ event: 23, auid: 501 }), masks, map), true, 'own mask has ex');
  assert.equal(wouldSelect(rec({ event: 23, auid: 1000 }), masks, map), false, 'flags lo only');
  assert.equal(wouldSelect(rec({ event: 23, auid: AU_DEFAUDITID }), masks, map), true, 'naflags ex');
  assert.equal(wouldSelect(rec({ event: 23 }), masks, map), true, 'no subject: non-attributable');
});

test('custom class on the kernel map: plan of A_SETCLASS changes, then selection by the new bit', () => {
  const { table: cls } = parseAuditClass('0x00000080:pc:process\n0x40000000:ex:exec\n0x00400000:xn:custom\n', 'c');
  const { table: ev } = parseAuditEvent('23:AUE_EXECVE:execve(2):pc,ex\n2:AUE_FORK:fork(2):pc\n1:AUE_EXIT:exit(2):pc\n', 'e');
  const map = new EventClassMap(ev, cls);
  const plan = planClassMapAdd(map, 0x00400000, [23, 2, 23]);
  assert.deepEqual(plan, [
    { event: 23, before: 0x40000080, after: 0x40400080 },
    { event: 2, before: 0x80, after: 0x00400080 },
  ]);
  for (const c of plan) map.setClass(c.event, c.after);
  assert.deepEqual(map.eventsIn(0x00400000), [2, 23]);
  assert.equal(wouldSelect(rec({ event: 2, auid: 5 }), parseFlags('xn', cls), map), true);
  assert.equal(wouldSelect(rec({ event: 1, auid: 5 }), parseFlags('xn', cls), map), false);
});
