/*
 * The SSH transport (src/core/ssh) against the lab's real sshd hosts: authentication methods,
 * host-key trust, timeouts against a black-holed host, connection reuse and the connection cap.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { getEventListeners, setMaxListeners } from 'node:events';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { noSecrets, type SecretUse } from '../../../src/core/ssh/auth';
import { SshCommandTimeoutError, SshConnectError, SshConnectionLostError } from '../../../src/core/ssh/errors';
import { xe } from '../../../src/core/xe/command';
import { SshConfigResolver } from '../../../src/core/ssh/sshConfig';
import { SshTransport } from '../../../src/core/ssh/transport';
import { HostKeyMismatchError, HostKeyVerifier, KnownHostsFiles, PinnedHostKeys } from '../../../src/core/ssh/hostKeys';
import { HostRunner } from '../../../src/core/pool/hostAccess';
import { probeHost } from '../../../src/core/pool/prober';
import { Lab } from '../lab';
import { sshConnections } from '../../support/sockets';
import { waitFor } from '../sshutil';
import { address, engineFor, waitUntilSettled, type Engine } from './harness';

describe('engine: SSH transport against lab hosts', function () {
  this.timeout(60_000);
  let lab: Lab;
  let engine: Engine | undefined;
  const scratch = mkdtempSync(path.join(tmpdir(), 'xenpools-transport-'));

  before(async () => {
    // code model: a slave never enters emergency mode by itself, so forwarded calls hang for good (C.1).
    lab = await Lab.start({ name: 'eng-ssh', baseAddress: '127.77.101', hosts: 4, model: 'code', timeScale: 0.02 });
  });
  after(async () => {
    await lab?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });
  afterEach(async () => {
    engine?.dispose();
    engine = undefined;
    for (const host of [1, 2, 3, 4]) await lab.heal(host);
    // A healed (powered-on) host restarts its xapi; the next test starts from a settled pool.
    await waitUntilSettled(lab);
  });

  const run = (e: Engine, host: number, command: string, timeoutMs?: number) => e.runner.shell(address(lab, host), command, timeoutMs ? { timeoutMs } : undefined);

  describe('authentication', () => {
    it('logs in with a private key file', async () => {
      engine = engineFor(lab);
      const result = await run(engine, 1, 'xe host-is-in-emergency-mode');
      assert.deepEqual([result.stdout, result.stderr, result.exitCode], ['false\n', '', 0]);
    });

    it('logs in with a passphrase-protected key, asking the secrets provider for the passphrase', async () => {
      const encrypted = path.join(scratch, 'id_encrypted');
      copyFileSync(lab.keyFile, encrypted);
      execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'correct horse', '-f', encrypted]);
      const asked: string[] = [];
      engine = engineFor(lab, { authMethods: [{ kind: 'key', file: encrypted }], secrets: { passphrase: async (file) => (asked.push(file), 'correct horse') } });
      assert.equal((await run(engine, 1, 'echo ok')).stdout, 'ok\n');
      assert.deepEqual(asked, [encrypted]);
    });

    it('logs in with a password from the secrets provider', async () => {
      engine = engineFor(lab, { authMethods: [{ kind: 'password' }], secrets: { password: async () => lab.password } });
      assert.equal((await run(engine, 2, 'echo ok')).stdout, 'ok\n');
    });

    it('logs in through ssh-agent', async () => {
      const socket = path.join(scratch, 'agent.sock');
      const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
      try {
        for (let i = 0; i < 50; i++) {
          try {
            execFileSync('ssh-add', [lab.keyFile], { env: { SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 50)); // the agent socket is not there yet
          }
        }
        engine = engineFor(lab, { authMethods: [{ kind: 'agent', socket }] });
        assert.equal((await run(engine, 3, 'echo ok')).stdout, 'ok\n');
      } finally {
        agent.kill();
      }
    });

    it('fails a wrong password with an auth error that names what was tried but never the password', async () => {
      engine = engineFor(lab, { authMethods: [{ kind: 'password' }], secrets: { password: async () => 'not-the-password-123' } });
      await assert.rejects(run(engine, 1, 'true'), (error: unknown) => {
        assert.ok(error instanceof SshConnectError && error.failure === 'auth', String(error));
        assert.match(error.message, /password: rejected/);
        assert.doesNotMatch(error.message, /not-the-password-123/);
        return true;
      });
    });

    it('tells the secrets whether each worked: a wrong and a right password, a wrong and a right passphrase (issue 12, finding 3)', async () => {
      const verdicts: string[] = [];
      const settled = (use: SecretUse, value: string, accepted: boolean) => verdicts.push(`${use.kind} ${value} ${accepted ? 'accepted' : 'rejected'}`);
      for (const password of ['wrong-pw-1', lab.password]) {
        engine?.dispose();
        engine = engineFor(lab, { authMethods: [{ kind: 'password' }], secrets: { password: async () => password, settled } });
        await run(engine, 1, 'true').catch(() => undefined);
      }
      // A file of its own: the key file cache looks at a file again only after a second (ParsedFileCache), and the
      // test above wrote id_encrypted with another passphrase less than a second ago on a fast run.
      const encrypted = path.join(scratch, 'id_encrypted_pp_right');
      copyFileSync(lab.keyFile, encrypted);
      execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'pp-right', '-f', encrypted]);
      for (const passphrase of ['pp-wrong', 'pp-right']) {
        engine?.dispose();
        engine = engineFor(lab, { authMethods: [{ kind: 'key', file: encrypted }], secrets: { passphrase: async () => passphrase, settled } });
        await run(engine, 1, 'true').catch(() => undefined);
      }
      assert.deepEqual(verdicts, [`password wrong-pw-1 rejected`, `password ${lab.password} accepted`, 'passphrase pp-wrong rejected', 'passphrase pp-right accepted']);
    });

    it('never lets a wrong password ride on a connection a working login opened to the same host (issue 10, finding 4)', async () => {
      engine = engineFor(lab);
      const keyed = new HostRunner(engine.transport, { user: lab.user, auth: [{ kind: 'key', file: lab.keyFile }], secrets: noSecrets });
      assert.equal((await keyed.shell(address(lab, 3), 'echo ok')).stdout, 'ok\n');
      const wrong = new HostRunner(engine.transport, { user: lab.user, auth: [{ kind: 'password' }], secrets: { ...noSecrets, password: async () => 'wrong-password-1' } });
      await assert.rejects(wrong.shell(address(lab, 3), 'echo ok'), (error: unknown) => error instanceof SshConnectError && error.failure === 'auth');
    });

    it('release() closes only the connections of its own login', async () => {
      engine = engineFor(lab);
      const keyed = new HostRunner(engine.transport, { user: lab.user, auth: [{ kind: 'key', file: lab.keyFile }], secrets: noSecrets });
      const wrong = new HostRunner(engine.transport, { user: lab.user, auth: [{ kind: 'password' }], secrets: { ...noSecrets, password: async () => 'wrong-password-1' } });
      assert.equal((await keyed.shell(address(lab, 3), 'echo ok')).stdout, 'ok\n');
      await assert.rejects(wrong.shell(address(lab, 3), 'echo ok'));
      const opened = engine.transport.stats().opened;
      wrong.release();
      assert.equal((await keyed.shell(address(lab, 3), 'echo ok')).stdout, 'ok\n');
      assert.equal(engine.transport.stats().opened, opened);
      keyed.release();
      assert.equal((await keyed.shell(address(lab, 3), 'echo ok')).stdout, 'ok\n');
      assert.equal(engine.transport.stats().opened, opened + 1, 'release() closed the connection, so the next command connected anew');
    });

    it('rejects the lab password once the host changed it (fault: password)', async () => {
      await lab.fault('password', 2);
      engine = engineFor(lab, { authMethods: [{ kind: 'password' }], secrets: { password: async () => lab.password } });
      await assert.rejects(run(engine, 2, 'true'), (error: unknown) => error instanceof SshConnectError && error.failure === 'auth');
    });
  });

  describe('host keys', () => {
    it('asks before trusting an unknown host key, with its SHA256 fingerprint, and pins it', async () => {
      const asked: string[] = [];
      engine = engineFor(lab, { knownHosts: [], confirmUnknown: async (q) => (asked.push(q.fingerprint), true) });
      await run(engine, 1, 'true');
      assert.equal(asked.length, 1);
      assert.match(asked[0] ?? '', /^SHA256:[A-Za-z0-9+/]{43}$/);
      const fingerprintBySshKeygen = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-F', address(lab, 1), '-f', lab.knownHostsFile], { encoding: 'utf8' });
      assert.ok(fingerprintBySshKeygen.includes(asked[0] ?? '-'), fingerprintBySshKeygen);
    });

    it('refuses an unknown host key the admin does not trust', async () => {
      engine = engineFor(lab, { knownHosts: [] });
      await assert.rejects(run(engine, 1, 'true'), (error: unknown) => error instanceof SshConnectError && error.failure === 'host-key');
    });

    it('refuses a changed host key (host reinstalled) with old and new fingerprints', async () => {
      await lab.fault('hostkey', 3);
      engine = engineFor(lab);
      await assert.rejects(run(engine, 3, 'true'), (error: unknown) => {
        assert.ok(error instanceof SshConnectError && error.failure === 'host-key');
        assert.ok(error.cause instanceof HostKeyMismatchError);
        assert.equal(error.cause.known.length, 1);
        assert.notEqual(error.cause.known[0], error.cause.presented);
        return true;
      });
    });
  });

  describe('timeouts and failures', () => {
    it('gives up on a black-holed host within the connect timeout, while the other hosts answer at once', async () => {
      await lab.fault('blackhole', 1);
      engine = engineFor(lab, { settings: { connectTimeoutMs: 1_500 } });
      const started = Date.now();
      const [dead, ...alive] = await Promise.allSettled([1, 2, 3, 4].map(async (host) => ({ result: await run(engine as Engine, host, 'echo ok'), at: Date.now() - started })));
      const deadAt = Date.now() - started;
      assert.equal(dead?.status, 'rejected');
      assert.ok(dead?.status === 'rejected' && dead.reason instanceof SshConnectError && dead.reason.failure === 'timeout');
      assert.ok(deadAt < 1_500 + 1_000, `black-holed host took ${deadAt} ms`);
      for (const outcome of alive) {
        assert.equal(outcome.status, 'fulfilled');
        assert.ok(outcome.status === 'fulfilled' && outcome.value.at < 1_500, `a live host waited for the dead one (${outcome.status === 'fulfilled' ? outcome.value.at : '?'} ms)`);
      }
    });

    it('a warm connection to a host that is then black-holed: a command fails as "stopped answering" within about the connect timeout, not the command timeout (issue 12, finding 9)', async () => {
      engine = engineFor(lab, { settings: { connectTimeoutMs: 1_500 } });
      assert.equal((await run(engine, 2, 'echo warm')).stdout, 'warm\n');
      await lab.fault('blackhole', 2);
      const started = Date.now();
      await assert.rejects(run(engine, 2, 'echo never', 20_000), (error: unknown) => error instanceof SshConnectionLostError && error.stoppedAnswering && /stopped answering/.test(error.message));
      const took = Date.now() - started;
      assert.ok(took < 1_500 * 2 + 1_000, `took ${took} ms (the command timeout is 20 s)`);
    });

    it('the probe over that warm connection reads the host as unreachable, not as hung or overloaded (issue 12, finding 9)', async () => {
      engine = engineFor(lab, { settings: { connectTimeoutMs: 1_500 } });
      const member = { uuid: lab.hostByArg(2).info.uuid, name: 'xcp-host2', address: address(lab, 2) };
      assert.equal((await probeHost(engine.runner, member, { commandTimeoutMs: 20_000 })).health.kind, 'probed');
      await lab.fault('blackhole', 2);
      const { health } = await probeHost(engine.runner, member, { commandTimeoutMs: 20_000 });
      assert.equal(health.kind, 'unreachable', JSON.stringify(health));
      assert.equal(health.kind === 'unreachable' ? health.failure : '', 'timeout');
      assert.match(health.kind === 'unreachable' ? health.message : '', /stopped answering/);
    });

    it('reports a powered-off host as connection refused', async () => {
      await lab.fault('poweroff', 2);
      engine = engineFor(lab);
      await assert.rejects(run(engine, 2, 'true'), (error: unknown) => error instanceof SshConnectError && error.failure === 'refused');
    });

    it('ends a hung command at its timeout: a forwarded xe call on a slave whose master is dead', async () => {
      await lab.fault('poweroff', 1);
      engine = engineFor(lab);
      const started = Date.now();
      await assert.rejects(run(engine, 2, 'xe pool-list', 800), /did not finish within 0.8 s/);
      assert.ok(Date.now() - started < 2_000);
      // the connection stays usable for the next command
      assert.equal((await run(engine, 2, 'echo still-here')).stdout, 'still-here\n');
    });

    // The lab keeps a hung xe running after its channel closed, as sshd does (issue 11, findings 3 and 7).
    const xeLeftOn = (host: number) => lab.xeClientPids(host).length;

    it('a timed-out xe call leaves no process on the host (sshd does not kill it; the product must)', async () => {
      await lab.fault('poweroff', 1);
      engine = engineFor(lab);
      await assert.rejects(engine.runner.xe(address(lab, 2), { timeoutMs: 800 })(xe.poolList()), (error: unknown) => error instanceof SshCommandTimeoutError && error.command === 'xe pool-list');
      await waitFor(() => xeLeftOn(2) === 0 && lab.sim.pendingCount() === 0, 3_000, 'the hung xe pool-list to be gone from xcp-host2');
    });

    it('a cancelled xe call leaves no process on the host', async () => {
      await lab.fault('poweroff', 1);
      engine = engineFor(lab);
      const controller = new AbortController();
      const call = engine.runner.xe(address(lab, 2), { timeoutMs: 10_000, signal: controller.signal })(xe.poolList());
      await waitFor(() => lab.sim.pendingCount() === 1, 3_000, 'the call to hang');
      controller.abort();
      await assert.rejects(call, /cancelled/);
      await waitFor(() => xeLeftOn(2) === 0 && lab.sim.pendingCount() === 0, 3_000, 'the cancelled xe pool-list to be gone from xcp-host2');
    });

    it('an xe call whose connection is lost unnoticed (black hole) is ended on the host by its own time bound', async () => {
      await lab.fault('poweroff', 1);
      engine = engineFor(lab);
      const call = engine.runner.xe(address(lab, 3), { timeoutMs: 1_000 })(xe.poolList());
      await waitFor(() => lab.sim.pendingCount() === 1, 3_000, 'the call to hang');
      await lab.fault('blackhole', 3);
      await assert.rejects(call, SshCommandTimeoutError);
      // sshd on xcp-host3 cannot see the client go; the call's own bound (1 s + 1 s) ends it there.
      await waitFor(() => xeLeftOn(3) === 0, 5_000, 'the hung xe pool-list to be gone from xcp-host3');
    });

    it('twelve timed-out xe calls in a row leave the host usable (sshd allows 10 sessions per connection)', async () => {
      await lab.fault('poweroff', 1);
      engine = engineFor(lab);
      for (let i = 0; i < 12; i++) await assert.rejects(engine.runner.xe(address(lab, 2), { timeoutMs: 300 })(xe.poolList()), SshCommandTimeoutError);
      assert.equal((await run(engine, 2, 'echo usable')).stdout, 'usable\n');
    });

    it('a connection whose sshd refuses new channels is replaced, and the command runs on the new one', async () => {
      engine = engineFor(lab);
      // Commands run without the product's bound keep their sessions after their channels closed: ten fill
      // MaxSessions of the connection.
      for (let i = 0; i < 10; i++) await assert.rejects(run(engine, 4, 'sleep 30', 200), SshCommandTimeoutError);
      assert.equal((await run(engine, 4, 'echo on-a-new-connection')).stdout, 'on-a-new-connection\n');
      assert.equal(engine.transport.stats().opened, 2);
    });

    it('cancels a running command through AbortSignal', async () => {
      await lab.fault('poweroff', 1);
      engine = engineFor(lab);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      await assert.rejects(engine.runner.shell(address(lab, 2), 'xe host-list', { timeoutMs: 10_000, signal: controller.signal }), /cancelled/);
    });
  });

  describe('connection reuse and limits', () => {
    it('runs many commands to one host over one connection, several at once', async () => {
      engine = engineFor(lab);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => run(engine as Engine, 1, `echo ${i}`)));
      assert.deepEqual(results.map((r) => r.stdout), Array.from({ length: 20 }, (_, i) => `${i}\n`));
      assert.equal(engine.transport.stats().opened, 1);
    });

    it('keeps one connection through rounds of commands at the channel cap: sshd freeing a session late is no reason to replace it', async () => {
      engine = engineFor(lab);
      // Each round hands a finished channel's slot straight to the next command; sshd frees the finished session a
      // moment after the client saw it close, so an open can be refused for a moment (seen once in CI).
      for (let round = 0; round < 15; round++) await Promise.all(Array.from({ length: 24 }, () => run(engine as Engine, 1, 'true')));
      assert.equal(engine.transport.stats().opened, 1);
    });

    it('fails output over 8 MB with that reason, never returns it cut and spliced (issue 12, finding 7)', async () => {
      engine = engineFor(lab);
      await assert.rejects(run(engine, 1, 'head -c 10485760 /dev/zero | tr "\\0" a; echo tail-marker'), /output over 8 MB/);
      // The connection stays usable.
      assert.equal((await run(engine, 1, 'echo after')).stdout, 'after\n');
    });

    it('keeps no per-command state on a long-lived connection once the commands are done', async () => {
      engine = engineFor(lab);
      for (let i = 0; i < 5; i++) await Promise.all(Array.from({ length: 10 }, () => run(engine as Engine, 2, 'true')));
      // White-box on purpose: a listener left behind per command is invisible through the API until
      // a connection that lives for days (auto-refresh) has gathered millions of them.
      const live = (engine.transport as unknown as { live: Set<{ closeListeners: unknown[] }> }).live;
      assert.equal(live.size, 1);
      for (const connection of live) assert.ok(connection.closeListeners.length <= 1, `${connection.closeListeners.length} close listeners after 50 commands`);
    });

    it('re-opens a connection that dropped (host rebooted) on next use', async () => {
      engine = engineFor(lab);
      await run(engine, 4, 'true');
      await lab.fault('poweroff', 4);
      await lab.heal(4);
      assert.equal((await run(engine, 4, 'echo back')).stdout, 'back\n');
      assert.equal(engine.transport.stats().opened, 2);
    });

    it('never holds more connections than the cap, and still serves every host', async () => {
      engine = engineFor(lab, { settings: { maxConnections: 2 } });
      const results = await Promise.all([1, 2, 3, 4, 1, 2, 3, 4].map((host) => run(engine as Engine, host, 'cat /etc/xensource/pool.conf')));
      assert.equal(results.length, 8);
      assert.ok(engine.transport.stats().peakOpen <= 2, `peak ${engine.transport.stats().peakOpen}`);
      assert.ok(engine.transport.stats().open <= 2);
    });

    it('a closed connection holds no socket any more: the cap counts what the kernel holds (issue 13, 36 sockets for a cap of 32)', async () => {
      engine = engineFor(lab);
      const before = sshConnections('self').length;
      await Promise.all([1, 2, 3].map((host) => run(engine as Engine, host, 'true')));
      assert.equal(sshConnections('self').length, before + 3);
      // Synchronously after the close: a socket still open here is one more than the transport counts.
      engine.transport.dispose();
      assert.equal(sshConnections('self').length, before, 'sockets still open right after their connections were closed');
    });

    it('at the cap, never a new socket while the one it replaces is still open (issue 13)', async () => {
      engine = engineFor(lab, { settings: { maxConnections: 2 } });
      const before = sshConnections('self').length;
      let peak = 0;
      const connect = Socket.prototype.connect;
      Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
        peak = Math.max(peak, sshConnections('self').length - before + 1);
        return (connect as (...a: unknown[]) => Socket).apply(this, args);
      } as typeof connect;
      try {
        for (let round = 0; round < 3; round++) await Promise.all([1, 2, 3, 4].map((host) => run(engine as Engine, host, 'true')));
      } finally {
        Socket.prototype.connect = connect;
      }
      assert.ok(peak <= 2, `${peak} sockets open at once for a cap of 2`);
    });

    it("an admin's command waits for a free connection ahead of a refresh's probes (issue 13: a VM read waited behind 1,000 probes)", async () => {
      engine = engineFor(lab, { settings: { maxConnections: 1 } });
      const finished: string[] = [];
      const track = (name: string, promise: Promise<unknown>) => promise.then(() => finished.push(name));
      const refresh = [1, 2, 3].map((host) => track(`probe ${host}`, engine?.runner.shell(address(lab, host), 'sleep 0.3', { queueOrder: 1 }) ?? Promise.resolve()));
      // Queued after the three: the first runs, the other two wait for its connection.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const admin = track('admin', run(engine, 4, 'true'));
      await Promise.all([...refresh, admin]);
      assert.deepEqual(finished.slice(0, 2), ['probe 1', 'admin']);
    });

    it('a refresh begun earlier goes first: the pools of a big refresh finish one after another', async () => {
      engine = engineFor(lab, { settings: { maxConnections: 1 } });
      const finished: number[] = [];
      const later = [3, 4].map((host) => engine?.runner.shell(address(lab, host), 'sleep 0.2', { queueOrder: 2 }).then(() => finished.push(host)));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const earlier = [1, 2].map((host) => engine?.runner.shell(address(lab, host), 'true', { queueOrder: 1 }).then(() => finished.push(host)));
      await Promise.all([...later, ...earlier]);
      assert.deepEqual(finished, [3, 1, 2, 4]);
    });

    it("background work opens new connections paced; an admin's command and a host whose connection is open do not wait for it (issue 13: the first probe of 1,024 hosts kept the extension host busy)", async () => {
      engine = engineFor(lab, { settings: { pacedConnectsPerSecond: 0.5, pacedConnectBurst: 1 } });
      const finished: string[] = [];
      const track = (name: string, promise: Promise<unknown> | undefined) => (promise ?? Promise.resolve()).then(() => finished.push(name));
      // One connect now, the next after two seconds (room for a slow machine's admin connect), the third after four.
      const background = [1, 2, 3].map((host) => track(`paced ${host}`, engine?.runner.shell(address(lab, host), 'true', { queueOrder: 1, paced: true })));
      await track('admin 4', run(engine, 4, 'true'));
      // Host 4's connection is open now: background work there needs no new connect, so it does not wait its turn.
      await track('paced 4, connection open', engine.runner.shell(address(lab, 4), 'true', { queueOrder: 1, paced: true }));
      await Promise.all(background);
      assert.deepEqual(finished.slice(-2), ['paced 2', 'paced 3'], finished.join(', '));
      assert.ok(finished.indexOf('paced 4, connection open') < finished.indexOf('paced 2'), finished.join(', '));
    });

    it('a transport replaced by a settings change lets a running command finish, then closes its connections (issue 12, finding 9)', async () => {
      engine = engineFor(lab);
      await run(engine, 2, 'true'); // an idle connection to host 2
      const running = run(engine, 3, 'sleep 1.5; echo finished', 10_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      engine.transport.retire();
      assert.equal(engine.transport.stats().open, 1, 'the idle connection closes at once, the busy one stays');
      assert.equal((await running).stdout, 'finished\n');
      assert.equal(engine.transport.stats().open, 0);
    });

    it('leaves no abort listener behind on a signal that waited for a free connection (issue 12, finding 9)', async () => {
      engine = engineFor(lab, { settings: { maxConnections: 1 } });
      const signal = new AbortController().signal;
      setMaxListeners(100, signal);
      await Promise.all([1, 2, 3, 4, 1, 2, 3, 4].map((host) => engine?.runner.shell(address(lab, host), 'true', { signal })));
      assert.equal(getEventListeners(signal, 'abort').length, 0);
    });
  });

  describe('~/.ssh/config', () => {
    it('connects through a Host alias (HostName, User, IdentityFile) and through a ProxyJump host', async () => {
      const config = path.join(scratch, 'ssh_config');
      writeFileSync(
        config,
        [
          'Host pool-slave',
          `  HostName ${address(lab, 2)}`,
          `  User ${lab.user}`,
          `  IdentityFile ${lab.keyFile}`,
          'Host behind-jump',
          `  HostName ${address(lab, 3)}`,
          `  ProxyJump ${lab.user}@${address(lab, 1)}`,
          '',
        ].join('\n'),
      );
      const transport = new SshTransport({
        resolver: new SshConfigResolver(config, 'nobody'),
        verifier: new HostKeyVerifier(new KnownHostsFiles([lab.knownHostsFile]), new PinnedHostKeys(path.join(scratch, 'pins.json')), async () => false),
        secrets: noSecrets,
        authMethods: (target) => (target.identityFiles.length ? [{ kind: 'key', file: target.identityFiles[0] ?? '' }] : [{ kind: 'key', file: lab.keyFile }]),
      });
      try {
        const viaAlias = await transport.run({ host: 'pool-slave' }, 'cat /etc/xensource/pool.conf');
        assert.equal(viaAlias.stdout, `slave:${address(lab, 1)}`);
        const viaJump = await transport.run({ host: 'behind-jump', user: lab.user }, 'xe host-is-in-emergency-mode');
        assert.equal(viaJump.stdout, 'false\n');
        assert.equal(transport.stats().opened, 2);
      } finally {
        transport.dispose();
      }
    });

    it('never offers the pool\'s password to the ProxyJump host: it gets the agent and keys only (issue 12, finding 2)', async () => {
      const config = path.join(scratch, 'ssh_config_jump');
      writeFileSync(config, ['Host behind-jump', `  HostName ${address(lab, 3)}`, `  ProxyJump ${lab.user}@${address(lab, 1)}`, ''].join('\n'));
      const asked: string[] = [];
      const transport = new SshTransport({
        resolver: new SshConfigResolver(config, lab.user),
        verifier: new HostKeyVerifier(new KnownHostsFiles([lab.knownHostsFile]), new PinnedHostKeys(path.join(scratch, 'pins-jump.json')), async () => false),
        secrets: noSecrets,
      });
      // The pool logs in by password only; the jump host accepts that password too, so offering it would work.
      const pool = { host: 'behind-jump', user: lab.user, auth: [{ kind: 'password' as const }], secrets: { password: async (account: { host: string }) => (asked.push(account.host), lab.password), passphrase: async () => undefined } };
      try {
        await assert.rejects(transport.run(pool, 'true'), (error: Error) => {
          assert.ok(error instanceof SshConnectError && error.failure === 'auth', String(error));
          assert.match(error.message, /jump host .*only the SSH agent and keys/);
          return true;
        });
        assert.deepEqual(asked, [], 'the password was asked for the jump host');
      } finally {
        transport.dispose();
      }
    });
  });
});

describe('engine: keyboard-interactive login (PAM), as XenServer\'s sshd asks for passwords', function () {
  this.timeout(60_000);
  let lab: Lab;
  before(async () => {
    lab = await Lab.start({ name: 'eng-kbd', baseAddress: '127.77.102', hosts: 1, keyboardInteractive: true, timeScale: 0.02 });
  });
  after(async () => lab?.stop());

  it('answers the password prompt from the secrets provider', async () => {
    const engine = engineFor(lab, { authMethods: [{ kind: 'keyboard-interactive' }], secrets: { password: async () => lab.password } });
    try {
      assert.equal((await engine.runner.shell(address(lab, 1), 'echo ok')).stdout, 'ok\n');
    } finally {
      engine.dispose();
    }
  });

  it('fails a wrong password without naming it, and plain password auth is not offered', async () => {
    const engine = engineFor(lab, { authMethods: [{ kind: 'password' }, { kind: 'keyboard-interactive' }], secrets: { password: async () => 'wrong-secret-42' } });
    try {
      await assert.rejects(engine.runner.shell(address(lab, 1), 'true'), (error: unknown) => {
        assert.ok(error instanceof SshConnectError && error.failure === 'auth', String(error));
        assert.match(error.message, /keyboard-interactive: rejected/);
        assert.doesNotMatch(error.message, /wrong-secret-42/);
        return true;
      });
    } finally {
      engine.dispose();
    }
  });
});
