/** validateFile (fast path: ranges + in-place token check) reports exactly what full decoding reports. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAll } from '../../src/format/read-file.js';
import { validateFile } from '../../src/format/validate.js';
import type { Diagnostic } from '../../src/format/types.js';
import { corpusFiles, frameAll } from './corpus.js';

test('validateFile agrees with decodeAll on every corpus file, malformed ones included', async () => {
  let damagedFiles = 0;
  for (const file of corpusFiles()) {
    const { data } = frameAll(file);
    const full = decodeAll(data);
    const seen: Diagnostic[] = [];
    const c = await validateFile(file, (d) => seen.push(d));
    assert.equal(c.bytes, data.length, file);
    assert.equal(c.records, full.records.filter((r) => r.kind === 'record').length, `${file}: records`);
    assert.equal(c.fileTokens, full.records.filter((r) => r.kind === 'file-token').length, `${file}: file tokens`);
    assert.equal(c.intact, full.records.filter((r) => r.intact).length, `${file}: intact`);
    const key = (d: Diagnostic): string => `${d.code}@${d.offset}`;
    assert.deepEqual(seen.map(key).sort(), full.diagnostics.map(key).sort(), `${file}: diagnostics`);
    assert.equal(c.errors + c.warnings, seen.length);
    if (seen.length > 0) damagedFiles++;
  }
  assert.ok(damagedFiles >= 5, `the malformed corpus was exercised (${damagedFiles} damaged files)`);
});

test('validateFile on a missing file rejects with the path in the error', async () => {
  await assert.rejects(validateFile('/nonexistent/trail.bsm'), /nonexistent\/trail\.bsm/);
});

test('Validator fed through pendingBytes/pushReplacing in small random reads counts like one big push', async () => {
  const { Validator } = await import('../../src/format/validate.js');
  const { makeRng } = await import('../../src/testing/random-records.js');
  for (const file of corpusFiles().filter((f) => /realistic|clean|malformed/.test(f))) {
    const { data } = frameAll(file);
    const whole = new Validator();
    whole.push(data);
    const expected = whole.end();
    const rng = makeRng(data.length);
    const v = new Validator();
    for (let p = 0; p < data.length; ) {
      const n = Math.min(data.length - p, rng.int(1, 300));
      const pending = v.pendingBytes();
      const buf = Buffer.concat([pending, data.subarray(p, p + n)]);
      v.pushReplacing(buf, pending.length);
      p += n;
    }
    assert.deepEqual(v.end(), expected, file);
  }
});
