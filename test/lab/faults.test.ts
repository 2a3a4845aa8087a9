/* Every injectable fault (issue point 4), observed with the real OpenSSH client (and ssh2 for password logins). */
import assert from 'node:assert/strict';
import { Client } from 'ssh2';
import { Lab } from './lab';
import { ssh, ssh2Connect, ssh2Start, sleep, waitFor } from './sshutil';

const SCALE = 0.02;
const REFUSED = 'Error: Connection refused (calling connect )\n';

function tcpCheck(lab: Lab, from: number, to: number): Promise<string> {
  const addr = lab.hostByArg(to).info.address;
  return ssh(lab, from, `timeout 1 bash -c '</dev/tcp/${addr}/${lab.xapiPort}' 2>/dev/null && echo open || echo closed`).then((r) => r.stdout.trim());
}

function passwordLogin(lab: Lab, host: number, password: string): Promise<string> {
  return new Promise((resolve) => {
    const c = new Client();
    let out = '';
    c.on('ready', () => {
      c.exec('cat /etc/xensource/pool.conf', (err, stream) => {
        if (err) return resolve(`error: ${err.message}`);
        stream.on('data', (d: Buffer) => (out += d.toString()));
        stream.on('close', () => {
          c.end();
          resolve(`ok: ${out}`);
        });
      });
    });
    c.on('error', (e) => resolve(`error: ${e.message}`));
    c.connect({ host: lab.hostByArg(host).info.address, port: lab.sshPort, username: lab.user, password, readyTimeout: 5000, tryKeyboard: false });
  });
}

