/**
 * The simulator's VM and host lifecycle commands an admin needs after a master loss: `vm-reset-powerstate`,
 * `vm-start on=`, `host-forget`. The checks and their order follow the xen-api sources (cli_operations.ml,
 * xapi_vm.ml power_state_reset, xapi_host.ml destroy and precheck_destroy_declare_dead, the storage manager's
 * blktap2 attach). All three are forwarded to the master.
 */
import { DbVm, PoolDb, hostMemoryFree, vmFootprint } from './db';
import type { SimHost, Simulator, XeResult } from './sim';
import { MSG, xapiError } from './texts';
import { type Parsed, callStarted, fail, need, ok } from './commands';

type Cmd = (sim: Simulator, m: SimHost, p: Parsed) => XeResult | null;

/** How xe names a host or VM in an error parameter: its UUID and name-label. */
function named(db: PoolDb, uuid: string): string {
  const label = db.hosts.find((h) => h.uuid === uuid)?.nameLabel ?? db.vms.find((v) => v.uuid === uuid)?.nameLabel;
  return label === undefined ? uuid : `${uuid} (${label})`;
}

/**
 * Xapi_host.is_host_alive: the master asks the host whether it is a slave; any answer means alive, whatever its role
 * (an emergency-mode host answers too). A host whose xapi is down reads as dead although its VMs may still run: the
 * reason the product asks the admin to confirm the host is off before it resets anything.
 */
function isAlive(sim: Simulator, m: SimHost, uuid: string): boolean {
  if (uuid === m.uuid) return true;
  const t = sim.findHost(uuid);
  return !!t && sim.reachable(m, t) && t.xapi === 'running';
}

/** The VM a `vm-…` call selects: `uuid=` or `vm=` (name-label or UUID), as do_vm_op does. */
function selectVm(sim: Simulator, m: SimHost, p: Parsed): DbVm | XeResult {
  const uuid = p.params.get('uuid');
  const vmArg = p.params.get('vm');
  if (uuid !== undefined) return m.db.vms.find((v) => v.uuid === uuid) ?? fail(sim.render(xapiError('UUID_INVALID', 'VM', uuid)));
  if (vmArg !== undefined) {
    const hits = m.db.vms.filter((v) => v.uuid === vmArg || v.nameLabel === vmArg);
    if (hits.length === 1 && hits[0]) return hits[0];
    return fail(hits.length === 0 ? 'Error: No matching VMs found\n' : 'Error: Multiple matches VM found. Operation can only be performed on one VM at a time\n');
  }
  return fail(MSG.requiredParam('uuid'));
}

const isResult = (x: DbVm | XeResult): x is XeResult => 'code' in x;

const vmResetPowerstate: Cmd = (sim, m, p) => {
  if (!p.switches.has('force')) return fail(MSG.mustForce); // fail_without_force comes before the VM is looked up
  const vm = selectVm(sim, m, p);
  if (isResult(vm)) return vm;
  if (vm.isControlDomain) return fail(sim.render(xapiError('CANNOT_RESET_CONTROL_DOMAIN', named(m.db, vm.uuid))));
  if (vm.powerState === 'Running' || vm.powerState === 'Paused') {
    // On the master itself xenopsd knows the domain; on another host that still answers, xapi trusts that host.
    if (vm.residentOn === m.uuid) return fail(sim.render(xapiError('DOMAIN_EXISTS', named(m.db, vm.uuid), '')));
    if (vm.residentOn && isAlive(sim, m, vm.residentOn)) return fail(sim.render(xapiError('HOST_IS_LIVE', named(m.db, vm.residentOn))));
  }
  // force_state_reset to Halted: devices marked detached; the disks' sm-config attachments are NOT cleared.
  vm.powerState = 'Halted';
  vm.residentOn = '';
  m.db.generation++;
  sim.markChanged();
  return ok('');
};

