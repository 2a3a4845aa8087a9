/* Unit-level tests of the simulator core: commands, layouts and state transitions without sshd. */
import assert from 'node:assert/strict';
import { formatRecord, minimalJoin } from './printer';
import { Simulator } from './sim';
import { SIM_SCALE as SCALE, simXe as xe, startSim as mk } from './simHarness';
import { renderError, xapiError, XAPI_VERSIONS } from './texts';
import { capture, FIXTURE_DIR } from './fixtures';
import * as fs from 'node:fs';
import * as path from 'node:path';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timeout waiting for condition');
    await sleep(10);
  }
}

/** Runs a call that must hang; returns a function that settles it (abort) and the promise. */
function hanging(sim: Simulator, host: number, ...argv: string[]): { done: () => boolean; abort: () => void; p: Promise<unknown> } {
  const ac = new AbortController();
  let settled = false;
  const p = sim.exec(host, argv, { signal: ac.signal }).then((r) => {
    settled = true;
    return r;
  });
  return { done: () => settled, abort: () => ac.abort(), p };
}

describe('lab printer (B.1)', () => {
  it('lays out a record exactly like the B.4 pool-list example', () => {
    const out = formatRecord([
      { name: 'uuid', marker: ' RO', value: '3b8f7a3e-5c1d-4e2a-9f6b-1a2b3c4d5e6f' },
      { name: 'name-label', marker: ' RW', value: 'pool-prod' },
      { name: 'name-description', marker: ' RW', value: '' },
      { name: 'master', marker: ' RO', value: '0a1b2c3d-1111-4aaa-8bbb-000000000001' },
      { name: 'default-SR', marker: ' RW', value: '6c9e2f10-7d3a-2b4c-5e6f-a1b2c3d4e5f6' },
    ]);
    assert.equal(
      out,
      'uuid ( RO)                : 3b8f7a3e-5c1d-4e2a-9f6b-1a2b3c4d5e6f\n' +
        '          name-label ( RW): pool-prod\n' +
        '    name-description ( RW): \n' +
        '              master ( RO): 0a1b2c3d-1111-4aaa-8bbb-000000000001\n' +
        '          default-SR ( RW): 6c9e2f10-7d3a-2b4c-5e6f-a1b2c3d4e5f6\n\n\n',
    );
  });
  it('escapes --minimal values and prints an empty line for no result', () => {
    assert.equal(minimalJoin(['a,b', 'c\\d']), 'a\\,b,c\\\\d\n');
    assert.equal(minimalJoin([]), '\n');
  });
  it('renders errors per version (A.9, C.3)', () => {
    assert.equal(
      renderError(xapiError('HOST_IS_SLAVE', '192.168.10.11'), '8.3'),
      'You cannot make regular API calls directly on a supporter. Please pass API calls via the coordinator host.\nMaster IP address: 192.168.10.11\n',
    );
    assert.match(renderError(xapiError('HOST_IS_SLAVE', 'x'), '8.2'), /^You cannot make regular API calls directly on a pool member\. Please pass API calls via the master host\.\n/);
    assert.match(renderError(xapiError('HOST_IS_SLAVE', 'x'), 'pre-2021'), /directly on a slave\. Please pass/);
    assert.equal(renderError(xapiError('UUID_INVALID', 'SR', '1234'), '8.3'), 'The uuid you supplied was invalid.\ntype: SR\nuuid: 1234\n');
  });
});

