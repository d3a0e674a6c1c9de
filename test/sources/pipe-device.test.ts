/**
 * The real-device layer on this (Linux) machine: the clear errors when there is no audit pipe, the koffi calls
 * themselves (variadic ioctl, read into an offset, poll, errno names) against ordinary files through the host C
 * library, and the drop placement rules on hand-made counter sequences.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { after } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BsmkitError } from '../../src/errors.js';
import {
  AUDITPIPE,
  DeviceError,
  DropLocator,
  delta32,
  getKernelEventClass,
  KoffiPipeDevice,
  openPipeSource,
  platformLibc,
  setKernelEventClass,
} from '../../src/sources/pipe/index.js';

const HOST_LIBC = 'libc.so.6';
const dirs: string[] = [];
const tempDir = (prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the real audit pipe on a system without one', () => {
  test('opening /dev/auditpipe on Linux says the pipe exists only on macOS and FreeBSD', () => {
    assert.equal(process.platform, 'linux', 'this test describes the Linux CI machines');
    assert.equal(platformLibc('linux'), null);
    assert.equal(platformLibc('darwin'), '/usr/lib/libSystem.B.dylib');
    assert.equal(platformLibc('freebsd'), 'libc.so.7');
    assert.throws(
      () => KoffiPipeDevice.open(),
      (err: unknown) =>
        err instanceof BsmkitError && err.code === 'BSMKIT_E_UNSUPPORTED_PLATFORM' && /macOS and FreeBSD/.test(err.message) && /\/dev\/auditpipe/.test(err.message),
    );
  });

  test('openPipeSource() with the default device rejects with the same error', async () => {
    await assert.rejects(openPipeSource(), (err: unknown) => err instanceof BsmkitError && err.code === 'BSMKIT_E_UNSUPPORTED_PLATFORM');
  });

  test('auditon helpers say what is missing', () => {
    assert.throws(() => getKernelEventClass(1), (err: unknown) => err instanceof BsmkitError && err.code === 'BSMKIT_E_UNSUPPORTED_PLATFORM');
    // glibc has no auditon(2): the binding reports it when called
    assert.throws(
      () => setKernelEventClass(1, 0x400000, { libc: HOST_LIBC }),
      (err: unknown) => err instanceof BsmkitError && err.code === 'BSMKIT_E_NO_AUDITON',
    );
  });

  test('a missing device node is BSMKIT_E_NO_AUDITPIPE with the errno, through the real open(2)', () => {
    const path = join(tempDir('bsmkit-nodev-'), 'auditpipe');
    assert.throws(
      () => KoffiPipeDevice.open(path, { libc: HOST_LIBC }),
      (err: unknown) => err instanceof BsmkitError && err.code === 'BSMKIT_E_NO_AUDITPIPE' && err.message.includes(path) && /ENOENT/.test(err.message),
    );
  });
});

describe('the koffi calls (host C library, ordinary files)', () => {
  test('read into an offset, variadic ioctl errors as errno names, poll, close', () => {
    const dir = tempDir('bsmkit-koffi-');
    const file = join(dir, 'data');
    writeFileSync(file, 'audit pipe bytes');
    const dev = KoffiPipeDevice.open(file, { libc: HOST_LIBC });
    try {
      const buf = Buffer.alloc(32, 0x2e);
      assert.equal(dev.readSync(buf, 4, 5), 5);
      assert.equal(buf.subarray(0, 12).toString('latin1'), '....audit...');
      assert.equal(dev.pollSync(0), true, 'a regular file is always readable');
      // an audit pipe request on a regular file: ENOTTY, named
      assert.throws(
        () => dev.ioctlSync(AUDITPIPE.GET_QLEN, Buffer.alloc(4)),
        (err: unknown) => err instanceof DeviceError && err.errno === 'ENOTTY',
      );
      assert.throws(() => dev.readSync(buf, 30, 5), (err: unknown) => err instanceof DeviceError && err.errno === 'EFAULT');
    } finally {
      dev.close();
    }
    assert.throws(() => dev.readSync(Buffer.alloc(4), 0, 4), (err: unknown) => err instanceof DeviceError && err.errno === 'EBADF');
  });

  test('a handed-over device is inert; the new owner reads', () => {
    const dir = tempDir('bsmkit-koffi-');
    const file = join(dir, 'data');
    writeFileSync(file, 'xyz');
    const dev = KoffiPipeDevice.open(file, { libc: HOST_LIBC });
    const h = dev.handle();
    assert.equal(h.kind, 'auditpipe');
    assert.throws(() => dev.readSync(Buffer.alloc(4), 0, 4), (err: unknown) => err instanceof DeviceError && err.errno === 'EBADF');
    dev.close(); // no effect
    const owner = KoffiPipeDevice.fromHandle(h);
    const b = Buffer.alloc(3);
    assert.equal(owner.readSync(b, 0, 3), 3);
    assert.equal(b.toString(), 'xyz');
    owner.close();
  });
});

describe('drop placement (drop-locator.ts)', () => {
  const L = 1024;
  test('drops before a read that took a full queue sit after the records before it + qlimit', () => {
    const loc = new DropLocator(L, 0, 0);
    // read 1 drained exactly qlimit records; inserts 1024, drops 500
    assert.deepEqual(loc.afterRead(1024, true, 500, 1024), { records: 500, recordIndex: 1024, offset: -1, exact: true, earliest: 0, latest: 1024, earliestOffset: -1, latestOffset: -1 });
  });

  test('drops after a read (queue refilled before the counters) sit after the records read + qlimit', () => {
    const loc = new DropLocator(L, 0, 0);
    assert.equal(loc.afterRead(10, true, 0, 10), null);
    // read 2 drained 20 records, then 1024 were inserted and 7 dropped before GET_DROPS
    assert.deepEqual(loc.afterRead(30, true, 7, 30 + 1024), { records: 7, recordIndex: 30 + 1024, offset: -1, exact: true, earliest: 10, latest: 30 + 1024, earliestOffset: -1, latestOffset: -1 });
  });

  test('a full queue at the read and at the counters is ambiguous: inexact, within [records before the read, inserts]', () => {
    const loc = new DropLocator(L, 0, 0);
    assert.equal(loc.afterRead(10, true, 0, 10), null);
    // read 2 took a full queue (1024 records), and the queue was full again at the counters
    const d = loc.afterRead(10 + 1024, true, 9, 10 + 2048, true, 1500)!;
    assert.equal(d.exact, false);
    assert.equal(d.earliest, 10, 'no earlier than the records completed before the read');
    assert.equal(d.earliestOffset, 1500);
    assert.equal(d.latest, 10 + 2048, 'no later than the records inserted when the counters were read');
    assert.equal(d.recordIndex, d.latest, 'placed at the latest point');
    // both candidates of the tail-drop rule are inside the range
    assert.ok(d.earliest <= 10 + 1024 && 10 + 1024 + 1024 <= d.latest);
  });

  test('drops with the queue never full are not tail drops: latest position, inexact', () => {
    const loc = new DropLocator(L, 0, 0);
    assert.equal(loc.afterRead(40, true, 0, 40), null);
    const d = loc.afterRead(100, true, 3, 103, true, 4000)!;
    assert.equal(d.recordIndex, 103);
    assert.equal(d.exact, false);
    assert.deepEqual([d.earliest, d.earliestOffset, d.latest], [40, 4000, 103]);
  });

  test('counters wrap at 2^32', () => {
    assert.equal(delta32(5, 0xfffffffe), 7);
    const loc = new DropLocator(L, 0xffffff00, 0xfffffff0);
    const d = loc.afterRead(1024, true, 0x10, 0x410)!;
    assert.equal(d.records, 0x110);
    assert.equal(loc.inserts, 0x420);
    assert.equal(d.recordIndex, 1024);
  });
});
