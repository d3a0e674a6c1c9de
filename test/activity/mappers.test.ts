/** OCSF 1007 and ECS mappings of events rebuilt from encoder-built records (docs/process-activity.md). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessTracker } from '../../src/activity/tracker.js';
import type { ProcessEvent } from '../../src/activity/types.js';
import { toOcsf } from '../../src/render/ocsf/index.js';
import { toEcs } from '../../src/render/ecs/index.js';
import { commandLine, parseTimePoint } from '../../src/activity/present.js';
import { T0, exec, exit, fork, spawn, trail, type Rec } from './build.js';

function events(recs: Rec[]): ProcessEvent[] {
  const out: ProcessEvent[] = [];
  const t = new ProcessTracker({ onEvent: (e) => out.push(e) });
  const input = t.input('host.bsm');
  input.push(trail(recs));
  input.end();
  t.end();
  return out;
}

const cd = '9003b5ecb83f531df993b3a68d34cde808b38381';
const alice = (pid: number) => ({ pid, auid: 501, euid: 501, egid: 20, ruid: 501, rgid: 20, sid: 100001, addr: '192.0.2.7' });
const recs: Rec[] = [
  spawn(T0, alice(400), 401, {
    argv: ['airportd', '-v'], env: ['HOME=/var/root', 'EMPTY=', 'NOEQ'], path: '/usr/libexec/airportd',
    attr: { mode: 0o100755, uid: 0, gid: 0, fsid: 16777220, nodeid: 1077n, dev: 0 },
    identity: { signingId: 'com.apple.airport.airportd', teamId: '', cdhash: cd, signerType: 1 },
  }),
  exec(T0 + 5, alice(401), { argv: ['sh'], path: '/bin/sh' }),
  fork(T0 + 6, alice(401), 0, { status: 35 }),
  exec(T0 + 7, alice(401), { argv: ['nope'], path: '/no/such', status: 2 }),
  exit(T0 + 9, alice(401), 256),
  fork(T0 + 10, alice(400), 402),
  fork(T0 + 11, alice(400), 402),
];
const evs = events(recs);

test('OCSF: spawn launch with launch type, actor, parent, file, signature and environment', () => {
  const o = toOcsf(evs[0], { hostname: 'mac1', productVersion: '9.9.9' });
  assert.deepEqual(
    [o.class_uid, o.category_uid, o.activity_id, o.type_uid, o.launch_type_id, o.launch_type, o.status_id, o.severity_id, o.time],
    [1007, 1, 1, 100701, 1, 'Spawn', 1, 1, T0],
  );
  assert.equal(o.actor.process.pid, 400);
  assert.deepEqual(o.actor.user, { uid: '501' });
  assert.deepEqual(o.actor.session, { uid: '100001', terminal: '192.0.2.7' });
  assert.equal(o.process.pid, 401);
  assert.equal(o.process.parent_process?.pid, 400);
  assert.equal(o.process.parent_process?.uid, o.actor.process.uid);
  assert.equal(o.process.name, 'airportd');
  assert.equal(o.process.cmd_line, 'airportd -v');
  assert.equal(o.process.created_time, T0);
  assert.deepEqual(o.process.user, { uid: '501' });
  assert.deepEqual(o.process.environment_variables, [{ name: 'HOME', value: '/var/root' }, { name: 'EMPTY', value: '' }, { name: 'NOEQ', value: '' }]);
  assert.equal(o.process.file?.path, '/usr/libexec/airportd');
  assert.equal(o.process.file?.mode, '100755');
  assert.deepEqual(o.process.file?.signature, {
    algorithm_id: 0, algorithm: 'Apple code signature', certificate: { subject: 'com.apple.airport.airportd' },
    digest: { algorithm_id: 0, algorithm: 'cdhash', value: cd },
  });
  assert.deepEqual(o.device, { type_id: 0, type: 'Unknown', hostname: 'mac1' });
  assert.deepEqual(o.metadata, { version: '1.9.0-dev', product: { name: 'bsmkit', vendor_name: 'bsmkit', version: '9.9.9' }, event_code: '43190', log_name: 'host.bsm', uid: 'host.bsm:0' });
});

test('OCSF: exec launch, failed fork, failed exec, terminate with exit code, inferred terminate', () => {
  const [, ex, ff, fx, term, , reuse] = evs.map((e) => toOcsf(e));
  assert.deepEqual([ex.launch_type, ex.process.pid, ex.process.file?.path, ex.unmapped.previous_executable], ['Exec', 401, '/bin/sh', '/usr/libexec/airportd']);
  assert.deepEqual([ff.launch_type, ff.status, ff.status_code, ff.process.pid], ['Fork', 'Failure', '35', 401]);
  assert.deepEqual([fx.status, fx.status_code, fx.process.file?.path, fx.process.cmd_line], ['Failure', '2', '/no/such', 'nope']);
  assert.deepEqual([term.activity_id, term.type_uid, term.exit_code, term.process.terminated_time, term.actor.process.pid], [2, 100702, 256, T0 + 9, 401]);
  assert.equal(reuse.activity_name, 'Terminate');
  assert.equal(reuse.unmapped.inferred, true);
  assert.equal(reuse.process.pid, 402);
});

test('ECS: spawn and exec with code signature, hash, previous images, parent and users', () => {
  const s = toEcs(evs[0], { hostname: 'mac1' });
  assert.equal(s['@timestamp'], new Date(T0).toISOString());
  assert.deepEqual(s.event.category, ['process']);
  assert.deepEqual([s.event.type, s.event.action, s.event.outcome, s.event.code], [['start'], 'posix_spawn', 'success', '43190']);
  assert.deepEqual(s.process.code_signature, { exists: true, signing_id: 'com.apple.airport.airportd' });
  assert.deepEqual(s.process.hash, { cdhash: cd });
  assert.deepEqual(s.process.env_vars, ['HOME=/var/root', 'EMPTY=', 'NOEQ']);
  assert.deepEqual([s.process.args_count, s.process.command_line], [2, 'airportd -v']);
  assert.deepEqual(s.process.parent?.pid, 400);
  assert.deepEqual([s.user?.id, s.process.user?.id, s.process.real_user?.id, s.process.group?.id], ['501', '501', '501', '20']);
  assert.deepEqual(s.host, { hostname: 'mac1' });
  assert.deepEqual(s.bsm.terminal, { port: 0, addr: '192.0.2.7' });
  const x = toEcs(evs[1]);
  assert.deepEqual(x.process.previous, [{ executable: '/usr/libexec/airportd', args: ['airportd', '-v'], args_count: 2 }]);
  const fx = toEcs(evs[3]);
  assert.deepEqual([fx.event.outcome, fx.error?.code, fx.process.executable], ['failure', '2', '/no/such']);
  assert.equal(fx.file, undefined);
  const end = toEcs(evs[4]);
  assert.deepEqual([end.event.type, end.process.exit_code, end.process.end], [['end'], 256, new Date(T0 + 9).toISOString()]);
  assert.equal(toEcs(evs[6]).bsm.inferred, true);
});

test('mappers are pure: the same event maps to the same JSON, and the event is not modified', () => {
  const before = JSON.stringify(evs);
  assert.equal(JSON.stringify(toOcsf(evs[0])), JSON.stringify(toOcsf(evs[0])));
  assert.equal(JSON.stringify(toEcs(evs[0])), JSON.stringify(toEcs(evs[0])));
  assert.equal(JSON.stringify(evs), before);
});

test('command lines split back into the same words; --at time points', () => {
  assert.equal(commandLine(['ls', '-la', 'a b', "it's", '', '?x', 'k=v,w']), "ls -la 'a b' 'it'\\''s' '' '?x' k=v,w");
  assert.equal(parseTimePoint('2024-03-11T21:25:58Z'), Date.UTC(2024, 2, 11, 21, 25, 58));
  assert.equal(parseTimePoint('2024-03-11 21:25:58'), Date.UTC(2024, 2, 11, 21, 25, 58));
  assert.equal(parseTimePoint('2024-03-11T22:25:58+01:00'), Date.UTC(2024, 2, 11, 21, 25, 58));
  assert.equal(parseTimePoint('@1710192358.5'), 1710192358500);
  assert.equal(parseTimePoint('1710192358'), 1710192358000);
  assert.equal(parseTimePoint('2024-03-11'), Date.UTC(2024, 2, 11));
  assert.equal(parseTimePoint('yesterday'), undefined);
});