describe('lab simulator: commands', () => {
  let sim: Simulator;
  afterEach(() => sim.stop());

  it('pool-list / host-list / sr-list layouts and --minimal', async () => {
    sim = mk();
    const h1 = sim.host(1);
    const r = await xe(sim, 2, 'pool-list');
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    const db = h1.db;
    assert.equal(
      r.stdout,
      `uuid ( RO)                : ${db.pool.uuid}\n          name-label ( RW): pool-lab\n    name-description ( RW): \n              master ( RO): ${h1.uuid}\n          default-SR ( RW): ${db.pool.defaultSR}\n\n\n`,
    );
    const hl = await xe(sim, 1, 'host-list', 'params=uuid,name-label,address');
    assert.equal(
      hl.stdout.split('\n\n\n')[0],
      `uuid ( RO)          : ${h1.uuid}\n    name-label ( RW): xcp-host1\n       address ( RO): 192.168.10.11`,
    );
    assert.equal((await xe(sim, 1, 'host-list', 'params=address', '--minimal')).stdout, '192.168.10.11,192.168.10.12,192.168.10.13\n');
    assert.equal((await xe(sim, 1, 'host-list', 'name-label=nope')).stdout, '');
    assert.equal((await xe(sim, 1, 'host-list', 'name-label=nope', '--minimal')).stdout, '\n');
    assert.deepEqual(await xe(sim, 1, 'host-list', 'bogus=1'), { stdout: '', stderr: "Error: Unknown field 'bogus'\n", code: 1 });
    const sr = await xe(sim, 1, 'sr-list');
    assert.match(sr.stdout, /^uuid \( RO\)                : .*\n          name-label \( RW\): NFS storage\n    name-description \( RW\): NFS SR \[192\.168\.10\.5:\/export\/xcp\]\n                host \( RO\): <shared>\n                type \( RO\): nfs\n        content-type \( RO\): user\n\n\n/);
    assert.match(sr.stdout, /                host \( RO\): xcp-host1\n                type \( RO\): ext\n/);
  });

  it('pool-param-list has the B.4 field set (8.2) and the longest key sets the width', async () => {
    sim = mk({ version: '8.2' });
    const r = await xe(sim, 1, 'pool-param-list', `uuid=${sim.host(1).db.pool.uuid}`);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], `uuid ( RO)                            : ${sim.host(1).db.pool.uuid}`);
    assert.equal(lines[8], '                    other-config (MRW): memory-ratio-hvm: 0.25; memory-ratio-pv: 0.25; auto_poweron: false');
    assert.equal(lines[14], '    ha-host-failures-to-tolerate ( RW): 0');
    assert.equal(lines[lines.length - 4], '                      https-only ( RW): false');
    assert.ok(r.stdout.endsWith('false\n\n\n'));
    assert.equal(lines.length - 3, 35); // 35 fields in B.4
  });

  it('param-get, param-set, errors', async () => {
    sim = mk();
    const pool = sim.host(1).db.pool.uuid;
    const local1 = sim.host(1).db.srs[1]?.uuid ?? '';
    assert.equal((await xe(sim, 1, 'pool-param-get', `uuid=${pool}`, 'param-name=default-SR')).stdout, `${sim.host(1).db.pool.defaultSR}\n`);
    assert.deepEqual(await xe(sim, 1, 'pool-param-set', `uuid=${pool}`, 'default-SR='), { stdout: '', stderr: '', code: 0 });
    assert.equal((await xe(sim, 1, 'pool-param-get', `uuid=${pool}`, 'param-name=default-SR')).stdout, '<not in database>\n');
    assert.equal((await xe(sim, 2, 'pool-param-set', `uuid=${pool}`, `default-SR=${local1}`)).code, 0);
    assert.equal((await xe(sim, 3, 'pool-param-get', `uuid=${pool}`, 'param-name=default-SR')).stdout, `${local1}\n`);
    assert.deepEqual(await xe(sim, 1, 'pool-param-set', `uuid=${pool}`, 'default-SR=1234'), { stdout: '', stderr: 'The uuid you supplied was invalid.\ntype: SR\nuuid: 1234\n', code: 1 });
    assert.deepEqual(await xe(sim, 1, 'pool-param-set', `uuid=${pool}`, 'master=x'), { stdout: '', stderr: "Error: Field 'master' is read-only.\n", code: 1 });
    assert.deepEqual(await xe(sim, 1, 'pool-param-set', 'default-SR='), { stdout: '', stderr: "Required parameter not found: uuid\nFor usage run: 'xe help'\n", code: 1 });
    assert.deepEqual(await xe(sim, 1, 'pool-param-list', 'uuid=1234'), { stdout: '', stderr: 'The uuid you supplied was invalid.\ntype: pool\nuuid: 1234\n', code: 1 });
    assert.deepEqual(await xe(sim, 1, 'frobnicate'), { stdout: '', stderr: "Unknown command: frobnicate\nFor usage run: 'xe help'\n", code: 1 });
    assert.equal((await xe(sim, 1)).code, 0);
    assert.equal((await xe(sim, 1, 'pool-param-get', `uuid=${pool}`, 'param-name=other-config', 'param-key=auto_poweron')).stdout, 'false\n');
  });

  it('host-is-in-emergency-mode and the already-master message', async () => {
    sim = mk();
    assert.deepEqual(await xe(sim, 2, 'host-is-in-emergency-mode'), { stdout: 'false\n', stderr: '', code: 0 });
    assert.deepEqual(await xe(sim, 2, 'host-is-in-emergency-mode', '--minimal'), { stdout: '\n', stderr: '', code: 0 });
    assert.deepEqual(await xe(sim, 1, 'pool-emergency-transition-to-master'), {
      stdout: "Host agent is already master. Use '--force' to execute the operation anyway.\n",
      stderr: '',
      code: 0,
    });
  });

  it('remote login to a slave gives HOST_IS_SLAVE at once; wrong password fails', async () => {
    sim = mk();
    assert.deepEqual(await xe(sim, 1, '-s', '192.168.10.12', '-u', 'root', '-pw', 'pw', 'host-list'), {
      stdout: '',
      stderr: 'You cannot make regular API calls directly on a supporter. Please pass API calls via the coordinator host.\nMaster IP address: 192.168.10.11\n',
      code: 1,
    });
    assert.equal((await xe(sim, 2, '-s', '192.168.10.11', '-u', 'root', '-pw', 'bad', 'host-list')).stderr, "Authentication failed\nFor usage run: 'xe help'\n");
    assert.equal((await xe(sim, 2, '-s', '192.168.10.11', '-u', 'root', '-pw', 'pw', 'pool-list', 'params=name-label', '--minimal')).stdout, 'pool-lab\n');
  });
});

