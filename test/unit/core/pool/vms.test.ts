import { strict as assert } from 'node:assert';
import type { HostStatus, PoolInventory, PoolMember } from '../../../../src/core/pool/model';
import type { HostProbeFacts } from '../../../../src/core/pool/probe';
import { needsAttention, startCandidates, vmFailureAdvice, type VmSnapshot, type VmFailureContext } from '../../../../src/core/pool/vms';
import { classifyXeFailure } from '../../../../src/core/xe/errors';
import type { GuestVm } from '../../../../src/core/xe/operations';

const GIB = 1024 ** 3;
const members: PoolMember[] = [1, 2, 3].map((n) => ({ uuid: `0a1b2c3d-000${n}-4aaa-8bbb-00000000000${n}`, name: `xcp-host${n}`, address: `127.77.0.${n}` }));
const [m1, m2, m3] = members as [PoolMember, PoolMember, PoolMember];
const inventory: PoolInventory = { poolUuid: 'p', poolName: 'pool', members, masterUuid: m1.uuid, defaultSrUuid: undefined, haEnabled: false, discoveredAt: '', discoveredFrom: m1.address };
const SHARED = '6c9e2f10-7d3a-2b4c-5e6f-a1b2c3d4e5f6';
const LOCAL1 = '6c9e2f10-7d3a-2b4c-5e6f-000000000001';

// After a recovery: host1 (old master) is dead, host2 is the new master, host3 follows it.
const newMaster: HostProbeFacts = { role: { role: 'master' }, xapi: 'running', emergency: false, masterPortOpen: undefined };
const follower: HostProbeFacts = { role: { role: 'slave', masterAddress: m2.address }, xapi: 'running', emergency: false, masterPortOpen: true };
const probed = (member: PoolMember, facts: HostProbeFacts): HostStatus => ({ member, health: { kind: 'probed', facts } });
const dead = (member: PoolMember): HostStatus => ({ member, health: { kind: 'unreachable', failure: 'timeout', message: 'no SSH answer within 5 s' } });
const refused = (member: PoolMember): HostStatus => ({ member, health: { kind: 'unreachable', failure: 'auth', message: 'login refused' } });
const statuses = [dead(m1), probed(m2, newMaster), probed(m3, follower)];

const vm = (name: string, over: Partial<GuestVm> = {}): GuestVm => ({
  uuid: `9f8e7d6c-5b4a-4c3d-8e2f-0000000000${name.slice(-2).replace('-', '0')}`,
  name,
  powerState: 'running',
  residentOn: m1.uuid,
  memoryBytes: 2 * GIB,
  memoryOverheadBytes: 16 * 1024 ** 2,
  diskSrUuids: [SHARED],
  ...over,
});

function snapshot(vms: GuestVm[], free: Record<string, number> = {}): VmSnapshot {
  return {
    vms,
    memory: new Map(members.map((m) => [m.uuid, { uuid: m.uuid, freeBytes: free[m.uuid] ?? 100 * GIB, live: m !== m1 }])),
    srNames: new Map(),
    readAt: '2026-12-03T17:00:00Z',
    fromUuid: m2.uuid,
  };
}