describe('lab faults over real ssh', function () {
  let lab: Lab;
  before(async () => {
    lab = await Lab.start({ name: 'faults', baseAddress: 'auto', hosts: 3, timeScale: SCALE });
  });
  after(async () => {
    await lab.stop();
  });
  afterEach(async () => {
    for (const i of [1, 2, 3]) await lab.heal(i);
    await waitFor(() => lab.sim.hosts.every((h) => h.xapi === 'running' && !h.emergency), 10000, 'pool healthy');
  });

  it('password and key logins work; the TCP check to :443 works between healthy hosts', async () => {
    assert.equal(await passwordLogin(lab, 2, lab.password), `ok: slave:${lab.hostByArg(1).info.address}`);
    assert.match(await passwordLogin(lab, 2, 'wrong'), /^error: All configured authentication methods failed/);
    assert.equal(await tcpCheck(lab, 2, 1), 'open');
  });

  it('poweroff: connection refused for ssh and :443; forwarded calls on slaves hang; heal boots it again', async () => {
    await lab.fault('poweroff', 1);
    const r = await ssh(lab, 1, 'true');
    assert.equal(r.code, 255);
    assert.match(r.stderr, /port 22: Connection refused/);
    assert.equal(await tcpCheck(lab, 2, 1), 'closed');
    const hang = await ssh(lab, 2, 'xe host-list', { timeoutMs: 1000 });
    assert.equal(hang.timedOut, true);
    await lab.heal(1);
    await waitFor(() => lab.sim.host(1).xapi === 'running');
    assert.equal((await ssh(lab, 2, 'xe pool-list params=name-label --minimal')).stdout, 'pool-lab\n');
  });

  it('blackhole: ssh connects hang until the client times out; :443 check fails; heal restores', async () => {
    await lab.fault('blackhole', 1);
    const r = await ssh(lab, 1, 'true', { extra: ['-o', 'ConnectTimeout=1'] });
    assert.equal(r.code, 255);
    assert.match(r.stderr, /timed out/);
    assert.ok(r.ms >= 900, `connect gave up after ${r.ms} ms`);
    assert.equal(await tcpCheck(lab, 2, 1), 'closed');
    // the black-holed host cannot reach the others either
    assert.equal(lab.sim.reachable(lab.sim.host(1), lab.sim.host(2)), false);
    await lab.heal(1);
    assert.equal(await tcpCheck(lab, 2, 1), 'open');
    assert.equal((await ssh(lab, 1, 'cat /etc/xensource/pool.conf')).stdout, 'master');
  });

  it('a caller that gives up on a hanging call leaves its xe running, as sshd does (no signal to a session without a pty)', async () => {
    await lab.fault('blackhole', 1);
    const hang = await ssh(lab, 2, 'xe pool-list', { timeoutMs: 800 });
    assert.equal(hang.timedOut, true);
    await sleep(500);
    assert.equal(lab.xeClientPids(2).length, 1);
    assert.equal(lab.sim.pendingCount(), 1);
    // Killing it on the host (what the product's bound does) ends the call.
    for (const pid of lab.xeClientPids(2)) process.kill(pid, 'SIGKILL');
    await waitFor(() => lab.sim.pendingCount() === 0, 3000, 'the call to end with its client');
  });

  it('a client that closes only the channel (connection kept, as ssh2 can) leaves its xe running too', async () => {
    await lab.fault('blackhole', 1);
    const c = await ssh2Connect(lab, 3);
    try {
      const ch = await ssh2Start(c, 'xe pool-list');
      await waitFor(() => lab.sim.pendingCount() === 1, 3000, 'call pending');
      ch.close();
      await sleep(500);
      assert.equal(lab.xeClientPids(3).length, 1);
    } finally {
      c.end();
    }
    for (const pid of lab.xeClientPids(3)) process.kill(pid, 'SIGKILL');
    await waitFor(() => lab.sim.pendingCount() === 0, 3000, 'the call to end with its client');
  });

  it('xapi down: sshd answers, xe prints the connection-refused error, :443 stays open (stunnel is its own service; issue 11, finding 11)', async () => {
    await lab.fault('xapi-down', 3);
    const r = await ssh(lab, 3, 'cat /etc/xensource/pool.conf; echo; xe host-is-in-emergency-mode');
    assert.deepEqual([r.stdout, r.stderr, r.code], [`slave:${lab.hostByArg(1).info.address}\n`, REFUSED, 1]);
    assert.equal(await tcpCheck(lab, 2, 3), 'open');
    await lab.heal(3);
    await waitFor(() => lab.sim.host(3).xapi === 'running');
    assert.equal((await ssh(lab, 3, 'xe host-is-in-emergency-mode')).stdout, 'false\n');
  });

  it('slow host: every SSH command is delayed; slow-xapi: every xe call is delayed', async () => {
    const base = await ssh(lab, 2, 'cat /etc/xensource/pool.conf');
    await lab.fault('slow', 2, '600');
    const slow = await ssh(lab, 2, 'cat /etc/xensource/pool.conf');
    assert.equal(slow.stdout, base.stdout);
    assert.ok(slow.ms >= base.ms + 450, `slow ${slow.ms} ms vs ${base.ms} ms`);
    assert.match(lab.statusTable(), /slow:600ms/);
    await lab.heal(2);
    const healed = await ssh(lab, 2, 'cat /etc/xensource/pool.conf');
    assert.ok(healed.ms < base.ms + 300, `healed ${healed.ms} ms`);
    await lab.fault('slow-xapi', 2, '400');
    const r = await ssh(lab, 2, 'a=$(date +%s%N); xe host-is-in-emergency-mode; b=$(date +%s%N); echo $(( (b - a) / 1000000 ))');
    const [out, ms] = r.stdout.split('\n');
    assert.equal(out, 'false');
    assert.ok(Number(ms) >= 400, `took ${ms} ms`);
  });

  it('garbage and truncated output', async () => {
    const good = (await ssh(lab, 2, 'xe pool-list')).stdout;
    await lab.fault('garbage', 2);
    const g = await ssh(lab, 2, 'xe pool-list');
    assert.notEqual(g.stdout, good);
    assert.equal(g.code, 0);
    await lab.heal(2);
    await lab.fault('truncate', 2);
    const t = await ssh(lab, 2, 'xe pool-list');
    assert.ok(t.stdout.length > 0 && t.stdout.length < good.length && good.startsWith(t.stdout));
    assert.ok(!t.stdout.endsWith('\n'));
  });

  it('host key changed (reinstalled): strict host key checking refuses; heal restores the old key', async () => {
    await lab.fault('hostkey', 3);
    const r = await ssh(lab, 3, 'true');
    assert.equal(r.code, 255);
    assert.match(r.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    await lab.heal(3);
    assert.equal((await ssh(lab, 3, 'echo ok')).stdout, 'ok\n');
  });

  it('wrong password: the lab password is refused, keys still work', async () => {
    await lab.fault('password', 3);
    assert.match(await passwordLogin(lab, 3, lab.password), /^error: All configured authentication methods failed/);
    assert.equal((await ssh(lab, 3, 'echo ok')).stdout, 'ok\n');
    await lab.heal(3);
    assert.match(await passwordLogin(lab, 3, lab.password), /^ok: /);
  });

  it('partition between two hosts only: real TCP from one to the other fails, third host unaffected', async () => {
    await lab.fault('partition', 1, '2');
    assert.equal(await tcpCheck(lab, 2, 1), 'closed');
    assert.equal(await tcpCheck(lab, 1, 2), 'closed');
    assert.equal(await tcpCheck(lab, 3, 1), 'open');
    // the admin still reaches both over ssh (the partition is between the hosts)
    assert.equal((await ssh(lab, 1, 'cat /etc/xensource/pool.conf')).stdout, 'master');
    const hang = await ssh(lab, 2, 'xe pool-list params=name-label --minimal', { timeoutMs: 1000 });
    assert.equal(hang.timedOut, true);
    assert.equal((await ssh(lab, 3, 'xe pool-list params=name-label --minimal')).stdout, 'pool-lab\n');
    await lab.heal(1);
    await sleep(50);
    assert.equal((await ssh(lab, 2, 'xe pool-list params=name-label --minimal')).stdout, 'pool-lab\n');
  });
});