describe('lab simulator: master loss (C, D)', () => {
  let sim: Simulator;
  afterEach(() => sim.stop());

  it('code model: forwarded calls hang, local ones work, toolstack restart → emergency error', async () => {
    sim = mk({ model: 'code' });
    sim.powerOff(sim.host(1));
    const hang = hanging(sim, 2, 'pool-list');
    await sleep(1000); // > docs delay (600 ms) — code model never enters emergency on its own
    assert.equal(hang.done(), false);
    assert.equal((await xe(sim, 2, 'host-is-in-emergency-mode')).stdout, 'false\n');
    assert.equal((await xe(sim, 3, 'xe-toolstack-restart').catch(() => null))?.code, 1); // not an xe command
    const tsr = await sim.exec(3, [], { program: 'xe-toolstack-restart' });
    assert.deepEqual(tsr, { stdout: 'Executing xe-toolstack-restart\ndone.\n', stderr: '', code: 0 });
    await waitFor(() => sim.runsAsConfigured(sim.host(3)));
    assert.equal((await xe(sim, 3, 'host-is-in-emergency-mode')).stdout, 'true\n');
    const err = await xe(sim, 3, 'pool-list');
    assert.deepEqual(err, {
      stdout: '',
      stderr:
        'The server failed to handle your request, due to an internal error. The given message may give details useful for debugging the problem.\nmessage: INTERNAL_ERROR: [ Stunnel.Stunnel_connection_failed ]\n',
      code: 1,
    });
    hang.abort();
    assert.equal(await hang.p, null);
    assert.equal(sim.pendingCount(), 0);
  });

  it('docs model: slaves enter emergency mode N s after losing the master; the hanging call then fails', async () => {
    sim = mk({ model: 'docs' });
    sim.powerOff(sim.host(1));
    const hang = hanging(sim, 2, 'host-list');
    await sleep(200);
    assert.equal(hang.done(), false);
    await waitFor(() => sim.host(2).emergency && sim.host(3).emergency);
    const r = (await hang.p) as { stderr: string; code: number };
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^The server failed to handle your request/);
    assert.equal((await xe(sim, 2, 'host-is-in-emergency-mode')).stdout, 'true\n');
  });

  it('runbook: transition, recover-slaves, pool-param-list; the old master demotes itself on return', async () => {
    sim = mk({ model: 'docs' });
    const [h1, h2, h3] = [sim.host(1), sim.host(2), sim.host(3)];
    sim.powerOff(h1);
    await waitFor(() => h2.emergency && h3.emergency);
    assert.deepEqual(await xe(sim, 2, 'pool-emergency-transition-to-master'), {
      stdout: 'Host agent will restart and transition to master in 10. seconds...\n',
      stderr: '',
      code: 0,
    });
    assert.equal(sim.poolConfOf(h2), 'master');
    // For its fuse xapi still serves as the emergency slave it was (xapi_fuse.ml): its stored error, not yet a refusal.
    assert.match((await xe(sim, 2, 'pool-list')).stderr, /Stunnel_connection_failed/);
    await waitFor(() => sim.runsAsConfigured(h2));
    const rec = await xe(sim, 2, 'pool-recover-slaves');
    assert.deepEqual(rec, { stdout: `${h3.uuid}\n`, stderr: '', code: 0 }); // h1 unreachable: skipped silently
    assert.equal(sim.poolConfOf(h3), `slave:${h2.address}`);
    await waitFor(() => sim.runsAsConfigured(h3));
    assert.equal(h3.emergency, false);
    const pl = await xe(sim, 3, 'pool-param-list', `uuid=${h2.db.pool.uuid}`);
    assert.match(pl.stdout, new RegExp(`master \\( RO\\): ${h2.uuid}\n`));
    // old master comes back, can reach the new master → demotes itself
    sim.powerOn(h1);
    await waitFor(() => sim.poolConfOf(h1) === `slave:${h2.address}` && sim.runsAsConfigured(h1) && !h1.emergency);
    assert.equal((await xe(sim, 1, 'pool-list', 'params=master', '--minimal')).stdout, `${h2.uuid}\n`);
  });

  it('check_no_other_masters runs late: pool-list names the new master first; it demotes itself only after asking (issue 11, row 10)', async () => {
    sim = mk({ durations: { masterCheckDelay: 30 } });
    const [h1, h3] = [sim.host(1), sim.host(3)];
    await xe(sim, 3, 'pool-emergency-transition-to-master'); // while the master h1 runs and is reachable
    await waitFor(() => sim.runsAsConfigured(h3) && h3.role === 'master');
    // the window: the new master answers as master before it has looked for another one
    assert.equal((await xe(sim, 3, 'pool-list', 'params=master', '--minimal')).stdout, `${h3.uuid}\n`);
    await waitFor(() => sim.poolConfOf(h3) === `slave:${h1.address}`);
  });

  it('check_no_other_masters asks one host after another and skips the unreachable ones, each after a connect attempt', async () => {
    sim = mk({ durations: { masterCheckDelay: 5, connectAttempt: 50 } });
    const [h1, h2, h3] = [sim.host(1), sim.host(2), sim.host(3)];
    sim.setPartition(h3, h1, true);
    await xe(sim, 3, 'pool-emergency-transition-to-master');
    await waitFor(() => sim.runsAsConfigured(h3) && h3.role === 'master');
    const started = Date.now();
    await waitFor(() => h3.masterCheck === null);
    // h1 (first in the DB) cannot be reached: skipped after a connect attempt; h2 is a slave: h3 stays master
    assert.ok(Date.now() - started >= 50 * SCALE * 1000 - 20, `the check took ${Date.now() - started} ms`);
    assert.deepEqual([sim.poolConfOf(h1), sim.poolConfOf(h3), sim.poolConfOf(h2)], ['master', 'master', `slave:${h1.address}`]);
  });

  it('returning old master that cannot reach the new master stays master (split-brain)', async () => {
    sim = mk();
    const [h1, h2, h3] = [sim.host(1), sim.host(2), sim.host(3)];
    sim.powerOff(h1);
    await xe(sim, 2, 'pool-emergency-transition-to-master');
    await waitFor(() => sim.runsAsConfigured(h2));
    await xe(sim, 2, 'pool-recover-slaves');
    await waitFor(() => sim.runsAsConfigured(h3) && !h3.emergency);
    sim.setPartition(h1, h2, true);
    sim.powerOn(h1);
    await waitFor(() => sim.runsAsConfigured(h1));
    await sleep(100);
    assert.equal(sim.poolConfOf(h1), 'master');
    assert.equal(sim.poolConfOf(h2), 'master');
  });

  it('slaves keep possibly stale DB copies; an emergency master starts from its own copy (D.1)', async () => {
    sim = mk({ durations: { dbSync: 100000 } });
    const [h1, h2, h3] = [sim.host(1), sim.host(2), sim.host(3)];
    const pool = h1.db.pool.uuid;
    const oldDefault = h1.db.pool.defaultSR;
    const local1 = h1.db.srs.find((s) => !s.shared)?.uuid ?? '';
    await xe(sim, 1, 'pool-param-set', `uuid=${pool}`, `default-SR=${local1}`);
    assert.equal(h2.db.pool.defaultSR, oldDefault); // not pushed yet
    await xe(sim, 3, 'pool-sync-database'); // forwarded: the master pushes to every live slave
    assert.equal(h3.db.pool.defaultSR, local1);
    assert.equal(h2.db.pool.defaultSR, local1);
    await xe(sim, 1, 'pool-param-set', `uuid=${pool}`, `default-SR=${oldDefault}`);
    sim.powerOff(h1);
    await xe(sim, 2, 'pool-emergency-transition-to-master');
    await waitFor(() => sim.runsAsConfigured(h2));
    // the new master's DB is its stale copy: default-SR still points at the dead master's local SR
    assert.equal((await xe(sim, 2, 'pool-param-get', `uuid=${pool}`, 'param-name=default-SR')).stdout, `${local1}\n`);
    assert.equal((await xe(sim, 2, 'sr-list', `uuid=${local1}`, 'params=host', '--minimal')).stdout, 'xcp-host1\n');
  });

  it('pool-emergency-reset-master prints the address as typed, even when a no-op', async () => {
    sim = mk();
    const r = await xe(sim, 3, 'pool-emergency-reset-master', 'master-address=192.168.10.11');
    assert.deepEqual(r, { stdout: 'Host agent will restart and become slave of 192.168.10.11 in 10. seconds...\n', stderr: '', code: 0 });
    assert.equal(sim.host(3).xapi, 'running'); // no-op: no restart
    assert.deepEqual(await xe(sim, 3, 'pool-emergency-reset-master'), { stdout: '', stderr: "Required parameter not found: master-address\nFor usage run: 'xe help'\n", code: 1 });
  });

  it('a forwarded call resumes when the master comes back', async () => {
    sim = mk();
    sim.setBlackhole(sim.host(1), true);
    const hang = hanging(sim, 2, 'pool-list', 'params=name-label', '--minimal');
    await sleep(150);
    assert.equal(hang.done(), false);
    sim.setBlackhole(sim.host(1), false);
    assert.deepEqual(await hang.p, { stdout: 'pool-lab\n', stderr: '', code: 0 });
  });

  it('pool-designate-new-master hands over cleanly', async () => {
    sim = mk();
    const h2 = sim.host(2);
    assert.deepEqual(await xe(sim, 3, 'pool-designate-new-master', `host-uuid=${h2.uuid}`), { stdout: '', stderr: '', code: 0 });
    await waitFor(() => sim.hosts.every((h) => sim.runsAsConfigured(h) && !h.emergency)); // slaves may be briefly in emergency until the new master is up
    assert.deepEqual(
      sim.hosts.map((h) => [sim.poolConfOf(h), h.emergency]),
      [[`slave:${h2.address}`, false], ['master', false], [`slave:${h2.address}`, false]],
    );
    assert.deepEqual(await xe(sim, 1, 'pool-designate-new-master', 'host-uuid=nope'), { stdout: '', stderr: 'The uuid you supplied was invalid.\ntype: host\nuuid: nope\n', code: 1 });
  });
});

