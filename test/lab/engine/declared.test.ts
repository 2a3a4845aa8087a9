// A pool declared in settings without UUIDs, its master already dead: the survivors' identities are learnt from
// their first probe (instead of failing the identity check on every probe), and the recovery can be planned
// (issue 12, finding 6).
import { strict as assert } from 'node:assert';
import { PoolMonitor } from '../../../src/core/pool/monitor';
import { planRecovery } from '../../../src/core/pool/plan';
import { learntFrom, parseDeclaredPools, withLearnt, type LearntFacts } from '../../../src/declaredPools';
import { Lab } from '../lab';
import { address, engineFor, waitUntilSettled, type Engine } from './harness';

describe('engine: a pool declared without UUIDs (issue 12, finding 6)', function () {
  this.timeout(60_000);
  let lab: Lab;
  let engine: Engine;

  before(async () => {
    lab = await Lab.start({ name: 'eng-declared', baseAddress: '127.77.152', hosts: 3, model: 'code', timeScale: 0.02 });
    engine = engineFor(lab, { settings: { connectTimeoutMs: 1_500 } });
  });
  after(async () => {
    engine?.dispose();
    await lab?.stop();
  });

  it('learns each member\'s UUID from its first probe; the dead master keeps its stand-in; recovery can be planned', async () => {
    await lab.fault('poweroff', 1);
    const declared = parseDeclaredPools([{ name: 'pool-lab', master: address(lab, 1), members: [1, 2, 3].map((n) => ({ address: address(lab, n), name: `xcp-host${n}` })) }]);
    assert.deepEqual(declared.problems, []);
    const stored = declared.pools[0];
    assert.ok(stored);
    const monitor = new PoolMonitor(engine.runner, stored.inventory, () => ({ commandTimeoutMs: 3_000 }));
    await monitor.refresh();
    const byName = (name: string) => monitor.allStatuses().find((s) => s.member.name === name);
    for (const n of [2, 3]) {
      const status = byName(`xcp-host${n}`);
      assert.equal(status?.health.kind, 'probed', JSON.stringify(status?.health));
      assert.equal(status?.member.uuid, lab.hosts[n - 1]?.info.uuid);
      assert.equal(status?.member.provisionalUuid, undefined);
      assert.equal(monitor.lastProbedStatus(lab.hosts[n - 1]?.info.uuid ?? '')?.health.kind, 'probed', 'the last good probe is kept under the learnt UUID');
    }
    assert.equal(byName('xcp-host1')?.member.provisionalUuid, true);
    assert.deepEqual(monitor.inventory.members.map((m) => m.uuid).slice(1), [lab.hosts[1]?.info.uuid, lab.hosts[2]?.info.uuid]);
    // A second probe checks the learnt identity like any other.
    await monitor.refresh();
    assert.equal(byName('xcp-host2')?.health.kind, 'probed');
    assert.equal(monitor.verdict?.kind, 'master-unreachable');
    const plan = planRecovery(monitor.inventory, monitor.verdict ?? { kind: 'unknown', evidence: [] }, monitor.allStatuses());
    assert.ok(plan.candidate, plan.refusals.map((r) => r.reason).join('; '));
    assert.equal(plan.refusals.filter((r) => !r.forceable).length, 0, plan.refusals.map((r) => r.reason).join('; '));
    // HA was never read (no master answered): the plan disarms it on each survivor first, harmless where it is off.
    assert.equal(monitor.inventory.haUnknown, true);
    assert.match(monitor.verdict?.evidence.join('\n') ?? '', /HA state unknown/);
    assert.deepEqual(plan.steps.filter((step) => step.kind === 'disable-ha').map((step) => step.host.name), ['xcp-host2', 'xcp-host3']);
    await lab.heal(1);
  });

  it('learns HA from the master once one answers, and tells its listener what it learnt, to be kept across restarts (issue 12, finding 6)', async () => {
    await waitUntilSettled(lab);
    lab.sim.host(1).db.pool.haEnabled = true; // as after xe pool-ha-enable (the lab has no HA daemon to arm here)
    const declared = parseDeclaredPools([{ name: 'pool-lab', members: [1, 2, 3].map((n) => ({ address: address(lab, n) })) }]).pools[0];
    assert.ok(declared);
    const monitor = new PoolMonitor(engine.runner, declared.inventory, () => ({ commandTimeoutMs: 3_000 }));
    const learnt: LearntFacts[] = [];
    monitor.onDidLearn((inventory) => learnt.push(learntFrom(inventory)));
    await monitor.refresh();
    lab.sim.host(1).db.pool.haEnabled = false;
    assert.equal(monitor.inventory.haUnknown, undefined);
    assert.equal(monitor.inventory.haEnabled, true);
    const last = learnt.at(-1);
    assert.deepEqual(last, { members: Object.fromEntries([1, 2, 3].map((n) => [address(lab, n), lab.hosts[n - 1]?.info.uuid])), haEnabled: true });
    // What a restart starts from: the same declaration with what was learnt.
    const restarted = withLearnt(declared.inventory, last);
    assert.deepEqual(restarted.members.map((m) => [m.uuid, m.provisionalUuid]), [1, 2, 3].map((n) => [lab.hosts[n - 1]?.info.uuid, undefined]));
    assert.equal(restarted.haEnabled, true);
    assert.equal(restarted.haUnknown, undefined);
  });
});