describe('VMs after a host loss (issue 13, part 3)', () => {
  it('needs attention: the VMs still marked running or paused on a host that is gone, never those of a host that refuses our login', () => {
    const vms = [vm('vm1-1'), vm('vm1-2', { powerState: 'paused' }), vm('vm1-3', { powerState: 'halted', residentOn: null }), vm('vm2-1', { residentOn: m2.uuid })];
    assert.deepEqual(needsAttention(snapshot(vms), inventory, statuses).map((v) => v.name), ['vm1-1', 'vm1-2']);
    assert.deepEqual(needsAttention(snapshot(vms), inventory, [refused(m1), probed(m2, newMaster), probed(m3, follower)]), []);
    // A host forgotten by the pool is gone too.
    const forgotten: PoolInventory = { ...inventory, members: [m2, m3] };
    assert.deepEqual(needsAttention(snapshot(vms), forgotten, statuses.slice(1)).map((v) => v.name), ['vm1-1', 'vm1-2']);
    assert.deepEqual(needsAttention(undefined, inventory, statuses), []);
  });

  it('start candidates: live followers of the running master that see the disks and have the memory, most free memory first', () => {
    const pbds = [
      ...members.map((m) => ({ uuid: `pbd-${m.name}`, hostUuid: m.uuid, srUuid: SHARED, attached: true })),
      { uuid: 'pbd-local1', hostUuid: m1.uuid, srUuid: LOCAL1, attached: true },
    ];
    const shared = vm('vm1-1');
    const small = snapshot([shared], { [m2.uuid]: 10 * GIB, [m3.uuid]: GIB });
    const candidates = startCandidates(shared, small, inventory, statuses, pbds, m2.address);
    assert.deepEqual(
      candidates.map((c) => [c.member.name, c.refusal]),
      [
        ['xcp-host2', undefined],
        ['xcp-host1', 'does not answer'],
        ['xcp-host3', 'needs 2.0 GiB, has 1.0 GiB free'],
      ],
    );
    const onLocal = vm('vm1-2', { diskSrUuids: [LOCAL1] });
    assert.ok(startCandidates(onLocal, snapshot([onLocal]), inventory, statuses, pbds, m2.address).every((c) => c.refusal !== undefined));
    // A host in emergency mode, or one following another master, is no candidate.
    const cutOff = probed(m3, { ...follower, emergency: true });
    assert.equal(startCandidates(shared, snapshot([shared]), inventory, [dead(m1), probed(m2, newMaster), cutOff], pbds, m2.address).find((c) => c.member === m3)?.refusal, 'not a live member of the running master');
  });

  it('says what to do about each refusal of a reset or a start, naming the dead host and the storage manager tool for a disk still attached', () => {
    const context: VmFailureContext = {
      vmName: 'vm1-1',
      hostName: 'xcp-host3',
      nameOfHost: (uuid) => members.find((m) => m.uuid === uuid)?.name ?? uuid,
      nameOfSr: (uuid) => (uuid === LOCAL1 ? 'Local storage on xcp-host1' : uuid),
      goneHosts: [m1],
      diskSrUuids: [SHARED],
      formerMasterUuid: m1.uuid,
    };
    const advice = (stderr: string): string | undefined => vmFailureAdvice(classifyXeFailure({ stdout: '', stderr, exitCode: 1 }), context);
    const attached = advice('Error code: SR_BACKEND_FAILURE_46\nError parameters: , The VDI is not available [opterr=VDI 1b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d already attached RW], \n');
    assert.match(attached ?? '', /attached read-write to xcp-host1/);
    assert.match(attached ?? '', new RegExp(`resetvdis\\.py ${m1.uuid} ${SHARED} --master`));
    assert.match(attached ?? '', /Forget Host…/);
    assert.match(advice(`This operation cannot be completed because the server is still live.\nhost: ${m3.uuid} (xcp-host3)\n`) ?? '', /^xcp-host3 still answers the master: its VMs may be running/);
    assert.match(advice(`Not enough server memory is available to perform this operation.\nneeded: ${2 * GIB}\navailable: ${GIB}\n`) ?? '', /xcp-host3 has 1\.0 GiB free; vm1-1 needs 2\.0 GiB/);
    assert.match(
      advice(`You attempted to run a VM on a host which doesn't have access to an SR needed by the VM. The VM has at least one VBD attached to a VDI in the SR.\nvm: x (vm1-1)\nsr: ${LOCAL1}\n`) ?? '',
      /cannot reach Local storage on xcp-host1/,
    );
    assert.equal(advice('Error code: SR_BACKEND_FAILURE_46\nError parameters: , The VDI is not available [opterr=VDI x locked], \n'), undefined);
  });
});
