/**
 * Damaged trails (../shared/conformance/generated/malformed/): bsmkit print never crashes, prints every intact
 * record, reports each damaged region on stderr with the file and a byte offset inside it, and exits 2.
 *
 * Which records are intact is worked out here from the bytes, independently of bsmkit's framer: a record is intact
 * when its header size ends at a trailer carrying that size and its tokens walk exactly to that trailer. The count
 * must agree with index.json's `intact_records`, so the scan itself is checked against the corpus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { tokenEnd } from '../../src/format/token-index.js';
import { capture } from '../cli/capture.js';

const CONF = new URL('../../../shared/conformance/', import.meta.url).pathname;
const DIR = CONF + 'generated/malformed/';
const index = (JSON.parse(readFileSync(CONF + 'generated/index.json', 'utf8')) as {
  files: Record<string, { bytes: number; damage: string; damage_offset?: number; intact_records: number }>;
}).files;
const tmp = mkdtempSync(join(tmpdir(), 'bsmkit-malformed-'));

interface Range { start: number; end: number }

/** Intact records anywhere in the file (at any offset, so records after junk are found too). */
function intactRecords(b: Buffer): Range[] {
  const out: Range[] = [];
  let p = 0;
  while (p + 25 <= b.length) {
    const id = b[p];
    if (id === 0x14 || id === 0x15 || id === 0x74 || id === 0x79) {
      const size = b.readUInt32BE(p + 1);
      const end = p + size;
      const t = end - 7;
      if (size >= 25 && end <= b.length && b[t] === 0x13 && b.readUInt16BE(t + 1) === 0xb105 && b.readUInt32BE(t + 3) === size) {
        let q = tokenEnd(b, p, t);
        while (q > 0 && q < t) q = tokenEnd(b, q, t);
        if (q === t) {
          out.push({ start: p, end });
          p = end;
          continue;
        }
      }
    }
    p++;
  }
  return out;
}

/** The byte ranges not covered by intact records: each must carry at least one diagnostic. */
function damagedRegions(len: number, intact: Range[]): Range[] {
  const out: Range[] = [];
  let p = 0;
  for (const r of intact) {
    if (r.start > p) out.push({ start: p, end: r.start });
    p = r.end;
  }
  if (len > p) out.push({ start: p, end: len });
  return out;
}

async function print(args: string[], file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const c = capture('', { TZ: 'UTC' });
  const code = await main(['print', ...args, file], c.io);
  return { code, stdout: c.stdout().toString('latin1'), stderr: c.stderr() };
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.bsm')).sort();

test('the malformed corpus is all here and described by index.json', () => {
  assert.ok(files.length >= 12);
  for (const f of files) assert.ok(index['malformed/' + f], `${f} in index.json`);
});

for (const f of files) {
  const file = DIR + f;
  const meta = index['malformed/' + f];
  test(`malformed ${f} (${meta.damage}): every intact record printed, each damage reported, exit 2`, async () => {
    const bytes = readFileSync(file);
    const intact = intactRecords(bytes);
    assert.equal(intact.length, meta.intact_records, 'the independent scan agrees with index.json');

    for (const mode of [['-l', '-n'], ['-n'], ['-r'], ['-x', '-n'], ['--json'], ['--validate']]) {
      const r = await print(mode, file);
      if (bytes.length === 0) {
        // A zero-byte trail is what auditd leaves right after opening a new file: nothing to print, no damage.
        assert.equal(r.code, 0, `${mode.join(' ')}: an empty file is not damage`);
        assert.equal(r.stderr, '');
        continue;
      }
      assert.equal(r.code, 2, `${mode.join(' ')}: exit 2`);
      const diags = r.stderr.split('\n').filter(Boolean).map((l) => {
        const m = /^(.*): offset (\d+): (.+) \[(BSM_[EW]_[A-Z_]+)\]$/.exec(l);
        assert.ok(m, `diagnostic format: ${l}`);
        assert.equal(m[1], file, 'the diagnostic names the file');
        return { offset: Number(m[2]), code: m[4] };
      });
      for (const d of diags) assert.ok(d.offset >= 0 && d.offset <= bytes.length, `offset ${d.offset} inside the file`);
      for (const reg of damagedRegions(bytes.length, intact)) {
        assert.ok(diags.some((d) => d.offset >= reg.start && d.offset < reg.end && d.code.startsWith('BSM_E_')),
          `${mode.join(' ')}: damage at ${reg.start}..${reg.end} reported (${r.stderr})`);
      }
      if (meta.damage_offset !== undefined) {
        assert.ok(diags.some((d) => d.offset >= meta.damage_offset!), 'a diagnostic at or after the documented damage offset');
      }
      if (mode[0] === '--validate') {
        assert.match(r.stdout, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${bytes.length} bytes, \\d+ records`));
      }
    }

    // Every intact record is printed, in order, exactly as bsmkit prints it on its own (a clean one-record trail).
    const whole = await print(['-l', '-n'], file);
    let from = 0;
    for (const [k, rec] of intact.entries()) {
      const one = join(tmp, `${f}.${k}`);
      writeFileSync(one, bytes.subarray(rec.start, rec.end));
      const alone = await print(['-l', '-n'], one);
      assert.equal(alone.code, 0, `record at ${rec.start} is a clean trail on its own`);
      assert.match(alone.stdout, /^[^\n]+\n$/);
      const at = whole.stdout.indexOf(alone.stdout, from);
      assert.ok(at >= 0, `intact record at offset ${rec.start} printed (after ${from})`);
      from = at + alone.stdout.length;
    }
  });
}

test('malformed: the records praudit does print come out the same from bsmkit', async () => {
  // praudit stops or drops after damage, but what it prints before the damage is right: those lines must be ours.
  let compared = 0;
  for (const f of files) {
    const ref = readFileSync(CONF + `oracle/generated/malformed/${f}.ln.txt`, 'latin1').split('\n').filter(Boolean);
    const meta = index['malformed/' + f];
    if (meta.damage_offset === undefined) continue; // damage spread over the file: the scan above covers it
    const before = intactRecords(readFileSync(DIR + f)).filter((r) => r.end <= meta.damage_offset!);
    const mine = (await print(['-l', '-n'], DIR + f)).stdout.split('\n');
    for (let i = 0; i < before.length && i < ref.length; i++) assert.equal(mine[i], ref[i], `${f} record ${i}`);
    compared += Math.min(before.length, ref.length);
  }
  assert.ok(compared >= 20, `${compared} records compared`);
});
