/* The behaviours of issue point 3, observed over real ssh, byte-for-byte where the notes give the text. */
import assert from 'node:assert/strict';
import { Lab, LabOptions } from './lab';
import { ssh, sleep, waitFor } from './sshutil';

const SCALE = 0.02;
const INTERNAL =
  'The server failed to handle your request, due to an internal error. The given message may give details useful for debugging the problem.\nmessage: INTERNAL_ERROR: [ Stunnel.Stunnel_connection_failed ]\n';
const HA_ENABLED = 'The operation could not be performed because HA is enabled on the Pool\n';

async function withLab(opts: LabOptions, fn: (lab: Lab) => Promise<void>): Promise<void> {
  const lab = await Lab.start({ timeScale: SCALE, hosts: 3, ...opts });
  try {
    await fn(lab);
  } finally {
    await lab.stop();
  }
}

/** xapi runs in the role pool.conf says (a role change's fuse is over and xapi restarted into it). */
const up = (lab: Lab, i: number): boolean => lab.sim.runsAsConfigured(lab.sim.host(i));

describe('lab behaviours over real ssh', () => {
  it('forwarded commands hang while the master is unreachable (until the caller gives up) and resume when it returns', () =>
    withLab({ name: 'b-hang', baseAddress: 'auto' }, async (lab) => {
      await lab.fault('blackhole', 1);
      const gaveUp = await ssh(lab, 2, 'xe host-list params=name-label --minimal', { timeoutMs: 1200 });
      assert.equal(gaveUp.timedOut, true);
      // a call still waiting when the master comes back completes normally
      const pending = ssh(lab, 3, 'xe host-list params=name-label --minimal', { timeoutMs: 8000 });
      await sleep(800);
      await lab.heal(1);
      const r = await pending;
      assert.deepEqual([r.stdout, r.stderr, r.code, r.timedOut], ['xcp-host1,xcp-host2,xcp-host3\n', '', 0, false]);
      assert.ok(r.ms >= 800);
    }));

  it('as on dom0, a non-interactive session has xe on its PATH but not /opt/xensource/bin (issue 11, finding 12)', () =>
    withLab({ name: 'b-path', baseAddress: 'auto', hosts: 1 }, async (lab) => {
      const r = await ssh(lab, 1, 'command -v xe; xe-toolstack-restart; echo rc=$?');
      assert.match(r.stdout, /^\S+\/xe\nrc=127\n$/, r.stdout);
      assert.match(r.stderr, /xe-toolstack-restart: command not found/);
      const byPath = await ssh(lab, 1, '/opt/xensource/bin/xe-toolstack-restart');
      assert.deepEqual([byPath.stdout, byPath.code], ['Executing xe-toolstack-restart\ndone.\n', 0]);
    }));

  it('emergency mode: forwarded commands fail at once with the stored error; local commands always work', () =>
    withLab({ name: 'b-emerg', baseAddress: 'auto', model: 'code' }, async (lab) => {
      await lab.fault('poweroff', 1);
      // code model: only a toolstack restart while the master is unreachable brings emergency mode
      const tsr = await ssh(lab, 2, '/opt/xensource/bin/xe-toolstack-restart');
      assert.deepEqual([tsr.stdout, tsr.code], ['Executing xe-toolstack-restart\ndone.\n', 0]);
      await waitFor(() => up(lab, 2));
      const e = await ssh(lab, 2, 'xe host-is-in-emergency-mode; xe pool-list; echo rc=$?');
      assert.deepEqual([e.stdout, e.stderr], ['true\nrc=1\n', INTERNAL]);
      assert.ok(e.ms < 2000);
      // local (Neverforward) commands still work
      const reset = await ssh(lab, 2, `xe pool-emergency-reset-master master-address=${lab.hostByArg(3).info.address}`);
      assert.deepEqual([reset.stdout, reset.stderr, reset.code], [`Host agent will restart and become slave of ${lab.hostByArg(3).info.address} in 10. seconds...\n`, '', 0]);
    }));

  it('role change: the 10. seconds line, pool.conf rewritten at once, xapi serving in its old role for the fuse (issue 11, row 9), unavailable, then back in the new role', () =>
    withLab({ name: 'b-role', baseAddress: 'auto', durations: { fuse: 10, startup: 40 } }, async (lab) => {
      await lab.fault('poweroff', 1);
      const t0 = Date.now();
      const r = await ssh(lab, 3, 'xe pool-emergency-transition-to-master; xe host-is-in-emergency-mode');
      assert.deepEqual([r.stdout, r.stderr], ['Host agent will restart and transition to master in 10. seconds...\nfalse\n', '']);
      assert.equal((await ssh(lab, 3, 'cat /etc/xensource/pool.conf')).stdout, 'master'); // rewritten at once
      await waitFor(() => up(lab, 3), 5000);
      const took = Date.now() - t0;
      assert.ok(took >= 50 * SCALE * 1000 - 50, `xapi was down ${took} ms`);
      assert.equal((await ssh(lab, 3, 'xe pool-list params=master --minimal')).stdout, `${lab.sim.host(3).uuid}\n`);
      // already master without --force
      const again = await ssh(lab, 3, 'xe pool-emergency-transition-to-master');
      assert.equal(again.stdout, "Host agent is already master. Use '--force' to execute the operation anyway.\n");
      // host 2 still points at the dead master; restarting it now brings it back in emergency mode
      await ssh(lab, 2, '/opt/xensource/bin/xe-toolstack-restart');
      await waitFor(() => up(lab, 2));
      assert.equal((await ssh(lab, 2, 'xe host-is-in-emergency-mode')).stdout, 'true\n');
    }));

  it('pool-recover-slaves resets every reachable other host and skips unreachable ones silently', () =>
    withLab({ name: 'b-recover', baseAddress: 'auto', hosts: 5 }, async (lab) => {
      const s = (i: number): ReturnType<typeof lab.sim.host> => lab.sim.host(i);
      await lab.fault('poweroff', 1);
      await lab.fault('partition', 2, '5');
      await ssh(lab, 2, 'xe pool-emergency-transition-to-master');
      await waitFor(() => up(lab, 2));
      const r = await ssh(lab, 2, 'xe pool-recover-slaves');
      assert.deepEqual([r.stdout, r.stderr, r.code], [`${s(4).uuid}\n${s(3).uuid}\n`, '', 0]);
      await waitFor(() => up(lab, 3) && up(lab, 4) && !s(3).emergency && !s(4).emergency);
      assert.equal(s(5).role, `slave:${s(1).address}`); // untouched
      // running it again is idempotent (no-op resets are still listed), --minimal joins with commas
      const again = await ssh(lab, 2, 'xe pool-recover-slaves --minimal');
      assert.equal(again.stdout, `${s(4).uuid},${s(3).uuid}\n`);
      assert.equal(s(3).restarts, 1);
    }));

  it('a returning old master that cannot reach the new master stays master (split-brain)', () =>
    withLab({ name: 'b-split', baseAddress: 'auto' }, async (lab) => {
      await lab.fault('poweroff', 1);
      await ssh(lab, 2, 'xe pool-emergency-transition-to-master');
      await waitFor(() => up(lab, 2));
      await ssh(lab, 2, 'xe pool-recover-slaves');
      await waitFor(() => up(lab, 3) && !lab.sim.host(3).emergency);
      await lab.fault('partition', 1, '2');
      await lab.fault('poweron', 1);
      await waitFor(() => up(lab, 1));
      await sleep(100);
      const a = await ssh(lab, 1, 'cat /etc/xensource/pool.conf; echo; xe pool-list params=master --minimal');
      const b = await ssh(lab, 2, 'cat /etc/xensource/pool.conf; echo; xe pool-list params=master --minimal');
      assert.equal(a.stdout, `master\n${lab.sim.host(1).uuid}\n`);
      assert.equal(b.stdout, `master\n${lab.sim.host(2).uuid}\n`);
    }));

  it('HA: emergency commands refused until host-emergency-ha-disable --force; automatic election after the timeout', () =>
    withLab({ name: 'b-ha', baseAddress: 'auto', ha: true }, async (lab) => {
      const r = await ssh(lab, 2, 'xe pool-emergency-transition-to-master; xe pool-emergency-reset-master master-address=127.0.0.9; xe host-emergency-ha-disable; echo rc=$?');
      assert.equal(r.stdout, 'rc=1\n');
      assert.equal(r.stderr, HA_ENABLED + HA_ENABLED + 'Error: This operation is dangerous and may cause data loss. This operation must be forced (use --force).\n');
      const d = await ssh(lab, 3, 'xe host-emergency-ha-disable --force && xe pool-emergency-reset-master master-address=' + lab.hostByArg(1).info.address);
      assert.equal(d.stdout, `Host agent will restart and become slave of ${lab.hostByArg(1).info.address} in 10. seconds...\n`);
      assert.equal((await ssh(lab, 1, `xe pool-designate-new-master host-uuid=${lab.sim.host(2).uuid}`)).stderr, HA_ENABLED);
      // master lost: host 2 (still armed) is elected after 60 s (scaled)
      await lab.fault('poweroff', 1);
      await waitFor(() => lab.sim.host(2).role === 'master' && up(lab, 2), 10000, 'election');
      assert.equal((await ssh(lab, 2, 'cat /etc/xensource/pool.conf')).stdout, 'master');
    }));

  for (const [version, text] of [
    ['8.3', 'You cannot make regular API calls directly on a supporter. Please pass API calls via the coordinator host.'],
    ['8.2', 'You cannot make regular API calls directly on a pool member. Please pass API calls via the master host.'],
    ['pre-2021', 'You cannot make regular API calls directly on a slave. Please pass API calls via the master host.'],
  ] as const) {
    it(`version ${version}: remote login to a slave gives HOST_IS_SLAVE with that wording`, () =>
      withLab({ name: `b-v${version.replace('.', '')}`, baseAddress: 'auto', version, hosts: 2 }, async (lab) => {
        const master = lab.hostByArg(1).info.address;
        const r = await ssh(lab, 1, `xe -s ${lab.hostByArg(2).info.address} -u root -pw ${lab.password} host-list`);
        assert.deepEqual([r.stdout, r.stderr, r.code], ['', `${text}\nMaster IP address: ${master}\n`, 1]);
      }));
  }
});
