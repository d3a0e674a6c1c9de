/**
 * `bsmkit ps`, `tree` and `activity` as real child processes on the conformance corpus's realistic trail. The
 * expected facts were read off OpenBSM praudit's reference output (oracle/generated/realistic.bsm.ln.txt).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fork, exec, exit, trail, T0 } from '../activity/build.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REALISTIC = fileURLToPath(new URL('../../../shared/conformance/generated/realistic.bsm', import.meta.url));

function bsmkit(args: string[], input?: Buffer): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT, env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 26, input,
  });
  return { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

const ndjson = (s: string): any[] => s.trim().split('\n').map((l) => JSON.parse(l));

test('ps at the end of the trail: the 19 processes that never exited, all seen without their fork', () => {
  const r = bsmkit(['ps', '--json', '--stats', REALISTIC]);
  assert.equal(r.status, 0, r.stderr);
  const procs = ndjson(r.stdout);
  // Subjects that never exit: launchd-like 440, httpd 443 (www), the sshd/login sessions of alice, bob, carol, root.
  assert.deepEqual(procs.map((p) => p.pid), [440, 443, 468, 506, 528, 551, 581, 642, 676, 696, 777, 805, 829, 881, 926, 952, 992, 1033, 1049]);
  assert.ok(procs.every((p) => p.reconstructed && p.ppid === undefined));
  const www = procs.find((p) => p.pid === 443);
  assert.deepEqual([www.cred.euid, www.cred.auid], [70, 0xffffffff]);
  // bob's session: every record has subject32_ex with an IPv6 terminal.
  const bob = procs.find((p) => p.pid === 506);
  assert.deepEqual(bob.cred, { auid: 502, euid: 502, egid: 20, ruid: 502, rgid: 20, sid: 506, terminal: { port: 36131, addr: 'fe80::aede:48ff:fe00:1122' } });
  assert.match(r.stderr, /^records: 900$/m);
  assert.match(r.stderr, /^lifecycleRecords: 450$/m);
  assert.match(r.stderr, /^lateRecords: 0$/m);
});

test('ps table text and --at: carol\'s shell 1056 and its node server at 2024-03-11 21:25:58 UTC', () => {
  const r = bsmkit(['ps', '--at', '2024-03-11T21:25:58Z', REALISTIC]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0], /^\s+PID\s+PPID\s+EUID\s+AUID\s+START\s+F COMMAND$/);
  const line = (pid: number) => lines.find((l) => l.trim().startsWith(`${pid} `));
  // fork(2) at 21:24:48.245 by 1049 (child 0x420), execve -zsh /bin/zsh at 21:24:48.250
  assert.match(line(1056)!, /^\s+1056\s+1049\s+1001\s+1001 2024-03-11T21:24:48\.245Z\s+- -zsh$/);
  // vfork 0x42e at 21:25:56.473 by 1056, execve node server.js --port=8080; exits at 21:25:59.066
  assert.match(line(1070)!, /^\s+1070\s+1056\s+1001\s+1001 2024-03-11T21:25:56\.473Z\s+- node server\.js --port=8080$/);
  // 1057 (curl, exit 21:25:22.770) and 1064 (git, exit 21:25:33.929) had ended
  assert.equal(line(1057), undefined);
  assert.equal(line(1064), undefined);
  const end = bsmkit(['ps', REALISTIC]);
  assert.ok(!end.stdout.includes(' 1070 '), '1070 has exited by the end');
});

test('tree --at shows the live chain 1049 → 1056 → 1070; --all shows ended children with their exit status', () => {
  const r = bsmkit(['tree', '--at', '2024-03-11T21:25:58Z', REALISTIC]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes('1049 ? [reconstructed]\n└── 1056 -zsh\n    └── 1070 node server.js --port=8080\n'), r.stdout);
  const all = bsmkit(['tree', '--all', REALISTIC]);
  assert.equal(all.status, 0, all.stderr);
  // 446: forked by 440, its execve of /usr/libexec/periodic failed (ENOENT), exit status 32512
  assert.match(all.stdout, /^├── 446 \? \[exit 32512 @2024-03-08T01:25:37\.883Z\]$/m);
  // curl under carol's shell: the argument with a comma stays one word
  assert.match(all.stdout, /^ {4}├── 1057 curl -fsSL 'https:\/\/example\.com\/install\.sh\?a=1,b=2' \[exit 1 @2024-03-11T21:25:22\.770Z\]$/m);
  assert.match(all.stdout, /^ {4}├── 1064 git commit -m 'wip, more' \[exit 512 @2024-03-11T21:25:33\.929Z\]$/m);
  const launches = all.stdout.split('\n').filter((l) => /\[exit /.test(l)).length;
  assert.equal(launches, 150, '150 fork/vfork children, 150 exits');
});

test('activity --ocsf: 150 fork launches, 146 exec launches + 4 failed, 150 terminates', () => {
  const r = bsmkit(['activity', '--ocsf', '--hostname', 'mac1', REALISTIC]);
  assert.equal(r.status, 0, r.stderr);
  const evs = ndjson(r.stdout);
  const count = (f: (e: any) => boolean) => evs.filter(f).length;
  assert.equal(count((e) => e.type_uid === 100701 && e.launch_type_id === 2), 150);
  assert.equal(count((e) => e.type_uid === 100701 && e.launch_type_id === 3 && e.status_id === 1), 146);
  assert.equal(count((e) => e.type_uid === 100701 && e.launch_type_id === 3 && e.status_id === 2), 4);
  assert.equal(count((e) => e.type_uid === 100702), 150);
  assert.ok(evs.every((e) => e.class_uid === 1007 && e.category_uid === 1 && e.device.hostname === 'mac1'));
  for (let i = 1; i < evs.length; i++) assert.ok(evs[i - 1].time <= evs[i].time, 'time order');
  // The first events: 440 forks 446 (01:25:37.879), 446's execve fails with ENOENT (BSM errno 2), 446 exits 32512.
  const [f, x, t] = evs;
  assert.equal(f.time, Date.UTC(2024, 2, 8, 1, 25, 37, 879));
  assert.deepEqual([f.actor.process.pid, f.process.pid, f.process.parent_process.pid], [440, 446, 440]);
  assert.deepEqual([x.process.pid, x.status, x.status_code, x.process.file.path, x.process.cmd_line], [446, 'Failure', '2', '/usr/libexec/periodic', 'periodic hourly']);
  assert.deepEqual([t.process.pid, t.exit_code, t.activity_name], [446, 32512, 'Terminate']);
});

test('activity --ecs: exec of git by carol\'s shell with its parent and arguments', () => {
  const r = bsmkit(['activity', '--ecs', REALISTIC]);
  assert.equal(r.status, 0, r.stderr);
  const evs = ndjson(r.stdout);
  const git = evs.find((e) => e.process.pid === 1064 && e.event.action === 'execve');
  assert.equal(git['@timestamp'], '2024-03-11T21:25:31.138Z');
  assert.deepEqual(git.event.type, ['start']);
  assert.equal(git.event.outcome, 'success');
  assert.deepEqual(git.process.args, ['git', 'commit', '-m', 'wip, more']);
  assert.equal(git.process.executable, '/usr/bin/git');
  assert.equal(git.process.name, 'git');
  assert.deepEqual([git.process.parent.pid, git.process.parent.executable, git.process.parent.args], [1056, '/bin/zsh', ['-zsh']]);
  assert.deepEqual([git.user.id, git.process.user.id], ['1001', '1001']);
  assert.deepEqual(git.file, { mode: '100755', uid: '0', gid: '0', inode: '16838', device: '0', path: '/usr/bin/git' });
  const ends = evs.filter((e) => e.event.type[0] === 'end');
  assert.equal(ends.length, 150);
});

test('reading stdin, damage reported with exit status 2, usage errors exit 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bsmkit-ps-'));
  try {
    const good = trail([fork(T0, { pid: 1 }, 2), exec(T0 + 1, { pid: 2 }, { argv: ['x'], path: '/bin/x' }), exit(T0 + 2, { pid: 2 })]);
    const viaStdin = bsmkit(['activity', '-'], good);
    assert.equal(viaStdin.status, 0, viaStdin.stderr);
    assert.deepEqual(ndjson(viaStdin.stdout).map((e) => `${e.kind}:${e.action}:${e.source}`), ['launch:fork:(stdin)', 'launch:execve:(stdin)', 'terminate:exit:(stdin)']);
    const damaged = Buffer.concat([good, Buffer.from('garbage!garbage!garbage!garbage!')]);
    const file = join(dir, 'damaged.bsm');
    writeFileSync(file, damaged);
    const r = bsmkit(['ps', file]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: offset ${good.length}: .*\\[BSM_E_`, 'm'));
    assert.match(r.stdout, /^\s+1\s+\?/m);
    assert.equal(bsmkit(['ps', '--at', 'yesterday', file]).status, 1);
    assert.equal(bsmkit(['activity', '--ocsf', '--ecs', file]).status, 1);
    const missing = bsmkit(['tree', join(dir, 'nope.bsm')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot open .*nope\.bsm: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
