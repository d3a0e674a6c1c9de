/**
 * reduce against OpenBSM 1.2-alpha6 auditreduce (../shared/conformance/auditreduce, TZ=UTC, OpenBSM's tables).
 *
 * - --compat=openbsm must reproduce every reference output byte for byte, usage errors included.
 * - The corrected (default) mode must give the same bytes wherever the reference is right, and the corrected
 *   record list (cases.json `corrected`) where INDEX.md marks a reference bug.
 * - x_ cases (other inputs) check the corrected behaviour against generated/index.json.
 */
process.env.TZ = 'UTC';

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { builtinClassTable } from '../../src/catalog/class-table.js';
import { builtinEventTable } from '../../src/catalog/event-table.js';
import { UsageError } from '../../src/errors.js';
import { decodeAll } from '../../src/format/read-file.js';
import type { Diagnostic } from '../../src/format/types.js';
import { catalogFromTables } from '../../src/select/catalog-port.js';
import { compileSelection } from '../../src/select/compile.js';
import { parseReduceArgs, type ResolveContext } from '../../src/select/parse-args.js';
import { runReduce } from '../../src/select/reduce-run.js';
import { parseIdFile } from '../../src/select/user-ids.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpus = join(repo, '..', 'shared', 'conformance');
const refDir = join(corpus, 'auditreduce');

interface Case {
  name: string;
  command: string[];
  exit: number;
  output: string;
  records_out: number;
  file_tokens_out: number;
  reference_bugs?: string[];
  stderr: string;
  corrected: null | {
    records: number;
    missed_by_reference: number[];
    wrongly_selected_by_reference: number[];
    ignored_options?: string[];
  };
}
interface Entry {
  i: number;
  offset: number;
  length: number;
  kind: 'record' | 'file-token';
}
interface FileIndex {
  intact_records: number;
  entries: Entry[];
  damaged_records?: number[];
}

const cases: Case[] = JSON.parse(readFileSync(join(refDir, 'cases.json'), 'utf8')).cases;
const index: Record<string, FileIndex> = JSON.parse(readFileSync(join(corpus, 'generated', 'index.json'), 'utf8')).files;

// The reference ran with OpenBSM's own tables; user names come from a fixed passwd so the host does not matter.
const ctx: ResolveContext = {
  catalog: catalogFromTables(builtinEventTable('openbsm'), builtinClassTable()),
  users: parseIdFile('root:*:0:0:Charlie &:/root:/bin/sh\nalice:*:501:20::/home/alice:/bin/sh\n'),
  groups: parseIdFile('wheel:*:0:root\nstaff:*:20:\n'),
};

/** Runs reduce in-process; returns the output bytes and the input offset of every emitted record. */
async function reduce(argv: string[], input: string, diags: Diagnostic[] = []): Promise<{ bytes: Buffer; offsets: number[] }> {
  const args = parseReduceArgs(argv, ctx);
  const sel = compileSelection(args.select);
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  await runReduce([{ name: input, open: () => createReadStream(input, { highWaterMark: 4096 }) }], sel, (c, off) => {
    parts.push(Buffer.from(c));
    offsets.push(off);
  }, { coalesce: false, keepErrors: args.keepErrors, onDiagnostic: (_name, d) => diags.push(d) });
  return { bytes: Buffer.concat(parts), offsets };
}

function split(c: Case): { args: string[]; input: string; rel: string } {
  const rel = c.command[c.command.length - 1]!;
  return { args: c.command.slice(1, -1), input: join(corpus, rel), rel: rel.replace(/^generated\//, '') };
}

/** index.json record numbers (`i`) of the emitted offsets. */
function recordNumbers(rel: string, offsets: number[], kind: 'record' | 'file-token' = 'record'): number[] {
  const byOffset = new Map(index[rel]!.entries.map((e) => [e.offset, e]));
  return offsets.map((o) => byOffset.get(o)).filter((e): e is Entry => e !== undefined && e.kind === kind).map((e) => e.i);
}

describe('auditreduce conformance, --compat=openbsm: the reference bytes exactly', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const { args, input } = split(c);
      const reference = readFileSync(join(refDir, c.output));
      if (c.exit !== 0) {
        assert.equal(c.exit, 64);
        assert.throws(() => parseReduceArgs(['--compat=openbsm', ...args], ctx), (e: unknown) => {
          return e instanceof UsageError && c.stderr.startsWith(e.message + '\n');
        });
        assert.equal(reference.length, 0);
        return;
      }
      const out = await reduce(['--compat=openbsm', ...args], input);
      assert.equal(out.bytes.length, reference.length);
      assert.ok(out.bytes.equals(reference), 'output bytes differ from the reference');
    });
  }
});

