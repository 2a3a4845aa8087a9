import { strict as assert } from 'node:assert';
import type { HostStatus, PoolInventory, PoolMember } from '../../../../src/core/pool/model';
import { planDemotion } from '../../../../src/core/pool/plan';
import type { HostProbeFacts } from '../../../../src/core/pool/probe';
import { judgePool } from '../../../../src/core/pool/verdict';

const members: PoolMember[] = [1, 2, 3, 4].map((n) => ({ uuid: `0a1b2c3d-000${n}-4aaa-8bbb-00000000000${n}`, name: `xcp-host${n}`, address: `127.77.0.${n}` }));
const [m1, m2, m3, m4] = members as [PoolMember, PoolMember, PoolMember, PoolMember];
const inventory: PoolInventory = { poolUuid: 'p', poolName: 'pool', members, masterUuid: m1.uuid, defaultSrUuid: undefined, haEnabled: false, discoveredAt: '', discoveredFrom: m1.address };
const master: HostProbeFacts = { role: { role: 'master' }, xapi: 'running', emergency: false, masterPortOpen: undefined };
const slaveOf = (m: PoolMember): HostProbeFacts => ({ role: { role: 'slave', masterAddress: m.address }, xapi: 'running', emergency: false, masterPortOpen: true });
const probed = (member: PoolMember, facts: HostProbeFacts): HostStatus => ({ member, health: { kind: 'probed', facts } });
const plan = (statuses: HostStatus[]) => planDemotion(inventory, judgePool(inventory, statuses), statuses);

describe('Demote Old Master: which master to keep', () => {
  it('keeps the master the other members follow and resets the other one to it', () => {
    const p = plan([probed(m1, master), probed(m2, master), probed(m3, slaveOf(m2)), probed(m4, slaveOf(m2))]);
    assert.deepEqual(p.refusals, []);
    assert.equal(p.candidate?.name, 'xcp-host2');
    assert.deepEqual(p.steps.map((s) => [s.kind, s.host.name]), [['reset-master', 'xcp-host1'], ['verify-slaves', 'xcp-host2']]);
    assert.match(p.candidateReasons.join('; '), /follow it \(2: xcp-host3, xcp-host4\); xcp-host1 is followed by 0 \(none\): its pool state is the older one/);
  });

  it('refuses a tie: which one holds the newer pool state cannot be told, and demoting the wrong one loses its database', () => {
    const p = plan([probed(m1, master), probed(m2, master), probed(m3, slaveOf(m1)), probed(m4, slaveOf(m2))]);
    assert.deepEqual(p.steps, []);
    assert.match(p.refusals.map((r) => r.reason).join(' '), /each followed by 1 host\(s\): which holds the newer pool state cannot be told/);
    assert.ok(p.refusals.every((r) => !r.forceable));
  });

  it('refuses when there is only one master', () => {
    const p = plan([probed(m1, master), probed(m2, slaveOf(m1)), probed(m3, slaveOf(m1)), probed(m4, slaveOf(m1))]);
    assert.match(p.refusals.map((r) => r.reason).join(' '), /no two running masters/);
  });
});
