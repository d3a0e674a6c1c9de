/** The NDJSON renderer over the real conformance corpus (../shared/conformance), decoded by the real decoder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeAll } from '../../src/format/read-file.js';
import { createJsonRenderer } from '../../src/render/json/index.js';
import type { Token } from '../../src/format/types.js';

const CORPUS = join(import.meta.dirname, '../../../shared/conformance');
const GEN = join(CORPUS, 'generated');
const index = JSON.parse(readFileSync(join(GEN, 'index.json'), 'utf8'));

/** Model fields that hold byte strings (rendered by the string rule) per token type. */
const STRING_FIELDS: Record<string, string[]> = {
  file: ['name'], path: ['path'], text: ['text'], zonename: ['zone'], arg32: ['text'], arg64: ['text'],
  privset: ['privType', 'privSet'], upriv: ['priv'], sockunix: ['path'], arg_uuid: ['text'], ret_uuid: ['text'],
  identity: ['signingId', 'teamId'],
};

/** The recorded bytes behind a rendered string: the exact `_hex`, or the UTF-8 text plus the dropped NUL. */
function bytesBack(text: string, hex: string | undefined, model: Buffer): Buffer {
  if (hex !== undefined) return Buffer.from(hex, 'hex');
  const b = Buffer.from(text, 'utf8');
  return model.length === b.length + 1 && model[model.length - 1] === 0 ? Buffer.concat([b, Buffer.from([0])]) : b;
}

function checkStrings(t: Token, j: any): void {
  for (const f of STRING_FIELDS[t.type] ?? []) {
    const model = (t as unknown as Record<string, Buffer>)[f];
    assert.deepEqual(bytesBack(j[f], j[f + '_hex'], model), model, `${t.type}.${f} at ${t.offset}`);
  }
  if ('strings' in t) {
    t.strings.forEach((m, i) => assert.deepEqual(bytesBack(j.strings[i], j.strings_hex?.[i] ?? undefined, m), m));
  }
}

for (const name of ['clean.bsm', 'quirks.bsm', 'realistic.bsm']) {
  test(`every record of generated/${name} renders as one parseable line that agrees with index.json`, () => {
    const buf = readFileSync(join(GEN, name));
    const { records } = decodeAll(buf);
    const entries = index.files[name].entries;
    assert.equal(records.length, entries.length);
    const r = createJsonRenderer();
    let strings = 0;
    records.forEach((rec, i) => {
      const line = r.record(rec);
      assert.equal(line.indexOf('\n'), line.length - 1);
      const j = JSON.parse(line);
      const e = entries[i];
      assert.equal(j.offset, e.offset);
      assert.equal(j.length, e.length);
      assert.equal(j.kind, e.kind);
      assert.equal(j.intact, rec.intact);
      assert.equal(j.diagnostics.length, rec.diagnostics.length);
      if (rec.intact) assert.equal(j.tokens.length + (j.header ? 1 : 0), e.tokens.length);
      if (e.kind === 'record') {
        assert.equal(j.header.type, e.header);
        assert.equal(j.header.event, e.event);
        assert.equal(j.header.version, e.version);
        // index.json holds 64-bit times as plain JSON numbers, which JSON.parse rounds above 2^53.
        for (const f of ['sec', 'msec']) {
          if (Number.isSafeInteger(e[f])) assert.equal(String(j.header[f]), String(e[f]));
          else assert.equal(Number(j.header[f]), e[f]);
        }
      }
      const body = rec.tokens.filter((t) => t !== rec.header);
      body.forEach((t, k) => {
        assert.equal(j.tokens[k].type, t.type);
        checkStrings(t, j.tokens[k]);
        strings++;
      });
    });
    assert.ok(strings > 0);
  });
}

test('damaged inputs: every record still renders, with its diagnostics', () => {
  const dir = join(GEN, 'malformed');
  let diags = 0;
  for (const f of readdirSync(dir)) {
    const { records } = decodeAll(readFileSync(join(dir, f)));
    const r = createJsonRenderer();
    for (const rec of records) {
      const j = JSON.parse(r.record(rec));
      assert.equal(j.intact, rec.intact, f);
      assert.equal(j.diagnostics.length, rec.diagnostics.length, f);
      rec.diagnostics.forEach((d, k) => {
        assert.equal(j.diagnostics[k].code, d.code);
        assert.equal(j.diagnostics[k].offset, d.offset);
      });
      diags += rec.diagnostics.length;
    }
  }
  assert.ok(diags > 0, 'the malformed set produces record diagnostics');
});

test('real trails (OpenBSM reference records and samples) render and parse', () => {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (!/\.(md|txt|json)$/.test(ent.name)) files.push(p);
    }
  };
  walk(join(CORPUS, 'real'));
  assert.ok(files.length > 50);
  let n = 0;
  for (const f of files) {
    const r = createJsonRenderer();
    for (const rec of decodeAll(readFileSync(f)).records) {
      JSON.parse(r.record(rec));
      n++;
    }
  }
  assert.ok(n > 50);
});