describe('auditreduce conformance, corrected mode', () => {
  for (const c of cases.filter((k) => !k.name.startsWith('x_'))) {
    test(c.name, async () => {
      const { args, input, rel } = split(c);
      const reference = readFileSync(join(refDir, c.output));
      const fixed = c.corrected!;
      if (fixed.ignored_options?.length) {
        // The reference silently dropped an unknown name; corrected mode refuses it before reading anything.
        assert.throws(() => parseReduceArgs(args, ctx), UsageError);
        const kept = args.filter((a, i) => !fixed.ignored_options!.some((o) => o === `${args[i - 1]} ${a}` || o.startsWith(a + ' ')));
        const out = await reduce(kept, input);
        assert.ok(out.bytes.equals(reference));
        return;
      }
      const out = await reduce(args, input);
      if (!c.reference_bugs?.length) {
        assert.ok(out.bytes.equals(reference), 'output bytes differ from the reference');
        return;
      }
      const refOffsets: number[] = [];
      for (let p = 0; p < reference.length;) {
        const len = reference[p] === 0x11 ? 11 + reference.readUInt16BE(p + 9) : reference.readUInt32BE(p + 1);
        refOffsets.push(p);
        p += len;
      }
      // Map the reference's records back to index.json by their bytes' position in the input.
      const inputBytes = readFileSync(input);
      const refNumbers = new Set<number>();
      for (const e of index[rel]!.entries) {
        if (e.kind !== 'record') continue;
        const rec = inputBytes.subarray(e.offset, e.offset + e.length);
        if (refOffsets.some((o) => reference.subarray(o, o + e.length).equals(rec))) refNumbers.add(e.i);
      }
      const expected = new Set([...refNumbers].filter((i) => !fixed.wrongly_selected_by_reference.includes(i)));
      for (const i of fixed.missed_by_reference) expected.add(i);
      const got = recordNumbers(rel, out.offsets);
      assert.equal(got.length, fixed.records);
      assert.deepEqual(got, [...expected].sort((a, b) => a - b));
    });
  }
});

describe('x_ cases: corrected behaviour', () => {
  const byName = new Map(cases.map((c) => [c.name, c]));
  const input = (name: string): string => split(byName.get(name)!).input;

  test('x_clean_v_A: -A selects every header variant and file token, so -v -A selects nothing', async () => {
    const out = await reduce(['-v', '-A'], input('x_clean_v_A'));
    assert.equal(out.bytes.length, 0);
    const all = await reduce(['-A'], input('x_clean_v_A'));
    const entries = index['clean.bsm']!.entries;
    assert.equal(all.offsets.length, entries.length);
  });

  test('x_clean_m6171: duplicate event numbers are classified by the last audit_event line, as upstream', async () => {
    // 6171 is ftpd_logout:lo first, AUE_DARWIN_audit_startup:ad last: -c ad selects every 6171 record (the
    // header64 one too, which upstream cannot check), -c lo none.
    const path = input('x_clean_m6171_c_ad');
    const all6171 = index['clean.bsm']!.entries.filter((e) => (e as Entry & { event?: number }).event === 6171);
    const ad = await reduce(['-m', '6171', '-c', 'ad'], path);
    assert.deepEqual(ad.offsets, all6171.map((e) => e.offset));
    assert.equal(all6171.length, byName.get('x_clean_m6171_c_ad')!.records_out + 1);
    const lo = await reduce(['-m', '6171', '-c', 'lo'], path);
    assert.equal(lo.offsets.length, 0);
  });

  test('x_quirks_no_options: no sticky error, every intact record is delivered, damaged ones are reported', async () => {
    const path = input('x_quirks_no_options');
    const { records } = decodeAll(readFileSync(path));
    const intact = records.filter((r) => r.intact);
    const firstDamaged = records.findIndex((r) => !r.intact);
    assert.ok(firstDamaged >= 0 && firstDamaged < records.length - 1);
    const out = await reduce([], path);
    assert.deepEqual(out.offsets, intact.map((r) => r.offset));
    // Upstream stops delivering at its first error; corrected mode goes on to the end of the file.
    assert.ok(out.offsets.length > byName.get('x_quirks_no_options')!.records_out);
    assert.ok(out.offsets[out.offsets.length - 1]! > records[firstDamaged]!.offset);
  });

  for (const name of ['x_cut_mid_token_no_options', 'x_junk_no_options']) {
    test(`${name}: every intact record is delivered after the damage, and the damage is reported`, async () => {
      const { input: path, rel } = split(byName.get(name)!);
      const f = index[rel]! as FileIndex & { damage_offset: number; records_after_damage: number };
      const diags: Diagnostic[] = [];
      const out = await reduce([], path, diags);
      assert.equal(out.offsets.length, f.intact_records);
      assert.ok(out.offsets.filter((o) => o >= f.damage_offset).length >= f.records_after_damage);
      const again = decodeAll(out.bytes);
      assert.equal(again.diagnostics.length, 0);
      assert.ok(again.records.every((r) => r.intact));
      assert.ok(diags.some((d) => d.severity === 'error' && Math.abs(d.offset - f.damage_offset) < 64), 'damage reported near its offset');
    });
  }

  test('x_bad_fields_v_m: -v inverts among decoded records; damaged records are never emitted', async () => {
    const { input: path, rel } = split(byName.get('x_bad_fields_v_m')!);
    const f = index[rel]!;
    const { records } = decodeAll(readFileSync(path));
    assert.deepEqual(records.flatMap((r, i) => (r.intact ? [] : [i])), f.damaged_records);
    const out = await reduce(['-v', '-m', '6159'], path);
    const expected = records.filter((r) => r.intact && r.header!.event !== 6159).map((r) => r.offset);
    assert.deepEqual(out.offsets, expected);
    const kept = await reduce(['-v', '-m', '6159', '--keep-errors'], path);
    assert.ok(kept.offsets.length > out.offsets.length, '--keep-errors emits the damaged records -v selects');
  });

  test('x_o_sock: a SPEC that is not an address, port or path is a usage error', () => {
    assert.throws(() => parseReduceArgs(['-o', 'sock=0'], ctx), UsageError);
  });

  test('x_m_0_usage: event 0 is selectable by number (realistic.bsm has none, bytes checked on clean.bsm)', async () => {
    const none = await reduce(['-m', '0'], input('x_m_0_usage'));
    assert.equal(none.offsets.length, 0);
    const clean = index['clean.bsm']!.entries.filter((e) => (e as Entry & { event?: number }).event === 0);
    const out = await reduce(['-m', '0'], join(corpus, 'generated', 'clean.bsm'));
    assert.ok(clean.length > 0);
    assert.deepEqual(out.offsets, clean.map((e) => e.offset));
  });

  test('x_c_unknown_class_usage: an unknown class is a usage error', () => {
    assert.throws(() => parseReduceArgs(['-c', 'nosuchclass'], ctx), /nosuchclass/);
  });
});

