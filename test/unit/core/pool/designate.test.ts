import { strict as assert } from 'node:assert';
import { designationRefusal, notFollowing } from '../../../../src/core/pool/designate';
import type { HostStatus, PoolInventory, PoolMember } from '../../../../src/core/pool/model';
import type { HostProbeFacts } from '../../../../src/core/pool/probe';

const members: PoolMember[] = [1, 2, 3].map((n) => ({ uuid: `0a1b2c3d-000${n}-4aaa-8bbb-00000000000${n}`, name: `xcp-host${n}`, address: `127.77.0.${n}` }));
const [m1, m2, m3] = members as [PoolMember, PoolMember, PoolMember];
const inventory: PoolInventory = { poolUuid: 'p', poolName: 'pool', members, masterUuid: m1.uuid, defaultSrUuid: undefined, haEnabled: false, discoveredAt: '', discoveredFrom: m1.address };
const master: HostProbeFacts = { role: { role: 'master' }, xapi: 'running', emergency: false, masterPortOpen: undefined };
const slaveOf = (m: PoolMember, over: Partial<HostProbeFacts> = {}): HostProbeFacts => ({ role: { role: 'slave', masterAddress: m.address }, xapi: 'running', emergency: false, masterPortOpen: true, ...over });
const probed = (member: PoolMember, facts: HostProbeFacts): HostStatus => ({ member, health: { kind: 'probed', facts } });
const dead = (member: PoolMember): HostStatus => ({ member, health: { kind: 'unreachable', failure: 'timeout', message: 'no answer' } });
const healthy = [probed(m1, master), probed(m2, slaveOf(m1)), probed(m3, slaveOf(m1))];

describe('Designate as New Master (issue 13, part 5)', () => {
  it('may start only with a running master, every member up and following it, and HA off', () => {
    assert.equal(designationRefusal(inventory, healthy, m2), undefined);
    assert.match(designationRefusal(inventory, healthy, m1) ?? '', /is the master already/);
    assert.match(designationRefusal(inventory, [probed(m1, master), probed(m2, slaveOf(m1)), dead(m3)], m2) ?? '', /xcp-host3 does not answer: every member must be up/);
    assert.match(designationRefusal({ ...inventory, haEnabled: true }, healthy, m2) ?? '', /HA is enabled/);
    assert.match(designationRefusal({ ...inventory, haUnknown: true }, healthy, m2) ?? '', /HA's state .* is not known/);
    assert.match(designationRefusal(inventory, [dead(m1), probed(m2, slaveOf(m1)), probed(m3, slaveOf(m1))], m2) ?? '', /no running master/);
    assert.match(designationRefusal(inventory, [probed(m1, master), probed(m2, slaveOf(m1)), probed(m3, slaveOf(m1, { emergency: true }))], m2) ?? '', /xcp-host3 is in emergency mode/);
    assert.match(designationRefusal(inventory, [probed(m1, master), probed(m2, master), probed(m3, slaveOf(m1))], m3) ?? '', /two masters/);
  });

  it('is complete only when the new master runs as master and every other host follows it', () => {
    assert.deepEqual(notFollowing(healthy, m2).map((m) => m.name), ['xcp-host1', 'xcp-host2', 'xcp-host3']);
    const midway = [probed(m1, slaveOf(m2)), probed(m2, master), probed(m3, slaveOf(m1))];
    assert.deepEqual(notFollowing(midway, m2).map((m) => m.name), ['xcp-host3']);
    assert.deepEqual(notFollowing([probed(m1, slaveOf(m2)), probed(m2, master), probed(m3, slaveOf(m2))], m2), []);
  });
});