describe('lab simulator: HA (D.5)', () => {
  let sim: Simulator;
  afterEach(() => sim.stop());

  it('elects a new master automatically; emergency commands refused until host-emergency-ha-disable --force', async () => {
    sim = mk({ ha: true });
    const ha = 'The operation could not be performed because HA is enabled on the Pool\n';
    assert.deepEqual(await xe(sim, 2, 'pool-emergency-transition-to-master'), { stdout: '', stderr: ha, code: 1 });
    assert.deepEqual(await xe(sim, 2, 'pool-emergency-reset-master', 'master-address=192.168.10.13'), { stdout: '', stderr: ha, code: 1 });
    assert.deepEqual(await xe(sim, 2, 'host-emergency-ha-disable'), {
      stdout: '',
      stderr: 'Error: This operation is dangerous and may cause data loss. This operation must be forced (use --force).\n',
      code: 1,
    });
    assert.deepEqual(await xe(sim, 2, 'host-emergency-ha-disable', '--force'), { stdout: '', stderr: '', code: 0 });
    assert.equal((await xe(sim, 2, 'pool-emergency-transition-to-master')).stdout, "Host agent will restart and transition to master in 10. seconds...\n".replace('x', 'x'));
    sim.stop();
    sim = mk({ ha: true });
    sim.powerOff(sim.host(1));
    await waitFor(() => sim.poolConfOf(sim.host(2)) === 'master' && sim.runsAsConfigured(sim.host(2)) && sim.runsAsConfigured(sim.host(3)));
    await sleep(50);
    assert.equal(sim.poolConfOf(sim.host(3)), `slave:${sim.host(2).address}`);
    assert.equal(sim.host(3).emergency, false);
  });

  it('host-emergency-ha-disable --force on a host whose HA is not armed fails with HA_NOT_ENABLED (issue 11, finding 8)', async () => {
    // xapi_ha.ml emergency_ha_disable: raises HA_NOT_ENABLED when the local database says ha_armed=false.
    sim = mk({ ha: false });
    const notEnabled = { stdout: '', stderr: 'The operation could not be performed because HA is not enabled on the Pool\n', code: 1 };
    assert.deepEqual(await xe(sim, 2, 'host-emergency-ha-disable', '--force'), notEnabled);
    sim.stop();
    sim = mk({ ha: true });
    assert.deepEqual(await xe(sim, 2, 'host-emergency-ha-disable', '--force'), { stdout: '', stderr: '', code: 0 });
    assert.deepEqual(await xe(sim, 2, 'host-emergency-ha-disable', '--force'), notEnabled, 'a second run finds HA disarmed already');
  });
});

