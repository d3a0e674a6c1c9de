/** The library entry point: what a user imports from 'bsmkit' works end to end without reaching into src/. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as bsmkit from '../src/index.js';

test('encode a record, frame and decode it, render it as praudit text and NDJSON through the public API', () => {
  const rec = bsmkit.encodeRecord(
    { type: 'header32', event: 23, sec: 1709861137, msec: 5 },
    [
      bsmkit.execArgs(['/bin/ls', '-l']),
      { type: 'path', path: Buffer.from('/bin/ls\0') },
      { type: 'return32', status: 0, value: 0 },
    ],
  );
  const { records, diagnostics } = bsmkit.decodeAll(rec);
  assert.equal(diagnostics.length, 0);
  assert.equal(records.length, 1);
  assert.equal(records[0].intact, true);
  assert.equal(records[0].header?.event, 23);
  assert.ok(bsmkit.isCleanRecord(rec, 0, rec.length));
  const line = JSON.parse(bsmkit.createJsonRenderer({ events: bsmkit.builtinEventTable('openbsm') }).record(records[0]));
  assert.equal(line.header.eventName, 'AUE_EXECVE');
  assert.deepEqual(line.tokens[0].strings, ['/bin/ls', '-l']);
  const text = bsmkit.createPrauditRenderer({ events: bsmkit.builtinEventTable('openbsm'), timeZone: 'UTC' }).record(records[0]);
  assert.match(text, /^header,\d+,11,execve\(2\),0,/);
  assert.match(text, /exec arg,\/bin\/ls,-l/);
});

test('typed errors: BsmkitError carries a code and is recognised across copies of the module', () => {
  const e = new bsmkit.BsmkitError('BSMKIT_E_TEST', 'boom');
  assert.ok(e instanceof bsmkit.BsmkitError);
  assert.equal(e.code, 'BSMKIT_E_TEST');
  assert.ok(new bsmkit.UsageError('bad option') instanceof bsmkit.BsmkitError);
});

test('every layer is reachable from the entry point', () => {
  for (const name of [
    'readRecords', 'validateFile', 'Framer', 'encodeRecord', 'createPrauditRenderer', 'createJsonRenderer', 'loadCatalog',
    'parseFlags', 'compileSelection', 'runReduce', 'followTrail', 'openPipeSource', 'openPipeDrain', 'KoffiPipeDevice',
    'DuckDbSink', 'NdjsonFileSink', 'StdoutSink', 'WorkerSink', 'materialize', 'ProcessTracker', 'toOcsf', 'toEcs', 'Spool', 'Collector', 'createJsonByteRenderer',
  ]) {
    assert.equal(typeof (bsmkit as Record<string, unknown>)[name], 'function', name);
  }
});
