/**
 * The VMs after a host died: which still count as running on a host that is gone ("needs attention"), where a
 * halted one can start, and what xapi's refusals mean for the admin. Pure functions over what the master's database
 * said and what the probes saw.
 */
import type { XeFailure } from '../xe/errors';
import type { GuestVm, HostMemory, PbdSummary } from '../xe/operations';
import type { HostStatus, PoolInventory, PoolMember } from './model';

/** What one read of the master's database said about the VMs, and when. */
export interface VmSnapshot {
  readonly vms: readonly GuestVm[];
  readonly memory: ReadonlyMap<string, HostMemory>;
  /** name-label of each SR, for the SRs of the VMs' disks. */
  readonly srNames: ReadonlyMap<string, string>;
  readonly readAt: string;
  /** The master that answered. */
  readonly fromUuid: string;
}

/** Power states in which xapi holds the VM's memory and disks on its host. */
export function isLiveVm(vm: GuestVm): boolean {
  return vm.powerState === 'running' || vm.powerState === 'paused';
}

/**
 * A host we cannot reach at all (not a refused login: that host is up, and its VMs may be running), or one that is
 * no longer a member of the pool we know.
 */
export function isGoneHost(inventory: PoolInventory, statuses: readonly HostStatus[], hostUuid: string): boolean {
  if (!inventory.members.some((m) => m.uuid === hostUuid)) return true;
  const health = statuses.find((s) => s.member.uuid === hostUuid)?.health;
  return health?.kind === 'unreachable' && health.failure !== 'auth' && health.failure !== 'host-key';
}

/** VMs the database still shows running (or paused) on a host that is gone: nobody runs them, nobody can start them. */
export function needsAttention(snapshot: VmSnapshot | undefined, inventory: PoolInventory, statuses: readonly HostStatus[]): GuestVm[] {
  if (!snapshot) return [];
  return snapshot.vms.filter((vm) => isLiveVm(vm) && vm.residentOn !== null && isGoneHost(inventory, statuses, vm.residentOn));
}

/** What xapi adds to a VM's memory on top of memory-static-max when it does not say (a harsh round figure). */
export const DEFAULT_VM_OVERHEAD_BYTES = 64 * 1024 ** 2;

/** The memory a start of the VM needs on a host. */
export function startMemory(vm: GuestVm): number | undefined {
  return vm.memoryBytes === undefined ? undefined : vm.memoryBytes + (vm.memoryOverheadBytes ?? DEFAULT_VM_OVERHEAD_BYTES);
}

export function formatBytes(value: number): string {
  const gib = value / 1024 ** 3;
  return gib >= 1 ? `${gib.toFixed(gib >= 10 ? 0 : 1)} GiB` : `${Math.round(value / 1024 ** 2)} MiB`;
}

export interface StartCandidate {
  readonly member: PoolMember;
  readonly freeBytes: number | undefined;
  /** Why the VM cannot start there; undefined when it can as far as we can tell. */
  readonly refusal: string | undefined;
}

/**
 * Every member, each with why the VM cannot start there (or none): it must answer and follow the running master, see
 * every SR of the VM's disks, and have the memory. Candidates come first, most free memory first; then the others by name.
 */
export function startCandidates(
  vm: GuestVm,
  snapshot: VmSnapshot,
  inventory: PoolInventory,
  statuses: readonly HostStatus[],
  pbds: readonly PbdSummary[],
  masterAddress: string,
): StartCandidate[] {
  const needed = startMemory(vm);
  const candidates = inventory.members.map((member): StartCandidate => {
    const memory = snapshot.memory.get(member.uuid);
    const freeBytes = memory?.freeBytes;
    const refusal = ((): string | undefined => {
      const health = statuses.find((s) => s.member.uuid === member.uuid)?.health;
      if (health?.kind !== 'probed' || health.facts.xapi !== 'running') return 'does not answer';
      const role = health.facts.role;
      const follows = role?.role === 'master' ? member.address === masterAddress : role?.role === 'slave' && role.masterAddress === masterAddress && health.facts.emergency !== true;
      if (!follows || memory?.live === false) return 'not a live member of the running master';
      const missing = vm.diskSrUuids.find((sr) => !pbds.some((p) => p.srUuid === sr && p.hostUuid === member.uuid && p.attached));
      if (missing) return `cannot reach ${snapshot.srNames.get(missing) ?? `SR ${missing}`}, the SR of its disks`;
      if (needed !== undefined && freeBytes !== undefined && freeBytes < needed) return `needs ${formatBytes(needed)}, has ${formatBytes(freeBytes)} free`;
      return undefined;
    })();
    return { member, freeBytes, refusal };
  });
  const eligible = candidates.filter((c) => c.refusal === undefined).sort((a, b) => (b.freeBytes ?? 0) - (a.freeBytes ?? 0) || a.member.name.localeCompare(b.member.name));
  return [...eligible, ...candidates.filter((c) => c.refusal !== undefined).sort((a, b) => a.member.name.localeCompare(b.member.name))];
}

