/* The simulator's VM and host lifecycle commands (vm-reset-powerstate, vm-start on=, host-forget), without sshd. */
import assert from 'node:assert/strict';
import { GIB, HOST_MEMORY_OVERHEAD, VM_MEMORY_OVERHEAD } from './db';
import { Simulator, SimOptions } from './sim';
import { simXe as xe, startSim } from './simHarness';

const mk = (over: Partial<SimOptions> = {}): Simulator => startSim({ name: 'vm-unit', ...over });

const vmNamed = (sim: Simulator, name: string) => {
  const vm = sim.host(1).db.vms.find((v) => v.nameLabel === name);
  assert.ok(vm, name);
  return vm;
};

describe('lab: VM and host lifecycle commands', () => {
  let sim: Simulator;
  afterEach(() => sim.stop());

  it('vm-reset-powerstate: refused without --force, for the control domain, on the master and on a live host', async () => {
    sim = mk();
    const before = JSON.stringify(sim.host(1).db);
    const vm3 = vmNamed(sim, 'vm3-1');
    assert.deepEqual(await xe(sim, 1, 'vm-reset-powerstate', `uuid=${vm3.uuid}`), {
      stdout: '',
      stderr: 'Error: This operation is dangerous and may cause data loss. This operation must be forced (use --force).\n',
      code: 1,
    });
    const dom0 = sim.host(1).db.vms.find((v) => v.isControlDomain && v.residentOn === sim.host(3).uuid);
    assert.match((await xe(sim, 1, 'vm-reset-powerstate', `uuid=${dom0?.uuid}`, '--force')).stderr, /^The power-state of a control domain cannot be reset\.\nvm: /);
    assert.match((await xe(sim, 1, 'vm-reset-powerstate', `uuid=${vmNamed(sim, 'vm1-1').uuid}`, '--force')).stderr, /^The operation could not be performed because a domain still exists/);
    assert.equal(
      (await xe(sim, 1, 'vm-reset-powerstate', `uuid=${vm3.uuid}`, '--force')).stderr,
      `This operation cannot be completed because the server is still live.\nhost: ${sim.host(3).uuid} (xcp-host3)\n`,
    );
    // A host whose xapi is down cannot be asked: xapi takes it for dead, although its VMs may still run.
    sim.setXapiDown(sim.host(3), true);
    assert.equal((await xe(sim, 1, 'vm-reset-powerstate', `uuid=${vm3.uuid}`, '--force')).code, 0);
    sim.setXapiDown(sim.host(3), false);
    assert.notEqual(JSON.stringify(sim.host(1).db), before);
    assert.equal(vmNamed(sim, 'vm3-1').powerState, 'Halted');
    assert.match((await xe(sim, 1, 'vm-param-get', `uuid=${vm3.uuid}`, 'param-name=resident-on')).stdout, /^<not in database>\n$/);
  });

  it('vm-start on=: a disk still attached RW to the dead host, a disk on its local SR, then host-forget, then a start that uses memory', async () => {
    sim = mk();
    const h2 = sim.host(2);
    const h3 = sim.host(3);
    sim.powerOff(h3);
    const shared = vmNamed(sim, 'vm3-1');
    const local = vmNamed(sim, 'vm3-2');
    // Still Running in the database: a start is refused with the power state, a forget with the resident VMs.
    assert.match((await xe(sim, 1, 'vm-start', `uuid=${shared.uuid}`, `on=${h2.name}`)).stderr, /^You attempted an operation on a VM that was not in an appropriate power state.*\nvm: .*\nexpected: halted\nactual: running\n$/s);
    assert.match((await xe(sim, 1, 'host-forget', `uuid=${h3.uuid}`, '--force')).stderr, /^This server cannot be forgotten because there are user VMs still running\.\nhost: /);
    for (const vm of [shared, local]) assert.equal((await xe(sim, 1, 'vm-reset-powerstate', `uuid=${vm.uuid}`, '--force')).code, 0);
    assert.equal(
      (await xe(sim, 1, 'vm-start', `uuid=${shared.uuid}`, `on=${h2.name}`)).stderr,
      `Error code: SR_BACKEND_FAILURE_46\nError parameters: , The VDI is not available [opterr=VDI ${sim.host(1).db.vdis.find((d) => d.nameLabel === 'vm3-1 0')?.uuid} already attached RW], \n`,
    );
    assert.match((await xe(sim, 1, 'vm-start', `uuid=${local.uuid}`, `on=${h2.uuid}`)).stderr, /^You attempted to run a VM on a host which doesn't have access to an SR needed by the VM\./);
    assert.equal((await xe(sim, 1, 'vm-start', `uuid=${shared.uuid}`, 'on=xcp-host9')).stderr, 'Error: Host xcp-host9 not found\n');
    // Forget: refused without --force (xe wants a typed 'yes' no SSH command can give) and for live hosts.
    const noForce = await xe(sim, 1, 'host-forget', `uuid=${h3.uuid}`);
    assert.equal(noForce.code, 1);
    assert.match(noForce.stdout, /WARNING: Once a host has been forgotten it will have to be re-installed\./);
    assert.match((await xe(sim, 1, 'host-forget', `uuid=${h2.uuid}`, '--force')).stderr, /^This operation cannot be completed because the server is still live\./);
    assert.match((await xe(sim, 1, 'host-forget', `uuid=${sim.host(1).uuid}`, '--force')).stderr, /still live/);
    assert.equal(sim.host(1).db.hosts.length, 3);
    assert.deepEqual(await xe(sim, 1, 'host-forget', `uuid=${h3.uuid}`, '--force'), { stdout: '', stderr: '', code: 0 });
    assert.deepEqual(sim.host(1).db.hosts.map((h) => h.nameLabel), ['xcp-host1', 'xcp-host2']);
    const freeBefore = Number((await xe(sim, 1, 'host-param-get', `uuid=${h2.uuid}`, 'param-name=memory-free')).stdout);
    const started = Date.now();
    assert.deepEqual(await xe(sim, 1, 'vm-start', `uuid=${shared.uuid}`, `on=${h2.name}`), { stdout: '', stderr: '', code: 0 });
    assert.ok(Date.now() - started >= sim.ms('vmStart') - 20, 'a boot takes its time');
    assert.equal(vmNamed(sim, 'vm3-1').residentOn, h2.uuid);
    const freeAfter = Number((await xe(sim, 1, 'host-param-get', `uuid=${h2.uuid}`, 'param-name=memory-free')).stdout);
    assert.equal(freeBefore - freeAfter, 2 * GIB + VM_MEMORY_OVERHEAD);
    assert.match((await xe(sim, 1, 'vm-start', `uuid=${shared.uuid}`, `on=${h2.name}`)).stderr, /expected: halted\nactual: running\n$/);
  });

  it('vm-start on= a host without the memory the VM needs, or one that is down', async () => {
    const small = HOST_MEMORY_OVERHEAD + (4 * GIB + VM_MEMORY_OVERHEAD) + 2 * (2 * GIB + VM_MEMORY_OVERHEAD) + GIB; // dom0, two VMs, 1 GiB left
    sim = mk({ hostMemory: [128 * GIB, small, 128 * GIB] });
    sim.powerOff(sim.host(3));
    const vm = vmNamed(sim, 'vm1-1');
    vm.powerState = 'Halted'; // as after a clean shutdown: nothing attached
    vm.residentOn = '';
    for (const d of sim.host(1).db.vdis) if (d.nameLabel === 'vm1-1 0') d.attached = {};
    assert.equal(
      (await xe(sim, 1, 'vm-start', `uuid=${vm.uuid}`, 'on=xcp-host2')).stderr,
      `Not enough server memory is available to perform this operation.\nneeded: ${2 * GIB + VM_MEMORY_OVERHEAD}\navailable: ${GIB}\n`,
    );
    assert.equal((await xe(sim, 1, 'vm-start', `uuid=${vm.uuid}`, 'on=xcp-host3')).stderr, 'This operation cannot be completed as the server is not live.\n');
    assert.equal(vmNamed(sim, 'vm1-1').powerState, 'Halted');
  });

  it('lists disks: vbd-list and vdi-list name each VM disk and its SR', async () => {
    sim = mk();
    const vm = vmNamed(sim, 'vm2-2');
    const vbd = await xe(sim, 1, 'vbd-list', `vm-uuid=${vm.uuid}`, 'params=vdi-uuid', '--minimal');
    const vdi = vbd.stdout.trim();
    const sr = (await xe(sim, 1, 'vdi-param-get', `uuid=${vdi}`, 'param-name=sr-uuid')).stdout.trim();
    assert.equal(sr, sim.host(1).db.srs.find((s) => s.nameLabel === 'Local storage' && s.pbds[0]?.host === sim.host(2).uuid)?.uuid);
  });
});
