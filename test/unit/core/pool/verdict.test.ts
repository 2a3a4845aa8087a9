import { strict as assert } from 'node:assert';
import type { HostStatus, PoolInventory, PoolMember } from '../../../../src/core/pool/model';
import type { HostProbeFacts } from '../../../../src/core/pool/probe';
import { judgePool } from '../../../../src/core/pool/verdict';

const members: PoolMember[] = [1, 2, 3].map((n) => ({ uuid: `0a1b2c3d-000${n}-4aaa-8bbb-00000000000${n}`, name: `xcp-host${n}`, address: `127.77.0.${n}` }));
const [m1, m2, m3] = members as [PoolMember, PoolMember, PoolMember];
const inventory: PoolInventory = { poolUuid: 'p', poolName: 'pool', members, masterUuid: m1.uuid, defaultSrUuid: undefined, haEnabled: false, discoveredAt: '', discoveredFrom: m1.address };

const master: HostProbeFacts = { role: { role: 'master' }, xapi: 'running', emergency: false, masterPortOpen: undefined };
const slave = (over: Partial<HostProbeFacts> = {}): HostProbeFacts => ({ role: { role: 'slave', masterAddress: m1.address }, xapi: 'running', emergency: false, masterPortOpen: true, ...over });
const probed = (member: PoolMember, facts: HostProbeFacts): HostStatus => ({ member, health: { kind: 'probed', facts } });
const dead = (member: PoolMember): HostStatus => ({ member, health: { kind: 'unreachable', failure: 'timeout', message: 'no SSH answer within 5 s' } });

describe('pool verdict', () => {
  it('healthy: master answers, slaves reach it, nobody in emergency mode', () => {
    const verdict = judgePool(inventory, [probed(m1, master), probed(m2, slave()), probed(m3, slave())]);
    assert.equal(verdict.kind, 'healthy');
    assert.equal(verdict.evidence.length, 3);
  });

  it('master unreachable: dead master, slaves still in normal mode (code model before any restart)', () => {
    const verdict = judgePool(inventory, [dead(m1), probed(m2, slave({ masterPortOpen: false })), probed(m3, slave({ masterPortOpen: false }))]);
    assert.equal(verdict.kind, 'master-unreachable');
    assert.ok(verdict.kind === 'master-unreachable' && verdict.masterAddress === m1.address);
    assert.match(verdict.evidence.join('\n'), /xcp-host1 \(127\.77\.0\.1\): unreachable over SSH/);
  });

  it('emergency, docs model: every answering slave is in emergency mode', () => {
    const verdict = judgePool(inventory, [dead(m1), probed(m2, slave({ emergency: true, masterPortOpen: false })), probed(m3, slave({ emergency: true, masterPortOpen: false }))]);
    assert.deepEqual(verdict.kind === 'emergency' && verdict.model, 'docs');
  });

  it('emergency, code model: only the slave whose toolstack restarted is in emergency mode', () => {
    const verdict = judgePool(inventory, [dead(m1), probed(m2, slave({ emergency: true, masterPortOpen: false })), probed(m3, slave({ masterPortOpen: false }))]);
    assert.deepEqual(verdict.kind === 'emergency' && verdict.model, 'code');
  });

  it('recovered, stragglers pending: a new master runs, a member still points at the dead one (issue 11)', () => {
    const verdict = judgePool(inventory, [dead(m1), probed(m2, master), probed(m3, slave({ masterPortOpen: false }))]);
    assert.equal(verdict.kind, 'recovered');
    assert.ok(verdict.kind === 'recovered' && verdict.masterUuid === m2.uuid);
    assert.deepEqual(verdict.kind === 'recovered' && verdict.stragglerUuids, [m3.uuid]);
  });

  it('a demoted old master waiting in emergency mode, cut off from the master the others follow, is a straggler, not "master lost"', () => {
    const follower = slave({ role: { role: 'slave', masterAddress: m2.address } });
    const cutOff = slave({ role: { role: 'slave', masterAddress: m2.address }, emergency: true, masterPortOpen: false });
    const verdict = judgePool(inventory, [probed(m1, cutOff), probed(m2, master), probed(m3, follower)]);
    assert.equal(verdict.kind, 'recovered');
    assert.deepEqual(verdict.kind === 'recovered' && verdict.stragglerUuids, [m1.uuid]);
  });

  it('a master nobody follows any more (its only slave cut off in emergency mode) is not "recovered"', () => {
    const verdict = judgePool(inventory, [probed(m1, master), probed(m2, slave({ emergency: true, masterPortOpen: false }))]);
    assert.equal(verdict.kind, 'emergency');
  });

  it('a new master whose every slave follows it: no stragglers ("recovered"), the dead former master is a host down (issue 13)', () => {
    const follower = slave({ role: { role: 'slave', masterAddress: m2.address } });
    assert.equal(judgePool(inventory, [dead(m1), probed(m2, master), probed(m3, follower)]).kind, 'hosts-down');
    assert.equal(judgePool(inventory, [probed(m1, slave({ role: { role: 'slave', masterAddress: m2.address } })), probed(m2, master), probed(m3, follower)]).kind, 'healthy');
  });

  it('split-brain: two hosts claim to be master', () => {
    const verdict = judgePool(inventory, [probed(m1, master), probed(m2, master), probed(m3, slave())]);
    assert.equal(verdict.kind, 'split-brain');
    assert.deepEqual(verdict.kind === 'split-brain' && verdict.masterUuids, [m1.uuid, m2.uuid]);
  });

  it('HA: the master is gone but HA was enabled, so xapi elects a new one itself', () => {
    const verdict = judgePool({ ...inventory, haEnabled: true }, [dead(m1), probed(m2, slave({ masterPortOpen: false })), probed(m3, slave({ masterPortOpen: false }))]);
    assert.equal(verdict.kind, 'ha');
  });

  it('partition: the master answers us but the slaves cannot reach it', () => {
    const verdict = judgePool(inventory, [probed(m1, master), probed(m2, slave({ masterPortOpen: false })), probed(m3, slave())]);
    assert.equal(verdict.kind, 'master-unreachable');
  });

  it('master with xapi down counts as unreachable', () => {
    const verdict = judgePool(inventory, [probed(m1, { ...master, xapi: 'down', emergency: undefined }), probed(m2, slave({ masterPortOpen: false })), probed(m3, slave({ masterPortOpen: false }))]);
    assert.equal(verdict.kind, 'master-unreachable');
  });

  it('unknown: nobody answered', () => {
    assert.equal(judgePool(inventory, members.map(dead)).kind, 'unknown');
  });
});

