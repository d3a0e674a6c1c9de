/** -o file= / msgqid= / semid= / shmid= / sock=, -z, -v (auditreduce.md §2, §7.3). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import { ipv4, ipv6, str } from '../../src/format/encode/index.js';
import type { TokenInput } from '../../src/format/encode/index.js';
import { parseReduceArgs } from '../../src/select/parse-args.js';
import { decidePath, ereToJs, parsePathPatterns, splitPatternList } from '../../src/select/path-patterns.js';
import { parseSockSpec } from '../../src/select/sock-spec.js';
import { compileZoneGlob } from '../../src/select/zone-glob.js';
import { ctx, ipc, path, pick, rec, subject, zone } from './trail.js';

test('-o file= pattern lists: ERE, first match wins, ~ excludes, \\, escapes a comma', () => {
  assert.deepEqual(splitPatternList('a,b\\,c,~d'), ['a', 'b,c', '~d']);
  const l = parsePathPatterns('~^/etc/ssl,^/etc/');
  assert.equal(decidePath(l, '/etc/ssl/cert.pem'), 0);
  assert.equal(decidePath(l, '/etc/passwd'), 1);
  assert.equal(decidePath(l, '/usr/bin/ls'), -1);
  assert.equal(parsePathPatterns('~^/a,~^/b').exclusionOnly, true);
  assert.equal(ereToJs('[]a]'), '[\\]a]');
  assert.equal(ereToJs('[\\]'), '[\\\\]', 'a backslash is literal inside POSIX brackets');
  assert.equal(decidePath(parsePathPatterns('^/bin/[[:alpha:]]+$'), '/bin/ls'), 1);
  assert.equal(decidePath(parsePathPatterns('^/bin/[[:alpha:]]+$'), '/bin/ls2'), -1);
  assert.throws(() => parsePathPatterns('[[:nosuch:]]'), UsageError);
  assert.throws(() => parsePathPatterns('(unclosed'), (e: unknown) => e instanceof UsageError && /bad regular expression '\(unclosed'/.test(e.message));
});

test('-o file=: every path token must be included; exclusion-only lists; --path-match any', async () => {
  const items = [
    rec('header32', 72, 1, [path('/etc/passwd')]),
    rec('header32', 72, 2, [path('/etc/ssl/cert.pem')]),
    rec('header64', 42, 3, [path('/etc/a'), path('/usr/local/b')]), // a rename: two paths
    rec('header32', 72, 4, [path('/usr/local/lib/x.so')]),
    rec('header32', 2, 5, []), // no path token
  ];
  assert.deepEqual(await pick(['-o', 'file=^/etc/'], items), [0, 1]);
  assert.deepEqual(await pick(['-o', 'file=~^/etc/ssl,^/etc/'], items), [0]);
  assert.deepEqual(await pick(['-o', 'file=^/etc/,^/usr/local/'], items), [0, 1, 2, 3]);
  assert.deepEqual(await pick(['-o', 'file=~^/usr/local/'], items), [0, 1], 'exclusion-only: paths outside /usr/local');
  assert.deepEqual(await pick(['--compat=openbsm', '-o', 'file=~^/usr/local/'], items), [], 'upstream selects nothing (bug 9)');
  assert.deepEqual(await pick(['-o', 'file=^/etc/a$', '--path-match', 'any'], items), [2], 'one included path suffices');
  assert.deepEqual(await pick(['-o', 'file=^/etc/a$,~^/usr/', '--path-match', 'any'], items), [], 'no path may be excluded');
  assert.deepEqual(await pick(['--compat=openbsm', '-o', 'file=^/etc/'], items), [0, 1], 'header64 does not matter for -o file');
});

test('-o msgqid= / semid= / shmid=: the id of IPC tokens of that type; other IPC types fail', async () => {
  const items = [
    rec('header32', 1, 1, [ipc(1, 131274)]),
    rec('header32', 1, 2, [ipc(2, 584)]),
    rec('header32', 1, 3, [ipc(3, 982071)]),
    rec('header32', 1, 4, [ipc(1, 7)]),
    rec('header32', 1, 5, []),
  ];
  assert.deepEqual(await pick(['-o', 'msgqid=131274'], items), [0]);
  assert.deepEqual(await pick(['-o', 'semid=584'], items), [1]);
  assert.deepEqual(await pick(['-o', 'shmid=982071'], items), [2]);
  assert.deepEqual(await pick(['-o', 'msgqid=7', '-o', 'semid=584'], items), [], 'each record lacks one of them');
  assert.throws(() => parseReduceArgs(['-o', 'msgqid=x'], ctx), /not a number/);
});

const sockEx = (lp: number, la: string, rp: number, ra: string): TokenInput => ({
  type: 'socket_ex',
  domain: la.includes(':') ? 26 : 2,
  sockType: 2,
  addrType: la.includes(':') ? 16 : 4,
  localPort: lp,
  localAddr: la.includes(':') ? ipv6(la) : ipv4(la),
  remotePort: rp,
  remoteAddr: ra.includes(':') ? ipv6(ra) : ipv4(ra),
});

test('-o sock=: socket_ex, socket, socket-inet, socket-inet6 (raw or XNU-swapped port), socket-unix, in_addr', async () => {
  const items = [
    rec('header32', 32, 1, [sockEx(0, '0.0.0.0', 443, '93.184.216.34')]),
    rec('header32', 32, 2, [{ type: 'sockinet32', family: 2, port: 22, addr: ipv4('10.0.0.5') }]),
    // 8080 recorded byte-swapped as XNU does: 0x901f.
    rec('header32', 32, 3, [{ type: 'sockinet128', family: 26, port: 0x901f, addr: ipv6('2001:db8::5') }]),
    rec('header32', 32, 4, [{ type: 'sockunix', family: 1, path: str('/var/run/syslog') }]),
    rec('header32', 32, 5, [{ type: 'in_addr', addr: ipv4('10.0.0.5') }]),
    rec('header32', 32, 6, [{ type: 'socket', sockType: 2, localPort: 53, localAddr: ipv4('127.0.0.1'), remotePort: 5353, remoteAddr: ipv4('127.0.0.2') }]),
    rec('header32', 32, 7, []),
  ];
  assert.deepEqual(await pick(['-o', 'sock=93.184.216.34:443'], items), [0]);
  assert.deepEqual(await pick(['-o', 'sock=:443'], items), [0]);
  assert.deepEqual(await pick(['-o', 'sock=10.0.0.5'], items), [1, 4], 'address only: in_addr too');
  assert.deepEqual(await pick(['-o', 'sock=10.0.0.5:22'], items), [1]);
  assert.deepEqual(await pick(['-o', 'sock=[2001:db8::5]:8080'], items), [2], 'corrected XNU port');
  assert.deepEqual(await pick(['-o', 'sock=[2001:db8::5]:36895'], items), [2], 'raw recorded port');
  assert.deepEqual(await pick(['-o', 'sock=/var/run/syslog'], items), [3]);
  assert.deepEqual(await pick(['-o', 'sock=127.0.0.2:5353'], items), [5], 'remote endpoint');
  assert.deepEqual(await pick(['-o', 'sock=:9'], items), []);
  assert.deepEqual(await pick(['--compat=openbsm', '-o', 'sock=:443'], items), [], 'upstream never evaluates it (bug 3)');
  for (const bad of ['0', 'host:port', '[::1', '1.2.3.4:99999', '[zz]:1']) {
    assert.throws(() => parseSockSpec(bad), UsageError, bad);
  }
});

test('-o without = or with an unknown key is a usage error (upstream ignores them)', async () => {
  assert.throws(() => parseReduceArgs(['-o', 'file'], ctx), /expected KEY=VALUE/);
  assert.throws(() => parseReduceArgs(['-o', 'inode=5'], ctx), /unknown object type/);
  const items = [rec('header32', 1, 1, [])];
  assert.deepEqual(await pick(['--compat=openbsm', '-o', 'file'], items), [0], 'ignored upstream (bug 12)');
});

test('-z: fnmatch with FNM_PATHNAME on zonename tokens', async () => {
  const re = compileZoneGlob('web*');
  assert.ok(re.test('web1'));
  assert.ok(!re.test('web/1'), '* does not match /');
  assert.ok(compileZoneGlob('j[0-9]').test('j7'));
  assert.ok(!compileZoneGlob('j[!0-9]').test('j7'));
  assert.ok(compileZoneGlob('a\\*').test('a*'));
  assert.ok(compileZoneGlob('[x').test('[x'), 'an unterminated [ is literal');
  const items = [rec('header32', 1, 1, [zone('web1')]), rec('header32', 1, 2, [zone('db')]), rec('header32', 1, 3, [])];
  assert.deepEqual(await pick(['-z', 'web?'], items), [0]);
  assert.deepEqual(await pick(['-z', '*'], items), [0, 1], 'records without a zonename token do not match');
});

test('-v inverts among decoded records; combined options are ANDed before inverting', async () => {
  const items = [
    rec('header32', 23, 1, [subject('subject32', { auid: 501 })]),
    rec('header64', 23, 2, [subject('subject64', { auid: 0 })]),
    rec('header32', 2, 3, [subject('subject32_ex', { auid: 501 })]),
    { file: 4 },
  ];
  // -v gives the complement of the selection, file tokens included: X and -v X together are the whole trail.
  assert.deepEqual(await pick(['-m', '23', '-u', '501'], items), [0]);
  assert.deepEqual(await pick(['-v', '-m', '23', '-u', '501'], items), [1, 2, 3]);
  assert.deepEqual(await pick(['-v', '-A'], items), []);
  assert.deepEqual(await pick(['-v'], items), [], 'no selection option: everything matches, so -v keeps nothing');
  // Upstream: -v is "checked" by header32 only, so -v alone prints the header64 record and the file token.
  assert.deepEqual(await pick(['--compat=openbsm', '-v'], items), [1, 3]);
});