describe('lab simulator: as strict as xapi (issue 11, row 13)', () => {
  let sim: Simulator;
  afterEach(() => sim?.stop());

  it('pool-designate-new-master fails with HOST_OFFLINE while any member is dead', async () => {
    sim = mk();
    sim.powerOff(sim.host(3));
    const r = await xe(sim, 1, 'pool-designate-new-master', `host-uuid=${sim.host(2).uuid}`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`HOST_OFFLINE|${sim.host(3).uuid}`));
    assert.equal(sim.poolConfOf(sim.host(1)), 'master');
  });

  it('xe takes --x as x=true and force=true as --force', async () => {
    sim = mk();
    assert.equal((await xe(sim, 1, 'pool-emergency-transition-to-master')).stdout, "Host agent is already master. Use '--force' to execute the operation anyway.\n");
    assert.match((await xe(sim, 1, 'pool-emergency-transition-to-master', 'force=true')).stdout, /^Host agent will restart and transition to master/);
    assert.equal((await xe(sim, 2, 'pool-list', 'params=master', 'minimal=true')).stdout, `${sim.host(1).uuid}\n`);
  });

  it('pool-recover-slaves spends a connect attempt on each unreachable member before it answers', async () => {
    sim = mk({ addresses: ['192.168.10.11', '192.168.10.12', '192.168.10.13', '192.168.10.14'], durations: { connectAttempt: 20 } });
    sim.powerOff(sim.host(1));
    sim.powerOff(sim.host(4));
    await xe(sim, 2, 'pool-emergency-transition-to-master');
    await waitFor(() => sim.runsAsConfigured(sim.host(2)) && sim.host(2).role === 'master');
    const started = Date.now();
    const r = await xe(sim, 2, 'pool-recover-slaves');
    assert.equal(r.stdout, `${sim.host(3).uuid}\n`);
    assert.ok(Date.now() - started >= 2 * 20 * SCALE * 1000 - 20, `answered after ${Date.now() - started} ms`);
  });

  it('HA state resync: a disarmed master turns the pool\'s HA off; a disarmed slave may not join a pool whose HA is on', async () => {
    sim = mk({ ha: true, durations: { haTimeout: 100000 } });
    const [h1, h2, h3] = [sim.host(1), sim.host(2), sim.host(3)];
    // h3 disarmed while the master still has HA on: after a restart it cannot join
    await xe(sim, 3, 'host-emergency-ha-disable', '--force');
    await xe(sim, 3, 'pool-emergency-reset-master', `master-address=${h1.address}`).catch(() => undefined);
    sim.restartXapi(h3, 1, 'test');
    await waitFor(() => h3.xapi === 'running' && h3.emergency);
    assert.equal(h3.emergencyError?.code, 'HA_POOL_IS_ENABLED_BUT_HOST_IS_DISABLED');
    // the master dies; h2 is disarmed and promoted: its start-up turns the pool's HA off
    sim.powerOff(h1);
    await xe(sim, 2, 'host-emergency-ha-disable', '--force');
    await xe(sim, 2, 'pool-emergency-transition-to-master');
    await waitFor(() => sim.runsAsConfigured(h2) && h2.role === 'master');
    assert.equal(h2.db.pool.haEnabled, false);
  });
});

describe('lab fixtures for the parser tests', () => {
  for (const v of XAPI_VERSIONS) {
    it(`test/fixtures/lab/xe-${v}.json is up to date (regenerate: node out/test/lab/fixtures.js)`, async () => {
      const want = JSON.stringify(await capture(v), null, 2) + '\n';
      assert.equal(fs.readFileSync(path.join(FIXTURE_DIR, `xe-${v}.json`), 'utf8'), want);
    });
  }
});
