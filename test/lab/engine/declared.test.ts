// A pool declared in settings without UUIDs, its master already dead: the survivors' identities are learnt from
// their first probe (instead of failing the identity check on every probe), and the recovery can be planned
// (issue 12, finding 6).
import { strict as assert } from 'node:assert';
import { PoolMonitor } from '../../../src/core/pool/monitor';
import { planRecovery } from '../../../src/core/pool/plan';
import { parseDeclaredPools } from '../../../src/declaredPools';
import { Lab } from '../lab';
import { address, engineFor, type Engine } from './harness';

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
  });
});
