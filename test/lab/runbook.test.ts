/*
 * The admin runbook (../shared/000_ea18c7cae5cea406.txt) run by hand with the real OpenSSH client against a pool
 * whose master died, in both emergency models; afterwards the full state of every host is asserted.
 */
import assert from 'node:assert/strict';
import { Lab } from './lab';
import { EmergencyModel } from './sim';
import { ssh, waitFor } from './sshutil';
import { XapiVersion } from './texts';

const SCALE = 0.02; // fuse 10 s → 0.2 s, docs-model 60 s → 1.2 s

async function runbook(model: EmergencyModel, version: XapiVersion): Promise<void> {
  const lab = await Lab.start({ name: `runbook-${model}`, baseAddress: 'auto', hosts: 4, model, timeScale: SCALE, version });
  try {
    const [h1, h2, h3, h4] = [1, 2, 3, 4].map((i) => lab.sim.host(i));
    if (!h1 || !h2 || !h3 || !h4) throw new Error('hosts');
    const poolUuid = h2.db.pool.uuid;

    // the master dies
    await lab.fault('poweroff', 1);
    const refused = await ssh(lab, 1, 'true');
    assert.equal(refused.code, 255);
    assert.match(refused.stderr, /Connection refused/);

    // step 1: is the slave in emergency mode?
    if (model === 'docs') {
      // the slaves notice after 60 s (scaled)
      await waitFor(async () => (await ssh(lab, 2, 'xe host-is-in-emergency-mode')).stdout === 'true\n', 15000, 'emergency mode');
    } else {
      // code model: a running slave never enters emergency mode by itself (D.1) …
      await new Promise((r) => setTimeout(r, 60 * SCALE * 1000 + 200));
      const r = await ssh(lab, 2, 'xe host-is-in-emergency-mode');
      assert.deepEqual([r.stdout, r.stderr, r.code], ['false\n', '', 0]);
      // … and forwarded commands hang until the caller gives up (C.1)
      const hang = await ssh(lab, 3, 'xe pool-list', { timeoutMs: 1500 });
      assert.equal(hang.timedOut, true);
      assert.equal(hang.stdout, '');
    }

    // step 2: make host 2 the master (works with or without emergency mode, A.2)
    // right afterwards xapi still serves in its old role for the fuse (xapi_fuse.ml): an emergency slave answers with
    // its stored error (docs), a forwarded call hangs until the restart drops it (code); then refused while it starts (D.6)
    const t = await ssh(lab, 2, 'xe pool-emergency-transition-to-master; xe pool-list');
    assert.deepEqual([t.stdout, t.code], ['Host agent will restart and transition to master in 10. seconds...\n', 1]);
    assert.match(t.stderr, model === 'docs' ? /Stunnel_connection_failed/ : /^Lost connection to the server\.\n$/);
    // an automation waits until the host reports itself master (D.6)
    await waitFor(async () => (await ssh(lab, 2, 'xe pool-list params=master --minimal')).stdout === `${h2.uuid}\n`, 15000, 'new master up');
    assert.equal((await ssh(lab, 2, 'cat /etc/xensource/pool.conf')).stdout, 'master');

    // step 3: recover the slaves; the dead old master is skipped silently; reverse DB order (A.3)
    const rec = await ssh(lab, 2, 'xe pool-recover-slaves');
    assert.deepEqual([rec.stdout, rec.stderr, rec.code], [`${h4.uuid}\n${h3.uuid}\n`, '', 0]);
    await waitFor(
      async () => {
        const r = await ssh(lab, 3, 'xe host-is-in-emergency-mode && xe pool-list params=master --minimal', { timeoutMs: 3000 });
        return r.stdout === `false\n${h2.uuid}\n`;
      },
      15000,
      'slave 3 rejoined',
    );
    await waitFor(async () => (await ssh(lab, 4, 'xe pool-list params=master --minimal', { timeoutMs: 3000 })).stdout === `${h2.uuid}\n`, 15000, 'slave 4 rejoined');

    // step 4: check default-SR with pool-param-list
    const pl = await ssh(lab, 4, `xe pool-param-list uuid=${poolUuid}`);
    assert.equal(pl.code, 0);
    const lines = pl.stdout.split('\n');
    if (version === '8.2') {
      // byte-exact against the B.4 layout (8.2 field set: the longest key is ha-host-failures-to-tolerate)
      assert.equal(lines[0], `uuid ( RO)                            : ${poolUuid}`);
      assert.equal(lines[3], `                          master ( RO): ${h2.uuid}`);
      assert.equal(lines[4], `                      default-SR ( RW): ${h2.db.pool.defaultSR}`);
      assert.equal(lines.length, 35 + 3);
    } else {
      // 8.3 adds longer keys (client-certificate-auth-enabled), so the column is wider
      assert.equal(lines[0], `uuid ( RO)                               : ${poolUuid}`);
      assert.equal(lines[3], `                             master ( RO): ${h2.uuid}`);
    }
    assert.ok(pl.stdout.endsWith('\n\n\n'));

    // full state of every host afterwards
    for (const [i, role] of [[2, 'master'], [3, `slave:${h2.address}`], [4, `slave:${h2.address}`]] as const) {
      const r = await ssh(lab, i, 'cat /etc/xensource/pool.conf; echo; xe host-is-in-emergency-mode; xe pool-list params=master --minimal');
      assert.equal(r.stdout, `${role}\nfalse\n${h2.uuid}\n`, `host ${i}`);
    }
    const st = lab.state();
    assert.deepEqual(
      st.hosts.map((h) => [h.name, h.role, h.xapi, h.emergency, h.faults.power, h.db.pool.master]),
      [
        ['xcp-host1', 'master', 'stopped', false, 'off', h1.uuid], // still believes it is master (pool.conf untouched)
        ['xcp-host2', 'master', 'running', false, 'on', h2.uuid],
        ['xcp-host3', `slave:${h2.address}`, 'running', false, 'on', h2.uuid],
        ['xcp-host4', `slave:${h2.address}`, 'running', false, 'on', h2.uuid],
      ],
    );
    // the new master sees the old one as not live; its VMs are still marked Running (D.2)
    const live = await ssh(lab, 3, `xe host-param-get uuid=${h1.uuid} param-name=host-metrics-live; xe vm-list resident-on=${h1.uuid} is-control-domain=false params=power-state --minimal`);
    assert.equal(live.stdout, 'false\nrunning,running\n');

    // the old master comes back and can reach the new master → it demotes itself (D.3)
    await lab.heal(1);
    await waitFor(async () => (await ssh(lab, 1, 'cat /etc/xensource/pool.conf; echo; xe pool-list params=master --minimal', { timeoutMs: 3000 })).stdout === `slave:${h2.address}\n${h2.uuid}\n`, 15000, 'old master demoted');
    assert.equal(lab.sim.host(1).emergency, false);
  } finally {
    await lab.stop();
  }
}

describe('lab runbook over real ssh (dead master)', () => {
  it('docs model: emergency check, transition, recover-slaves, pool-param-list', async () => {
    await runbook('docs', '8.2');
  });
  it('code model: emergency check prints false, the transition works anyway', async () => {
    await runbook('code', '8.3');
  });
});