describe('the real CLI (node src/cli/main.ts reduce)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'bsmkit-reduce-'));
  const passwd = join(tmp, 'passwd');
  writeFileSync(passwd, 'root:*:0:0::/root:/bin/sh\n');
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src', 'cli', 'main.ts'), 'reduce', '--platform', 'openbsm', '--passwd', passwd, ...args], {
      cwd: repo,
      env: { ...process.env, TZ: 'UTC' },
      maxBuffer: 1 << 26,
    });

  for (const name of ['m_name_execve', 'c_failure_fr', 'd_day', 'o_file_exclude_then_include', 'u_name_root']) {
    test(`${name} (--compat=openbsm): reference bytes on stdout`, () => {
      const c = cases.find((k) => k.name === name)!;
      const { args, input } = split(c);
      const r = cli(['--compat=openbsm', ...args, input]);
      assert.equal(r.status, 0, r.stderr.toString());
      assert.ok(r.stdout.equals(readFileSync(join(refDir, c.output))));
    });
  }

  test('x_m_0_usage (--compat=openbsm): exit 64 and upstream\'s message', () => {
    const r = cli(['--compat=openbsm', '-m', '0', join(corpus, 'generated', 'realistic.bsm')]);
    assert.equal(r.status, 64);
    assert.match(r.stderr.toString(), /^Incorrect event name\nUsage: auditreduce/);
    assert.equal(r.stdout.length, 0);
  });

  test('-e nosuchuser: usage error, exit 1, nothing read', () => {
    const r = cli(['-e', 'nosuchuser', '-m', '2', join(corpus, 'generated', 'realistic.bsm')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr.toString(), /nosuchuser/);
    assert.equal(r.stdout.length, 0);
  });

  test('stdin in, binary out; damage reported with file and offset, exit 2, the rest still selected', () => {
    const path = join(corpus, 'generated', 'malformed', 'junk_between.bsm');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src', 'cli', 'main.ts'), 'reduce'], {
      cwd: repo,
      input: readFileSync(path),
      env: { ...process.env, TZ: 'UTC' },
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr.toString(), /^\(stdin\): offset 302: .*\[BSM_E_JUNK\]/m);
    const f = index['malformed/junk_between.bsm']!;
    const out = decodeAll(r.stdout);
    assert.equal(out.records.length, f.intact_records);
    assert.equal(out.diagnostics.length, 0);
    assert.equal(r.stdout.length, readFileSync(path).length - 6, 'everything but the 6 junk bytes');
  });
});