/** `SR_BACKEND_FAILURE_46 … [opterr=VDI <uuid> already attached RW]`: the storage manager still holds the disk for another host. */
const ATTACHED_RW = /VDI (\S+) already attached RW/;

export interface VmFailureContext {
  readonly vmName: string;
  readonly hostName: string;
  readonly nameOfHost: (uuid: string) => string;
  readonly nameOfSr: (uuid: string) => string;
  /** The hosts the VM's disks may still be attached to: gone hosts it ran on. */
  readonly goneHosts: readonly PoolMember[];
  readonly diskSrUuids: readonly string[];
  /** The master the pool had before the loss: the SR master of its shared SRs. */
  readonly formerMasterUuid: string | undefined;
}

/** What an admin should do about xapi's refusal to reset or start a VM; undefined when we have nothing better than xe's text. */
export function vmFailureAdvice(failure: XeFailure, context: VmFailureContext): string | undefined {
  switch (failure.code) {
    case 'VM_BAD_POWER_STATE':
      return failure.actual === 'halted'
        ? `${context.vmName} is halted already.`
        : `${context.vmName} is ${failure.actual}, not halted. If its host is gone, reset its power state first (Reset Power State…); otherwise shut it down where it runs.`;
    case 'HOST_IS_LIVE':
      return `${failure.host.nameLabel ?? context.nameOfHost(failure.host.uuid ?? '')} still answers the master: its VMs may be running. Shut them down there, or power that host off or fence it, before resetting anything.`;
    case 'DOMAIN_EXISTS':
      return `${context.vmName} runs on the master itself: shut it down instead.`;
    case 'CANNOT_RESET_CONTROL_DOMAIN':
      return 'A control domain is reset by its host, never through the pool.';
    case 'HOST_NOT_ENOUGH_FREE_MEMORY':
      return `${context.hostName} has ${formatBytes(Number(failure.available))} free; ${context.vmName} needs ${formatBytes(Number(failure.needed))}. Choose another host, or stop a VM there first.`;
    case 'VM_REQUIRES_SR':
      return `${context.hostName} cannot reach ${context.nameOfSr(failure.sr)}, where a disk of ${context.vmName} lives. A disk on the dead host's local storage is gone with that host: restore it from a backup.`;
    case 'HOST_NOT_LIVE':
      return `The master does not count ${context.hostName} as live. Refresh, and choose a host that follows the master.`;
    case 'UNKNOWN_ERROR_CODE': {
      const vdi = failure.params.map((p) => ATTACHED_RW.exec(p)?.[1]).find((x) => x !== undefined);
      if (!vdi) return undefined;
      const dead = context.goneHosts.map((h) => h.name).join(', ') || 'the host it ran on';
      const host = context.goneHosts[0];
      const [sr, anotherSr] = context.diskSrUuids;
      // resetvdis.py (the storage manager's own tool, sm utils/resetvdis): `<host-uuid> <sr-uuid> [--master]`, the
      // flag when that host was the SR's master, which for a shared SR is the pool's master.
      const master = host !== undefined && host.uuid === context.formerMasterUuid ? ' --master' : '';
      const tool = `/opt/xensource/sm/resetvdis.py ${host?.uuid ?? '<host-uuid>'} ${sr !== undefined && anotherSr === undefined ? sr : '<sr-uuid>'}${master}`;
      return (
        `The SR still holds disk ${vdi} of ${context.vmName} as attached read-write to ${dead}, which cannot be asked to let go. ` +
        `Once ${dead} is certainly off: forget it (Forget Host…: the storage manager then drops the attachments of a host the pool no longer has), ` +
        `or clear them on the master with "${tool}". Then Start on… again.`
      );
    }
    default:
      return undefined;
  }
}
