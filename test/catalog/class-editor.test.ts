/**
 * The custom-class editor as a library: plans (validation, diff), and applying them to real files in a temp dir
 * (backup, modes kept, only the touched lines change, lock, concurrent-change refusal).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { addClass, planAddClass, planDiff, planRemoveClass, removeClass } from '../../src/catalog/class-editor.js';
import { lockDir, replaceFileAtomically } from '../../src/catalog/atomic-file.js';
import { dataFile } from '../../src/catalog/paths.js';
import { loadCatalog } from '../../src/catalog/catalog.js';
import { parseFlags } from '../../src/catalog/flags.js';
import { BsmkitError } from '../../src/errors.js';

function upstreamDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-edit-'));
  copyFileSync(dataFile('openbsm', 'audit_class'), join(dir, 'audit_class'));
  copyFileSync(dataFile('openbsm', 'audit_event'), join(dir, 'audit_event'));
  return dir;
}

const isEditError = (re: RegExp) => (e: unknown) => e instanceof BsmkitError && e.code === 'BSMKIT_E_CLASS_EDIT' && re.test(e.message);

test('add: auto picks the lowest free bit; only the class line and the chosen events change', async () => {
  const dir = upstreamDir();
  try {
    chmodSync(join(dir, 'audit_class'), 0o640);
    chmodSync(join(dir, 'audit_event'), 0o604);
    const classBefore = readFileSync(join(dir, 'audit_class'), 'utf8');
    const eventBefore = readFileSync(join(dir, 'audit_event'), 'utf8');
    const plan = await addClass(dir, { name: 'xn', mask: 'auto', events: ['AUE_EXECVE', 'AUE_FORK', '25'] });
    assert.equal(plan.mask, 0x00008000);
    assert.deepEqual(plan.events, [2, 23, 25]);
    const classAfter = readFileSync(join(dir, 'audit_class'), 'utf8');
    const eventAfter = readFileSync(join(dir, 'audit_event'), 'utf8');
    const cl = classAfter.split('\n');
    const idx = cl.indexOf('0x00008000:xn:custom class xn');
    assert.ok(idx > 0 && cl[idx - 1]!.startsWith('0x00004000:ap') && cl[idx + 1]!.startsWith('0x20000000:io'), 'inserted in mask order');
    assert.deepEqual(cl.filter((_, i) => i !== idx), classBefore.split('\n'), 'every other line kept');
    const changed = eventAfter.split('\n').map((l, i) => [l, eventBefore.split('\n')[i]]).filter(([a, b]) => a !== b);
    assert.deepEqual(changed, [
      ['2:AUE_FORK:fork(2):pc,xn', '2:AUE_FORK:fork(2):pc'],
      ['23:AUE_EXECVE:execve(2):pc,ex,xn', '23:AUE_EXECVE:execve(2):pc,ex'],
      ['25:AUE_VFORK:vfork(2):pc,xn', '25:AUE_VFORK:vfork(2):pc'],
    ]);
    // Modes kept; backups hold the old content with the same mode.
    assert.equal(statSync(join(dir, 'audit_class')).mode & 0o777, 0o640);
    assert.equal(statSync(join(dir, 'audit_event')).mode & 0o777, 0o604);
    assert.equal(readFileSync(join(dir, 'audit_class.bak'), 'utf8'), classBefore);
    assert.equal(readFileSync(join(dir, 'audit_event.bak'), 'utf8'), eventBefore);
    assert.equal(statSync(join(dir, 'audit_event.bak')).mode & 0o777, 0o604);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.includes('lock')), [], 'no temp or lock left');
    // The result is what libbsm-style readers see.
    const cat = loadCatalog({ dir });
    // Only upstream's own quirk: kadmind's events name the class `ua`, which audit_class lacks.
    assert.deepEqual(cat.diagnostics.map((d) => d.message.split(':')[0]), ['AUE_kadmind_auth', 'AUE_kadmind_unauth']);
    assert.deepEqual(cat.map.eventsIn(parseFlags('xn', cat.classes).success), [2, 23, 25]);
    // A second add picks the next bit.
    const p2 = await addClass(dir, { name: 'yy', mask: 'auto', events: [1] }, { backup: false });
    assert.equal(p2.mask, 0x00010000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('add validation: name, collisions, bit, reserved bit, events, description', () => {
  const dir = upstreamDir();
  try {
    const ct = readFileSync(join(dir, 'audit_class'), 'utf8');
    const et = readFileSync(join(dir, 'audit_event'), 'utf8');
    const plan = (req: Parameters<typeof planAddClass>[4]) => planAddClass('C', ct, 'E', et, req);
    assert.throws(() => plan({ name: 'toolong1', mask: 'auto', events: [23] }), isEditError(/too long.*7/));
    assert.throws(() => plan({ name: 'a:b', mask: 'auto', events: [23] }), isEditError(/letters, digits/));
    assert.throws(() => plan({ name: 'ex', mask: 'auto', events: [23] }), isEditError(/already exists/));
    assert.throws(() => plan({ name: 'xn', mask: 0x40000000, events: [23] }), isEditError(/already used by class 'ex'/));
    assert.throws(() => plan({ name: 'xn', mask: 0x00018000, events: [23] }), isEditError(/exactly one bit/));
    assert.throws(() => plan({ name: 'xn', mask: 0, events: [23] }), isEditError(/exactly one bit/));
    assert.throws(() => plan({ name: 'xn', mask: 0x10000000, events: [23] }), isEditError(/protected on macOS/));
    assert.equal(plan({ name: 'xn', mask: 0x10000000, events: [23], allowReserved: true }).mask, 0x10000000);
    assert.throws(() => plan({ name: 'xn', mask: 'auto', events: ['AUE_NOPE', '60000'] }), isEditError(/unknown event\(s\) in E: AUE_NOPE, 60000/));
    assert.throws(() => plan({ name: 'xn', mask: 'auto', events: [] }), isEditError(/no events/));
    assert.throws(() => plan({ name: 'xn', mask: 'auto', events: [23], description: 'a:b' }), isEditError(/':'/));
    assert.throws(() => plan({ name: 'xn', mask: 'auto', events: [23], description: 'd'.repeat(72) }), isEditError(/too long/));
    // Every free bit taken: auto has nothing left.
    let full = ct;
    for (let b = 0x8000; b <= 0x08000000; b *= 2) full += `0x${b.toString(16).padStart(8, '0')}:c${b.toString(16)}:x\n`;
    assert.throws(() => planAddClass('C', full, 'E', et, { name: 'xn', mask: 'auto', events: [23] }), isEditError(/no free class bit/));
    // Duplicate event numbers: every line of the number gets the class, with a note.
    const dup = plan({ name: 'xn', mask: 'auto', events: [6171] });
    assert.match(dup.notes[0]!, /6171 has 2 lines \(AUE_ftpd_logout, AUE_DARWIN_audit_startup\)/);
    assert.match(planDiff(dup), /^-6171:AUE_ftpd_logout:ftp logout:lo\n\+6171:AUE_ftpd_logout:ftp logout:lo,xn$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dry run: a unified diff, nothing written', async () => {
  const dir = upstreamDir();
  try {
    const before = readFileSync(join(dir, 'audit_event'));
    const mtime = statSync(join(dir, 'audit_event')).mtimeMs;
    const plan = await addClass(dir, { name: 'xn', mask: 0x00400000, events: ['AUE_EXECVE'] }, { dryRun: true });
    const diff = planDiff(plan);
    assert.match(diff, new RegExp(`^--- ${join(dir, 'audit_class')}\n\\+\\+\\+ .* \\(new\\)\n@@ -17,6 \\+17,7 @@\n`));
    assert.match(diff, /^\+0x00400000:xn:custom class xn$/m);
    assert.match(diff, /^-23:AUE_EXECVE:execve\(2\):pc,ex\n\+23:AUE_EXECVE:execve\(2\):pc,ex,xn$/m);
    assert.ok(readFileSync(join(dir, 'audit_event')).equals(before));
    assert.equal(statSync(join(dir, 'audit_event')).mtimeMs, mtime);
    assert.equal(readdirSync(dir).length, 2, 'no backup, temp or lock file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('remove: events stop using the class first, then the class goes; defaults need force', async () => {
  const dir = upstreamDir();
  try {
    const classOrig = readFileSync(join(dir, 'audit_class'), 'utf8');
    const eventOrig = readFileSync(join(dir, 'audit_event'), 'utf8');
    await addClass(dir, { name: 'xn', mask: 'auto', events: ['AUE_EXECVE', 'AUE_FORK'] }, { backup: false });
    const plan = await removeClass(dir, { name: 'xn' });
    assert.deepEqual(plan.edits.map((e) => e.path), [join(dir, 'audit_event'), join(dir, 'audit_class')]);
    assert.deepEqual(plan.events, [2, 23]);
    assert.equal(readFileSync(join(dir, 'audit_class'), 'utf8'), classOrig, 'byte-identical to before the add');
    assert.equal(readFileSync(join(dir, 'audit_event'), 'utf8'), eventOrig);
    await assert.rejects(removeClass(dir, { name: 'xn' }), isEditError(/not in/));
    await assert.rejects(removeClass(dir, { name: 'ot' }), isEditError(/default classes.*--force/));
    const forced = planRemoveClass('C', classOrig, 'E', eventOrig, { name: 'io', force: true });
    // AUE_IOCTL was `io` only: the list becomes `no` (class 0) rather than empty.
    assert.match(planDiff(forced), /^\+[0-9]+:AUE_IOCTL:ioctl\(2\):no$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('atomic replace refuses when the file changed since it was read; a live lock blocks a second editor', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-atomic-'));
  try {
    const f = join(dir, 'audit_class');
    writeFileSync(f, 'old\n');
    await assert.rejects(
      replaceFileAtomically(f, 'new\n', { expected: Buffer.from('something else\n') }),
      (e: unknown) => e instanceof BsmkitError && e.code === 'BSMKIT_E_CONCURRENT_EDIT',
    );
    assert.equal(readFileSync(f, 'utf8'), 'old\n');
    assert.deepEqual(readdirSync(dir), ['audit_class'], 'the temp file is cleaned up');
    await replaceFileAtomically(f, 'new\n', { expected: Buffer.from('old\n') });
    assert.equal(readFileSync(f, 'utf8'), 'new\n');
    await assert.rejects(replaceFileAtomically(join(dir, 'missing'), 'x'), (e: unknown) => e instanceof BsmkitError && e.code === 'BSMKIT_E_CATALOG_WRITE');

    const release = await lockDir(dir);
    await assert.rejects(lockDir(dir), (e: unknown) => e instanceof BsmkitError && e.code === 'BSMKIT_E_LOCKED' && e.message.includes(String(process.pid)));
    await release();
    // A lock left by a dead process is taken over.
    writeFileSync(join(dir, '.bsmkit-catalog.lock'), '999999999\n');
    const again = await lockDir(dir);
    await again();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
