/*
 * The pool verdict for each fault the lab can inject: probe every member over real SSH, judge,
 * and check both the verdict and what the probe says about the faulty host.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { discoverPool } from '../../../src/core/pool/discovery';
import type { HostStatus, PoolInventory, PoolVerdict } from '../../../src/core/pool/model';
import { probeMembers } from '../../../src/core/pool/prober';
import { judgePool } from '../../../src/core/pool/verdict';
import { xe } from '../../../src/core/xe/command';
import { Lab } from '../lab';
import { address, engineFor, waitUntilSettled, withLabEngine, type Engine } from './harness';

const failureOf = (status: HostStatus) => (status.health.kind === 'unreachable' ? status.health.failure : undefined);
const factsOf = (status: HostStatus) => (status.health.kind === 'probed' ? status.health.facts : undefined);

describe('engine: the verdict for each lab fault', function () {
  this.timeout(60_000);
  let lab: Lab;
  let engine: Engine;
  let inventory: PoolInventory;

  before(async () => {
    lab = await Lab.start({ name: 'eng-verdict', baseAddress: '127.77.120', hosts: 4, model: 'code', timeScale: 0.02 });
    engine = engineFor(lab, { settings: { connectTimeoutMs: 1_500 } });
    inventory = await discoverPool(engine.runner, address(lab, 1));
  });
  after(async () => {
    engine?.dispose();
    await lab?.stop();
  });
  afterEach(async () => {
    for (const host of [1, 2, 3, 4]) await lab.heal(host);
    await waitUntilSettled(lab);
    engine.transport.dispose(); // fresh connections: a healed host has a new sshd
  });

  async function judge(): Promise<{ verdict: PoolVerdict; statuses: HostStatus[]; byHost: (n: number) => HostStatus }> {
    const statuses = await probeMembers(engine.runner, inventory.members, undefined, { commandTimeoutMs: 3_000 });
    const byHost = (n: number) => statuses.find((s) => s.member.address === address(lab, n)) as HostStatus;
    return { verdict: judgePool(inventory, statuses), statuses, byHost };
  }

  it('healthy pool', async () => {
    const { verdict } = await judge();
    assert.equal(verdict.kind, 'healthy', verdict.evidence.join('\n'));
  });

  it('an address that now answers as another host → that member is not trusted, and the message names both hosts', async () => {
    // Members 3 and 4 swap addresses, as after a re-addressing the inventory does not know about.
    const [m1, m2, m3, m4] = inventory.members;
    assert.ok(m1 && m2 && m3 && m4);
    const swapped = [m1, m2, { ...m3, address: m4.address }, { ...m4, address: m3.address }];
    const statuses = await probeMembers(engine.runner, swapped, undefined, { commandTimeoutMs: 3_000 });
    for (const [member, other] of [
      [m3, m4],
      [m4, m3],
    ] as const) {
      const health = statuses.find((s) => s.member.uuid === member.uuid)?.health;
      assert.equal(health?.kind, 'invalid');
      assert.match(health.kind === 'invalid' ? health.message : '', new RegExp(`answers as host ${other.uuid}, not as ${member.name} \\(${member.uuid}\\)`));
    }
    assert.equal(statuses.filter((s) => s.health.kind === 'probed').length, 2);
  });

  it('a member whose /etc/xensource-inventory has no INSTALLATION_UUID is not trusted: who answers cannot be checked (issue 12, finding 7)', async () => {
    const inventoryFile = path.join(lab.hostByArg(3).info.dir, 'xensource-inventory');
    const kept = readFileSync(inventoryFile, 'utf8');
    try {
      // Written in place: the file is bind-mounted over the host's /etc/xensource-inventory.
      writeFileSync(inventoryFile, '');
      const { byHost } = await judge();
      const health = byHost(3).health;
      assert.equal(health.kind, 'invalid', JSON.stringify(health));
      assert.match(health.kind === 'invalid' ? health.message : '', /cannot tell which host answers at .*: its \/etc\/xensource-inventory has no INSTALLATION_UUID/);
      assert.equal(byHost(2).health.kind, 'probed');
    } finally {
      writeFileSync(inventoryFile, kept);
    }
  });

  it('master powered off → master unreachable (connection refused)', async () => {
    await lab.fault('poweroff', 1);
    const { verdict, byHost } = await judge();
    assert.equal(verdict.kind, 'master-unreachable');
    assert.deepEqual(failureOf(byHost(1)), 'refused');
    assert.equal(factsOf(byHost(2))?.masterPortOpen, false);
  });

  it('master black-holed → master unreachable (connect timeout), the survivors answer in time', async () => {
    await lab.fault('blackhole', 1);
    const started = Date.now();
    const { verdict, byHost } = await judge();
    assert.equal(verdict.kind, 'master-unreachable');
    assert.deepEqual(failureOf(byHost(1)), 'timeout');
    assert.ok(Date.now() - started < 1_500 + 3_000, `${Date.now() - started} ms`);
    // A survivor's own check of the master's port 443 is bounded by 1 s inside the probe.
    assert.ok((byHost(2).durationMs ?? Infinity) < 1_000 + 1_000, `a survivor waited for the dead master (${byHost(2).durationMs} ms)`);
  });

  it('xapi down on the master → master unreachable, the host itself answers SSH', async () => {
    await lab.fault('xapi-down', 1);
    const { verdict, byHost } = await judge();
    assert.equal(verdict.kind, 'master-unreachable');
    assert.equal(factsOf(byHost(1))?.xapi, 'down');
  });

  it('slow slave → still healthy, the probe just takes longer', async () => {
    await lab.fault('slow', 2, '300');
    const { verdict, byHost } = await judge();
    assert.equal(verdict.kind, 'healthy');
    assert.ok((byHost(2).durationMs ?? 0) >= 300);
  });

  for (const fault of ['garbage', 'truncate'] as const) {
    it(`${fault} xe output on a slave → that host is "invalid", never a guessed state`, async () => {
      await lab.fault(fault, 3);
      const { byHost } = await judge();
      assert.equal(byHost(3).health.kind, 'invalid', JSON.stringify(byHost(3).health));
    });
  }

  it('changed host key on a slave → that host is refused (host-key), the others are judged', async () => {
    await lab.fault('hostkey', 4);
    const { verdict, byHost } = await judge();
    assert.deepEqual(failureOf(byHost(4)), 'host-key');
    // A host that cannot be checked is not healthy (issue 13): the master runs, that host is down for us.
    assert.equal(verdict.kind, 'hosts-down');
    assert.deepEqual(verdict.kind === 'hosts-down' && verdict.downUuids, [byHost(4).member.uuid]);
  });

  it('partition between the master and one slave → master unreachable for that slave', async () => {
    await lab.fault('partition', 1, '2');
    const { verdict, byHost } = await judge();
    assert.equal(verdict.kind, 'master-unreachable');
    assert.equal(factsOf(byHost(2))?.masterPortOpen, false);
    assert.equal(factsOf(byHost(3))?.masterPortOpen, true);
  });
});

describe('engine: verdicts that need their own pool', function () {
  this.timeout(60_000);

  it('HA enabled and the master lost → "ha": xapi elects a new master itself', async () => {
    await withLabEngine(
      { name: 'eng-ha', baseAddress: '127.77.121', hosts: 3, ha: true, timeScale: 0.02 },
      async (lab, engine) => {
        const inventory = await discoverPool(engine.runner, address(lab, 2));
        assert.equal(inventory.haEnabled, true);
        await lab.fault('poweroff', 1);
        const statuses = await probeMembers(engine.runner, inventory.members, undefined, { commandTimeoutMs: 3_000 });
        assert.equal(judgePool(inventory, statuses).kind, 'ha');
      },
      { settings: { connectTimeoutMs: 1_500 } },
    );
  });

  it('old master back but partitioned from the new master → split-brain', async () => {
    await withLabEngine(
      { name: 'eng-split', baseAddress: '127.77.122', hosts: 3, model: 'code', timeScale: 0.02 },
      async (lab, engine) => {
        const inventory = await discoverPool(engine.runner, address(lab, 2));
        await lab.fault('poweroff', 1);
        const run = engine.runner.xe(address(lab, 2));
        await run(xe.poolEmergencyTransitionToMaster());
        await waitUntilSettled(lab);
        await lab.fault('partition', 1, '2');
        await lab.fault('poweron', 1);
        await waitUntilSettled(lab);
        engine.transport.dispose();
        const statuses = await probeMembers(engine.runner, inventory.members, undefined, { commandTimeoutMs: 3_000 });
        assert.equal(judgePool(inventory, statuses).kind, 'split-brain', lab.statusTable());
      },
      { settings: { connectTimeoutMs: 1_500 } },
    );
  });

  it('old master back and able to reach the new master → it demotes itself, the pool is healthy again', async () => {
    await withLabEngine(
      { name: 'eng-back', baseAddress: '127.77.123', hosts: 3, model: 'code', timeScale: 0.02 },
      async (lab, engine) => {
        const inventory = await discoverPool(engine.runner, address(lab, 2));
        await lab.fault('poweroff', 1);
        await engine.runner.xe(address(lab, 2))(xe.poolEmergencyTransitionToMaster());
        await waitUntilSettled(lab);
        await engine.runner.xe(address(lab, 2))(xe.poolRecoverSlaves());
        await lab.fault('poweron', 1);
        await waitUntilSettled(lab);
        engine.transport.dispose();
        const statuses = await probeMembers(engine.runner, inventory.members, undefined, { commandTimeoutMs: 3_000 });
        const verdict = judgePool(inventory, statuses);
        assert.equal(verdict.kind, 'healthy', `${lab.statusTable()}\n${verdict.evidence.join('\n')}`);
        assert.equal(verdict.kind === 'healthy' && verdict.masterUuid, lab.state().hosts[1]?.uuid);
      },
      { settings: { connectTimeoutMs: 1_500 } },
    );
  });
});
