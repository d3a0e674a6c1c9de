import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.js';
import { capture } from './capture.js';

const CONF = new URL('../../../shared/conformance/', import.meta.url).pathname;
const REALISTIC = CONF + 'generated/realistic.bsm';
const ROOT = new URL('../../', import.meta.url).pathname;

test('print -n of a clean trail equals praudit -n and exits 0', async () => {
  const c = capture();
  assert.equal(await main(['print', '-n', REALISTIC], c.io), 0);
  assert.deepEqual(c.stdout(), readFileSync(CONF + 'oracle/generated/realistic.bsm.n.txt'));
  assert.equal(c.stderr(), '');
});

test('print reads stdin when no file is given, and when the file is -', async () => {
  for (const args of [['print', '-r'], ['print', '-r', '-']]) {
    const c = capture(readFileSync(REALISTIC));
    assert.equal(await main(args, c.io), 0);
    assert.deepEqual(c.stdout(), readFileSync(CONF + 'oracle/generated/realistic.bsm.r.txt'));
  }
});

test('-r with -s is a usage error (exit 1), as in praudit', async () => {
  const c = capture();
  assert.equal(await main(['print', '-r', '-s', REALISTIC], c.io), 1);
  assert.match(c.stderr(), /-r and -s/);
});

test('an unknown option is a usage error', async () => {
  const c = capture();
  assert.equal(await main(['print', '--bogus', REALISTIC], c.io), 1);
});

test('a missing file is a clear error naming it', async () => {
  const c = capture();
  assert.equal(await main(['print', '/nonexistent/trail.bsm'], c.io), 2);
  assert.match(c.stderr(), /cannot open \/nonexistent\/trail\.bsm: ENOENT/);
});

test('damage: exit 2, every intact record printed, each problem on stderr with file and offset', async () => {
  const f = CONF + 'generated/malformed/junk_between.bsm';
  const c = capture();
  assert.equal(await main(['print', '-n', '-l', f], c.io), 2);
  const lines = c.stdout().toString('latin1').split('\n').filter(Boolean);
  assert.equal(lines.length, 6, 'all six records printed');
  assert.equal(c.stderr(), `${f}: offset 302: skipped 6 bytes that do not start a record [BSM_E_JUNK]\n`);
});

test('a truncated last record is reported with its offset and sizes', async () => {
  const f = CONF + 'generated/malformed/truncated_last.bsm';
  const c = capture();
  assert.equal(await main(['print', '-n', '-l', f], c.io), 2);
  assert.equal(c.stdout().toString('latin1').split('\n').filter(Boolean).length, 5);
  assert.match(c.stderr(), /offset 524: incomplete record at offset 524 \(40 bytes present, expected 80 bytes\) \[BSM_E_TRUNCATED\]/);
});

test('--validate prints counts per file and sets the exit status', async () => {
  const c = capture();
  assert.equal(await main(['print', '--validate', REALISTIC, CONF + 'generated/malformed/bad_trailer.bsm'], c.io), 2);
  const out = c.stdout().toString();
  assert.match(out, /realistic\.bsm: 104532 bytes, 900 records, 2 file tokens, 902 intact, 0 damaged, 0 errors, 0 warnings/);
  assert.match(out, /bad_trailer\.bsm: 604 bytes, 6 records, 0 file tokens, 4 intact, 2 damaged, 2 errors, 0 warnings/);
  assert.match(c.stderr(), /trailer magic 0xdead is not 0xb105 \[BSM_E_BAD_TRAILER\]/);
});

test('--json writes one parseable object per record', async () => {
  const c = capture();
  assert.equal(await main(['print', '--json', REALISTIC], c.io), 0);
  const lines = c.stdout().toString('utf8').split('\n').filter(Boolean);
  assert.equal(lines.length, 902);
  const objs = lines.map((l) => JSON.parse(l));
  const index = JSON.parse(readFileSync(CONF + 'generated/index.json', 'utf8'));
  assert.deepEqual(objs.map((o) => o.offset), index.files['realistic.bsm'].entries.map((e: { offset: number }) => e.offset));
});