describe('pool verdict: a running master is not all (issue 13, part 2)', () => {
  const newMaster = (over: Partial<HostProbeFacts> = {}): HostProbeFacts => ({ ...master, ...over });
  const followsM2 = (): HostProbeFacts => slave({ role: { role: 'slave', masterAddress: m2.address } });

  it('recovered, old master down: the new master runs, every other member follows it, the former master does not answer', () => {
    const verdict = judgePool(inventory, [dead(m1), probed(m2, newMaster()), probed(m3, followsM2())]);
    assert.equal(verdict.kind, 'hosts-down');
    assert.ok(verdict.kind === 'hosts-down');
    assert.equal(verdict.masterUuid, m2.uuid);
    assert.deepEqual(verdict.downUuids, [m1.uuid]);
    assert.equal(verdict.formerMasterUuid, m1.uuid);
  });

  it('a slave down under a running master is not "healthy" either', () => {
    const verdict = judgePool(inventory, [probed(m1, master), probed(m2, slave()), dead(m3)]);
    assert.ok(verdict.kind === 'hosts-down');
    assert.deepEqual(verdict.downUuids, [m3.uuid]);
    assert.equal(verdict.formerMasterUuid, undefined);
  });
});

describe('pool verdict: a master that refuses our login is not a dead master (issue 13, part 2)', () => {
  const refused = (member: PoolMember): HostStatus => ({ member, health: { kind: 'unreachable', failure: 'auth', message: 'root@127.77.0.1: authentication failed (password: rejected)' } });

  it('reads "unknown", never "master unreachable", while the slaves still reach it', () => {
    const verdict = judgePool(inventory, [refused(m1), probed(m2, slave()), probed(m3, slave())]);
    assert.equal(verdict.kind, 'unknown');
    assert.match(verdict.evidence[0] ?? '', /^the master xcp-host1 \(127\.77\.0\.1\) answers SSH but refuses our login/);
  });
});
