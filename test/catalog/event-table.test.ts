import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import {
  builtinEventTable,
  hostOrBuiltinEventTable,
  parseAuditEvent,
  loadAuditEventFile,
} from '../../src/catalog/event-table.js';
import { dataFile } from '../../src/catalog/paths.js';

const conformance = join(import.meta.dirname, '../../../shared/conformance');

test('OpenBSM audit_event: 677 events, duplicates kept, sha256 recorded in NOTICE', () => {
  const t = builtinEventTable('openbsm');
  assert.equal(t.entries().length, 677);
  const bytes = readFileSync(dataFile('openbsm', 'audit_event'));
  const sum = createHash('sha256').update(bytes).digest('hex');
  const notice = readFileSync(join(dataFile('openbsm', 'audit_event'), '../NOTICE'), 'utf8');
  assert.ok(notice.includes(`${sum}  audit_event`), 'NOTICE records the sha256 of the shipped audit_event');
  const { diagnostics } = parseAuditEvent(bytes.toString('latin1'), 'audit_event');
  assert.deepEqual(diagnostics, []);
});

test('duplicate numbers: first line for names, last line for classes (config-files.md §3)', () => {
  const t = builtinEventTable('openbsm');
  const dup: Array<[number, string, string]> = [
    [301, 'AUE_PORTFS', 'AUE_DARWIN_GETFSSTAT'],
    [6168, 'AUE_shutdown', 'AUE_poweroff'],
    [6171, 'AUE_ftpd_logout', 'AUE_DARWIN_audit_startup'],
    [6172, 'AUE_ssh', 'AUE_DARWIN_audit_shutdown'],
  ];
  for (const [n, first, last] of dup) {
    assert.equal(t.describe(n)?.name, first);
    assert.equal(t.lookupForClass(n)?.name, last);
  }
  assert.deepEqual(t.lookupForClass(6171)?.classes, ['ad']);
  assert.deepEqual(t.describe(6171)?.classes, ['lo']);
  assert.equal(t.byName('AUE_EXECVE')?.number, 23);
  assert.deepEqual(t.byName('AUE_EXECVE')?.classes, ['pc', 'ex']);
  assert.equal(t.describe(44901), undefined, 'macOS session events are not in OpenBSM’s table');
  assert.equal(t.describe(6180)?.description, ' profile command', 'descriptions are kept byte for byte');
});

test('every event name the reference praudit printed matches the table (oracle -n and -s -n outputs)', () => {
  const t = builtinEventTable('openbsm');
  const index = JSON.parse(readFileSync(join(conformance, 'generated/index.json'), 'utf8'));
  let checked = 0;
  for (const f of ['clean.bsm', 'realistic.bsm']) {
    const events: number[] = index.files[f].entries.filter((e: { kind: string }) => e.kind === 'record')
      .map((e: { event: number }) => e.event);
    for (const [mode, field] of [['n', 'description'], ['sn', 'name']] as const) {
      const out = readFileSync(join(conformance, `oracle/generated/${f}.${mode}.txt`)).toString('latin1');
      // Headers start a line: header,size,version,EVENT,modifier,… (descriptions may contain commas).
      const printed = [...out.matchAll(/(?:^|\n)header(?:_ex)?,\d+,\d+,([^\n]*?),\d+,/g)].map((m) => m[1]);
      if (printed.length !== events.length) continue; // a record text broke the line structure: skip that file
      printed.forEach((p, i) => {
        const e = t.describe(events[i]!);
        assert.equal(p, e ? e[field] : String(events[i]), `${f} ${mode} record ${i} event ${events[i]}`);
        checked++;
      });
    }
  }
  assert.ok(checked >= 1800, `checked ${checked} headers`);
});

test('hostOrBuiltinEventTable prefers the host file and re-reads it when it changes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-evt-'));
  try {
    assert.equal(hostOrBuiltinEventTable('openbsm', { dir }).entries().length, 677, 'no host file: built-in');
    writeFileSync(join(dir, 'audit_event'), '1:AUE_MINE:mine:pc\n');
    assert.equal(hostOrBuiltinEventTable('openbsm', { dir }).describe(1)?.name, 'AUE_MINE');
    writeFileSync(join(dir, 'audit_event'), '1:AUE_OTHER:changed file:pc\n2:AUE_X:x:no\n');
    assert.equal(hostOrBuiltinEventTable('openbsm', { dir }).describe(1)?.name, 'AUE_OTHER');
    assert.equal(loadAuditEventFile(join(dir, 'audit_event')).table.size, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