test('the installed command runs as a real process', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'print', '-s', '-n', REALISTIC], {
    cwd: ROOT, env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 26,
  });
  assert.equal(r.status, 0);
  assert.deepEqual(r.stdout, readFileSync(CONF + 'oracle/generated/realistic.bsm.sn.txt'));
});

test('--platform chooses whose errno texts are printed; an unknown platform is a usage error', async () => {
  const ebusy = CONF + 'real/openbsm_openbsm/test/reference/EBUSY_record';
  const texts: Record<string, string> = {};
  for (const p of ['linux', 'freebsd', 'macos']) {
    const c = capture();
    assert.equal(await main(['print', '-n', '--platform', p, ebusy], c.io), 0);
    texts[p] = /\nreturn,([^,]*),/.exec(c.stdout().toString('latin1'))?.[1] ?? '';
  }
  assert.equal(texts.linux, 'failure : Device busy');
  assert.equal(texts.freebsd, 'failure : Device busy');
  assert.equal(texts.macos, 'failure : Resource busy');
  const c = capture();
  assert.equal(await main(['print', '--platform', 'plan9', ebusy], c.io), 1);
  assert.match(c.stderr(), /--platform must be one of linux, freebsd, macos/);
});

test('--events FILE names events from that file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-print-'));
  const events = join(dir, 'audit_event');
  writeFileSync(events, '# test table\n0:AUE_MY_NULL:my own null event:no\n');
  const c = capture();
  assert.equal(await main(['print', '-n', '--events', events, CONF + 'real/openbsm_openbsm/test/reference/path_record'], c.io), 0);
  assert.equal(c.stdout().toString('latin1').split('\n')[0].split(',')[3], 'my own null event');
  const s = capture();
  assert.equal(await main(['print', '-s', '--events', events, CONF + 'real/openbsm_openbsm/test/reference/path_record'], s.io), 0);
  assert.equal(s.stdout().toString('latin1').split('\n')[0].split(',')[3], 'AUE_MY_NULL');
});

test('a delimiter longer than one byte (string renderer) prints like a one-byte one', async () => {
  const input = 'real/log2timeline_plaso/test_data/openbsm.bsm';
  const ln = readFileSync(CONF + `oracle/${input}.ln.txt`, 'latin1');
  const lnd = readFileSync(CONF + `oracle/${input}.lnd.txt`, 'latin1');
  assert.equal(ln.split(',').join('|'), lnd, 'no , or | inside a field of this trail, so replacing the delimiter is exact');
  const c = capture();
  assert.equal(await main(['print', '-l', '-n', '-d', '::', CONF + input], c.io), 0);
  assert.equal(c.stdout().toString('latin1'), lnd.split('|').join('::'));
});

test('an empty trail prints nothing and exits 0; -x on stdin still closes the XML', async () => {
  const c = capture();
  assert.equal(await main(['print', '-n', CONF + 'generated/malformed/empty.bsm'], c.io), 0);
  assert.equal(c.stdout().length, 0);
  const x = capture(readFileSync(REALISTIC));
  assert.equal(await main(['print', '-x', '-n'], x.io), 0);
  assert.deepEqual(x.stdout(), readFileSync(CONF + 'oracle/generated/realistic.bsm.xn.txt'));
});

test('a trail larger than the read size: records across chunk boundaries print exactly once, in order', async () => {
  // realistic.bsm repeated to ~2.5 MiB: every 1 MiB read boundary falls inside some record
  const one = readFileSync(REALISTIC);
  const times = Math.ceil((2.5 * (1 << 20)) / one.length);
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-print-'));
  const big = join(dir, 'big.bsm');
  writeFileSync(big, Buffer.concat(new Array(times).fill(one)));
  const c = capture();
  assert.equal(await main(['print', '-n', big], c.io), 0);
  const ref = readFileSync(CONF + 'oracle/generated/realistic.bsm.n.txt');
  assert.ok(c.stdout().equals(Buffer.concat(new Array(times).fill(ref))));
});