/** The checks of VM.start_on before anything boots (assert_can_boot_here, then the storage manager's attach). */
function startRefusal(sim: Simulator, m: SimHost, vm: DbVm, hostUuid: string): XeResult | null {
  const db = m.db;
  if (vm.powerState !== 'Halted') return fail(sim.render(xapiError('VM_BAD_POWER_STATE', named(db, vm.uuid), 'halted', vm.powerState.toLowerCase())));
  if (!sim.isLiveFor(m, hostUuid)) return fail(sim.render(xapiError('HOST_NOT_LIVE')));
  const vdis = db.vbds.filter((b) => b.vm === vm.uuid).map((b) => db.vdis.find((d) => d.uuid === b.vdi)).filter((d) => d !== undefined);
  for (const vdi of vdis) {
    const sr = db.srs.find((s) => s.uuid === vdi.sr);
    if (!sr?.pbds.some((pbd) => pbd.host === hostUuid && pbd.attached)) return fail(sim.render(xapiError('VM_REQUIRES_SR', named(db, vm.uuid), vdi.sr)));
  }
  const host = db.hosts.find((h) => h.uuid === hostUuid);
  const available = host ? hostMemoryFree(db, host) : 0;
  if (available < vmFootprint(vm)) return fail(sim.render(xapiError('HOST_NOT_ENOUGH_FREE_MEMORY', String(vmFootprint(vm)), String(available))));
  for (const vdi of vdis) {
    for (const [holder, mode] of Object.entries(vdi.attached)) {
      if (holder === hostUuid) continue;
      // resetvdis.reset_vdi: a key of a host no longer in the database is force-cleared; a live holder is asked
      // whether the disk is still open (it is not: the VM is halted); a holder that cannot be asked fails the attach.
      if (!db.hosts.some((h) => h.uuid === holder) || isAlive(sim, m, holder)) continue;
      if (mode === 'RW')
        {return fail(sim.render(xapiError('SR_BACKEND_FAILURE_46', '', `The VDI is not available [opterr=VDI ${vdi.uuid} already attached RW]`, '')));}
    }
  }
  return null;
}

const vmStart: Cmd = (sim, m, p) => {
  const vm = selectVm(sim, m, p);
  if (isResult(vm)) return vm;
  const on = p.params.get('on');
  let hostUuid = m.uuid; // without on=, xapi picks a host; the lab picks the master (simplification)
  if (on !== undefined) {
    const h = m.db.hosts.find((x) => x.uuid === on || x.nameLabel === on);
    if (!h) return fail(MSG.hostNotFound(on));
    hostUuid = h.uuid;
  }
  const refusal = startRefusal(sim, m, vm, hostUuid);
  if (refusal) return refusal;
  // The boot takes a while; the checks are made again when it ends, as a second start may have won meanwhile.
  if (Date.now() < callStarted(p) + sim.ms('vmStart')) return null;
  for (const b of m.db.vbds.filter((x) => x.vm === vm.uuid)) {
    const vdi = m.db.vdis.find((d) => d.uuid === b.vdi);
    if (vdi) vdi.attached = { [hostUuid]: 'RW' };
  }
  vm.powerState = 'Running';
  vm.residentOn = hostUuid;
  m.db.generation++;
  sim.markChanged();
  return ok('');
};

const hostForget: Cmd = (sim, m, p) => {
  const uuid = need(p, 'uuid');
  const db = m.db;
  const host = db.hosts.find((h) => h.uuid === uuid);
  if (!host) return fail(sim.render(xapiError('UUID_INVALID', 'host', uuid)));
  if (!p.switches.has('force')) return { stdout: MSG.hostForgetWarnings, stderr: '', code: 1 };
  if (isAlive(sim, m, uuid)) return fail(sim.render(xapiError('HOST_IS_LIVE', named(db, uuid))));
  if (db.pool.haEnabled) return fail(sim.render(xapiError('HA_IS_ENABLED')));
  if (db.vms.some((v) => v.residentOn === uuid && !v.isControlDomain && v.powerState !== 'Halted'))
    {return fail(sim.render(xapiError('HOST_HAS_RESIDENT_VMS', named(db, uuid))));}
  db.hosts = db.hosts.filter((h) => h.uuid !== uuid);
  db.vms = db.vms.filter((v) => !(v.isControlDomain && v.residentOn === uuid));
  // xapi's database GC drops the PBDs of a destroyed host soon after; the lab drops them at once.
  for (const sr of db.srs) sr.pbds = sr.pbds.filter((pbd) => pbd.host !== uuid);
  db.generation++;
  sim.markChanged();
  return ok('');
};

export const LIFECYCLE_COMMANDS: Record<string, Cmd> = {
  'vm-reset-powerstate': vmResetPowerstate,
  'vm-start': vmStart,
  'host-forget': hostForget,
};
