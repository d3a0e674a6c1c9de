/**
 * audit_class and audit_event parsing and writing (config-files.md §2, §3, §11): real files in temp dirs, the
 * shipped tables, the host-override rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  builtinClassTable,
  formatAuditClass,
  hostOrBuiltinClassTable,
  loadAuditClassFile,
  parseAuditClass,
} from '../../src/catalog/class-table.js';
import { builtinEventTable, formatAuditEvent, loadAuditEventFile, parseAuditEvent } from '../../src/catalog/event-table.js';
import { formatCatalogDiagnostic } from '../../src/catalog/diagnostics.js';
import { loadCatalog } from '../../src/catalog/catalog.js';
import { BsmkitError } from '../../src/errors.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'bsmkit-cat-'));
}

test('built-in audit_class: the 20 default classes with their masks', () => {
  const t = builtinClassTable();
  assert.equal(t.entries().length, 20);
  const expect: Array<[string, number]> = [
    ['no', 0], ['fr', 1], ['fw', 2], ['fa', 4], ['fm', 8], ['fc', 0x10], ['fd', 0x20], ['cl', 0x40], ['pc', 0x80],
    ['nt', 0x100], ['ip', 0x200], ['na', 0x400], ['ad', 0x800], ['lo', 0x1000], ['aa', 0x2000], ['ap', 0x4000],
    ['io', 0x20000000], ['ex', 0x40000000], ['ot', 0x80000000], ['all', 0xffffffff],
  ];
  for (const [name, mask] of expect) assert.equal(t.byName(name)?.mask, mask, name);
  assert.equal(t.byName('ua'), undefined, 'ua (kadmind) is not a default class');
  assert.equal(t.usedBits(), 0xe0007fff);
});

test('audit_class: hex and decimal masks, errors and warnings name file and line', () => {
  const text = [
    '# comment',
    '0x00000001:fr:file read',
    '2:fw:decimal mask',
    'zz:bad:not a number',
    '0x100000000:big:too wide',
    '0x00000004::no name',
    '0x00000008:toolongname:name over 7 bytes',
    '0x00000010:fc',
    '0x00000001:dup:same mask as fr',
    '0x00000020:fr:same name again',
    '0x00000040:cl:' + 'd'.repeat(72),
    ':0x00000080:pc:shifted',
    '0x00000100:nt:network:extra',
    '',
  ].join('\n');
  const { table, diagnostics } = parseAuditClass(text, '/x/audit_class');
  const byLine = (l: number) => diagnostics.filter((d) => d.line === l).map((d) => d.code);
  assert.equal(table.byName('fw')?.mask, 2);
  assert.deepEqual(byLine(4), ['CAT_E_NUMBER']);
  assert.deepEqual(byLine(5), ['CAT_E_NUMBER']);
  assert.deepEqual(byLine(6), ['CAT_W_EMPTY_FIELD', 'CAT_E_SYNTAX']);
  assert.deepEqual(byLine(7), ['CAT_W_TOO_LONG']);
  assert.deepEqual(byLine(8), ['CAT_W_EMPTY_FIELD'], 'no description: libbsm rejects the line');
  assert.deepEqual(byLine(9), ['CAT_W_DUPLICATE']);
  assert.deepEqual(byLine(10), ['CAT_W_DUPLICATE']);
  assert.equal(table.byName('fr')?.mask, 1, 'the first line with a name wins');
  assert.deepEqual(byLine(11), ['CAT_W_TOO_LONG']);
  assert.deepEqual(byLine(12), ['CAT_W_EMPTY_FIELD', 'CAT_W_EXTRA_FIELD', 'CAT_E_NUMBER'], 'a leading empty field: libbsm shifts');
  assert.match(diagnostics.find((d) => d.line === 12)!.message, /libbsm collapses empty fields and reads mask '0x00000080', name 'pc'/);
  assert.deepEqual(byLine(13), ['CAT_W_EXTRA_FIELD']);
  assert.equal(
    formatCatalogDiagnostic(diagnostics.find((d) => d.line === 4)!),
    "/x/audit_class:4: error: class mask 'zz' is not a 32-bit number; line skipped",
  );
});

test('audit_class writer output parses back to the same classes, for the built-in table', () => {
  const t = builtinClassTable();
  const text = formatAuditClass(t.entries());
  assert.match(text, /^0x00000000:no:invalid class\n/);
  const again = parseAuditClass(text, 'round-trip');
  assert.deepEqual(again.diagnostics, []);
  assert.deepEqual(
    again.table.entries().map(({ mask, name, description }) => ({ mask, name, description })),
    t.entries().map(({ mask, name, description }) => ({ mask, name, description })),
  );
});

test('audit_event: limits, unknown classes, numbers, empty fields (line skipped or warned as libbsm)', () => {
  const text = [
    '1:AUE_EXIT:exit(2):pc',
    'x:AUE_BAD:not a number:pc',
    '70000:AUE_BIG:over 16 bits:pc',
    '3:' + 'AUE_' + 'N'.repeat(26) + ':name 30 bytes:pc',
    '4:AUE_LONGDESC:' + 'd'.repeat(50) + ':pc',
    '5:AUE_UNK:unknown class:pc,zz',
    '6:AUE_NODESC::pc',
    '7::no name:pc',
    '2:AUE_FORK:fork(2):pc',
    '2:AUE_FORK_AGAIN:second line:ex',
    '',
  ].join('\n');
  const classNames = builtinClassTable().names();
  const { table, diagnostics } = parseAuditEvent(text, 'ev', { classNames });
  const codes = (l: number) => diagnostics.filter((d) => d.line === l).map((d) => d.code);
  assert.deepEqual(codes(2), ['CAT_E_NUMBER']);
  assert.deepEqual(codes(3), ['CAT_E_NUMBER']);
  assert.deepEqual(codes(4), ['CAT_W_TOO_LONG']);
  assert.deepEqual(codes(5), ['CAT_W_TOO_LONG']);
  assert.deepEqual(codes(6), ['CAT_W_UNKNOWN_CLASS']);
  assert.match(diagnostics.find((d) => d.line === 6)!.message, /'zz'.*class is 0/);
  assert.deepEqual(codes(7), ['CAT_W_EMPTY_FIELD']);
  assert.match(diagnostics.find((d) => d.line === 7)!.message, /description 'pc'/, 'names the libbsm reading');
  assert.deepEqual(codes(8), ['CAT_W_EMPTY_FIELD', 'CAT_E_SYNTAX']);
  assert.deepEqual(table.entries().map((e) => e.number), [1, 5, 6, 2, 2], 'skipped lines are absent, duplicates kept');
  assert.equal(table.describe(6)?.description, '', 'bsmkit reads fields by position');
  assert.deepEqual(table.describe(6)?.classes, ['pc']);
  assert.equal(table.describe(2)?.name, 'AUE_FORK');
  assert.equal(table.lookupForClass(2)?.name, 'AUE_FORK_AGAIN');
  // libbsm's collapse, on request.
  const collapsed = parseAuditEvent('6:AUE_NODESC::pc\n', 'ev', { collapseEmptyFields: true }).table;
  assert.equal(collapsed.describe(6)?.description, 'pc');
  assert.deepEqual(collapsed.describe(6)?.classes, []);
});

test('audit_event writer: the built-in OpenBSM table round-trips, duplicates and order kept', () => {
  const t = builtinEventTable('openbsm');
  const text = formatAuditEvent(t.entries());
  const again = parseAuditEvent(text, 'rt', { classNames: new Set([...builtinClassTable().names(), 'ua']) });
  assert.deepEqual(again.diagnostics, []);
  assert.equal(again.table.size, 677);
  assert.deepEqual(
    again.table.entries().map(({ number, name, description, classes }) => [number, name, description, classes]),
    t.entries().map(({ number, name, description, classes }) => [number, name, description, classes]),
  );
});

test('macOS table: XNU numbers for 233 and 43201–43218, macOS-only events, OpenBSM user events kept', () => {
  const mac = builtinEventTable('macos');
  const bsd = builtinEventTable('openbsm');
  const pairs: Array<[number, string, string]> = [
    [233, 'AUE_FUSERS', 'AUE_UTSSYS'],
    [43187, 'AUE_CAP_GETRIGHTS', 'AUE_CAP_RIGHTS_GET'],
    [43201, 'AUE_GETATTRLISTBULK', 'AUE_WAIT6'],
    [43210, 'AUE_CLONEFILEAT', 'AUE_PREADV'],
    [43216, 'AUE_PREADV', 'AUE_AIO_WRITE'],
    [43218, 'AUE_FREADLINK', 'AUE_AIO_SUSPEND'],
  ];
  for (const [n, m, b] of pairs) {
    assert.equal(mac.describe(n)?.name, m, `macOS ${n}`);
    assert.equal(bsd.describe(n)?.name, b, `OpenBSM ${n}`);
  }
  for (const [n, name] of [[362, 'AUE_TRACKERACTION'], [44901, 'AUE_SESSION_START'], [44904, 'AUE_SESSION_CLOSE']] as const) {
    assert.equal(mac.describe(n)?.name, name);
    assert.equal(bsd.describe(n), undefined);
  }
  for (const n of [6153, 32800, 45000, 23]) assert.equal(mac.describe(n)?.name, bsd.describe(n)?.name, `event ${n}`);
});

test('host files win over the built-in tables; any directory can be given; unreadable file is an error', () => {
  const dir = tempDir();
  try {
    let cat = loadCatalog({ dir, platform: 'openbsm' });
    assert.equal(cat.classSource, 'builtin:openbsm');
    assert.equal(cat.events.size, 677);
    writeFileSync(join(dir, 'audit_class'), '0x00000080:pc:process\n0x00400000:xn:custom\n');
    writeFileSync(join(dir, 'audit_event'), '23:AUE_EXECVE:execve(2):pc,xn\n2:AUE_FORK:fork(2):pc,nosuch\n');
    cat = loadCatalog({ dir, platform: 'macos' });
    assert.equal(cat.classSource, join(dir, 'audit_class'));
    assert.equal(cat.eventSource, join(dir, 'audit_event'));
    assert.equal(cat.map.classOf(23), 0x00400080);
    assert.equal(cat.map.classOf(2), 0, 'unknown class in the list: class 0, as libbsm');
    assert.deepEqual(cat.diagnostics.map((d) => [d.code, d.line]), [['CAT_W_UNKNOWN_CLASS', 2]]);
    assert.equal(hostOrBuiltinClassTable({ dir }).byName('xn')?.mask, 0x00400000);
    assert.equal(loadCatalog({ dir, builtin: true, platform: 'openbsm' }).events.size, 677, '--builtin ignores files');
    assert.throws(() => loadAuditClassFile(join(dir, 'missing')), (e: unknown) => e instanceof BsmkitError && /missing/.test(e.message));
    assert.throws(() => loadAuditEventFile(dir), BsmkitError, 'a directory is not a table');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CRLF files are read with a warning per line, and latin1 bytes survive', () => {
  const { table, diagnostics } = parseAuditClass('0x00000001:fr:file read\r\n0x00000002:fw:caf\u00e9\r\n', 'crlf');
  assert.equal(table.byName('fr')?.description, 'file read');
  assert.deepEqual(diagnostics.map((d) => d.code), ['CAT_W_CRLF', 'CAT_W_CRLF']);
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'audit_event'), Buffer.from([...Buffer.from('1:AUE_X:caf'), 0xe9, ...Buffer.from(':pc\n')]));
    assert.equal(loadAuditEventFile(join(dir, 'audit_event')).table.describe(1)?.description, 'caf\u00e9');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
