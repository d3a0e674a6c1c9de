/** audit_control and audit_user (config-files.md §5, §6): parse real files, write them, session masks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { builtinClassTable } from '../../src/catalog/class-table.js';
import {
  formatAuditControl,
  formatSize,
  loadAuditControlFile,
  parseAuditControl,
  parseExpireAfter,
  parseSize,
  policyBits,
} from '../../src/catalog/control.js';
import { formatAuditUser, loadAuditUserFile, parseAuditUser, sessionMask } from '../../src/catalog/user.js';
import { parseFlags } from '../../src/catalog/flags.js';
import { formatCatalogDiagnostic } from '../../src/catalog/diagnostics.js';
import { BsmkitError } from '../../src/errors.js';

const classes = builtinClassTable();

/** OpenBSM's etc/audit_control (with its comment header shortened). */
const OPENBSM_CONTROL = `#
# $P4: //depot/projects/trustedbsd/openbsm/etc/audit_control#8 $
#
dir:/var/audit
dist:off
flags:lo,aa
minfree:5
naflags:lo,aa
policy:cnt,argv
filesz:2M
expire-after:10M
`;

test('audit_control: the OpenBSM default file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-ctl-'));
  try {
    writeFileSync(join(dir, 'audit_control'), OPENBSM_CONTROL);
    const { control, diagnostics } = loadAuditControlFile(join(dir, 'audit_control'), { classes });
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(control.dirs, ['/var/audit']);
    assert.equal(control.dist, false);
    assert.equal(control.flags, 'lo,aa');
    assert.deepEqual(parseFlags(control.naflags!, classes), { success: 0x3000, failure: 0x3000 });
    assert.equal(control.minfree, 5);
    assert.deepEqual(control.policy, ['cnt', 'argv']);
    assert.equal(policyBits(control.policy!), 0x0005);
    assert.equal(control.filesz, 2 * 1024 * 1024);
    assert.deepEqual(control.expireAfter, { sizeBytes: 10 * 1024 * 1024 });
    // Writing it back gives the same non-comment lines.
    assert.equal(formatAuditControl(control), OPENBSM_CONTROL.split('\n').filter((l) => l && !l.startsWith('#')).join('\n') + '\n');
    assert.throws(() => loadAuditControlFile(join(dir, 'nope')), BsmkitError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audit_control: several dir fallbacks, host with colons, every bad value named by line', () => {
  const text = [
    'dir:/var/audit',
    'dir:/mnt/audit2',
    'host:fe80::1',
    'flags:lo,+ex,nosuch',
    'minfree:150',
    'policy:cnt,bogus',
    'filesz:100K',
    'expire-after:forever',
    'qsize:0',
    'dist:maybe',
    'colour:blue',
    'no colon here',
    'flags:ad',
    'dir:',
  ].join('\n');
  const { control, diagnostics } = parseAuditControl(text, 'ctl', { classes });
  assert.deepEqual(control.dirs, ['/var/audit', '/mnt/audit2']);
  assert.equal(control.host, 'fe80::1');
  assert.equal(control.flags, 'lo,+ex,nosuch', 'kept as written, reported');
  assert.equal(control.filesz, 100 * 1024, 'kept, with a warning');
  const got = diagnostics.map((d) => `${d.line} ${d.code}`);
  assert.deepEqual(got, [
    '4 CAT_W_UNKNOWN_CLASS',
    '5 CAT_W_VALUE',
    '6 CAT_W_VALUE',
    '7 CAT_W_VALUE',
    '8 CAT_W_VALUE',
    '9 CAT_W_VALUE',
    '10 CAT_W_VALUE',
    '11 CAT_W_UNKNOWN_KEY',
    '12 CAT_E_SYNTAX',
    '13 CAT_W_DUPLICATE',
    '14 CAT_W_VALUE',
  ]);
  assert.equal(formatCatalogDiagnostic(diagnostics[2]!), "ctl:6: warning: unknown policy word 'bogus'");
  assert.match(diagnostics[3]!.message, /below the 512K minimum/);
});

test('sizes and expire-after: suffixes and AND/OR', () => {
  assert.equal(parseSize('2M'), 2097152);
  assert.equal(parseSize('512k'), 524288);
  assert.equal(parseSize('1G'), 1073741824);
  assert.equal(parseSize('100'), 100);
  assert.equal(parseSize('2X'), undefined);
  assert.equal(formatSize(2097152), '2M');
  assert.equal(formatSize(1000), '1000B');
  assert.deepEqual(parseExpireAfter('30d'), { ageSeconds: 30 * 86400 });
  assert.deepEqual(parseExpireAfter('1y OR 500M'), { ageSeconds: 365 * 86400, op: 'or', sizeBytes: 500 * 1048576 });
  assert.deepEqual(parseExpireAfter('7d and 1G'), { ageSeconds: 7 * 86400, op: 'and', sizeBytes: 1073741824 });
  assert.equal(parseExpireAfter('7d and 8d'), undefined, 'two ages');
  assert.equal(parseExpireAfter('10Q'), undefined);
  const written = formatAuditControl({ dirs: ['/a'], expireAfter: { ageSeconds: 86400 * 2, sizeBytes: 1048576, op: 'and' } });
  assert.equal(written, 'dir:/a\nexpire-after:2d AND 1M\n');
  assert.deepEqual(parseAuditControl(written, 'w').control.expireAfter, { ageSeconds: 172800, op: 'and', sizeBytes: 1048576 });
});

test('audit_user: default file, flags checked, empty-field quirk, duplicates; session masks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-usr-'));
  try {
    const path = join(dir, 'audit_user');
    writeFileSync(path, '# users\nroot:lo:no\nalice:ex,+fc:fr\nbob::lo\ncarol:nosuch:\nroot:all:no\n:lo:no\ndave:lo\n');
    const { entries, diagnostics } = loadAuditUserFile(path, { classes });
    assert.deepEqual(entries.map((e) => e.user), ['root', 'alice', 'bob', 'carol', 'root', 'dave']);
    assert.deepEqual(
      diagnostics.map((d) => `${d.line} ${d.code}`),
      ['4 CAT_W_EMPTY_FIELD', '5 CAT_W_UNKNOWN_CLASS', '6 CAT_W_DUPLICATE', '7 CAT_E_SYNTAX', '8 CAT_W_EMPTY_FIELD'],
    );
    assert.match(diagnostics[0]!.message, /libbsm collapses it and reads 'lo' as alwaysaudit/);
    const alice = entries[1]!;
    const control = parseFlags('lo,aa,fr', classes);
    const mask = sessionMask(control, { always: parseFlags(alice.always, classes), never: parseFlags(alice.never, classes) });
    // (flags | always) & ~never per side.
    assert.deepEqual(mask, {
      success: (0x1000 | 0x2000 | 0x40000000 | 0x10) >>> 0,
      failure: (0x1000 | 0x2000 | 0x40000000) >>> 0,
    });
    assert.deepEqual(sessionMask(control), control);
    const text = formatAuditUser(entries.slice(0, 2));
    assert.equal(text, 'root:lo:no\nalice:ex,+fc:fr\n');
    assert.deepEqual(parseAuditUser(text, 'rt').entries.map(({ user, always, never }) => [user, always, never]), [
      ['root', 'lo', 'no'],
      ['alice', 'ex,+fc', 'fr'],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
