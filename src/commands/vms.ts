/**
 * After a host died: Reset Power State… of the VMs the database still shows running on it, Start on… a survivor,
 * and Forget Host… of the dead member. Each asks what only the admin can know (is the host really off?), records
 * that answer in the audit trail, and re-checks the pool under its lock at the moment of action.
 */
import type { PoolMember } from '../core/pool/model';
import type { PoolMonitor } from '../core/pool/monitor';
import { formatBytes, isGoneHost, isLiveVm, needsAttention, startCandidates, vmFailureAdvice, type StartCandidate } from '../core/pool/vms';
import { SshConnectError } from '../core/ssh/errors';
import { XeCommandError } from '../core/xe/errors';
import { xeOperations, type GuestVm } from '../core/xe/operations';
import { HostNode, VmGroupNode, VmNode, type XenNode } from '../tree/nodes';
import { vmCount } from '../tree/vmPresentation';
import { notify, ui } from '../ui';
import { lockOwner, NothingChangedError, orCancel, reachableMaster, resolvePool, withPoolLocks, type CommandContext } from './context';

/** How long a VM start may take before its outcome counts as unknown: a boot waits for its disks and devices. */
export const VM_START_TIMEOUT_MS = 300_000;


function nameOfHost(monitor: PoolMonitor, uuid: string | null): string {
  if (uuid === null) return 'no host';
  return monitor.inventory.members.find((m) => m.uuid === uuid)?.name ?? `host ${uuid} (no longer a member)`;
}

/** The stranded VMs a command acts on: one row, the Needs attention group, a lost host's row, or a choice. */
async function strandedVms(context: CommandContext, node: XenNode | undefined): Promise<{ monitor: PoolMonitor; vms: GuestVm[] }> {
  const monitor = await resolvePool(context, node);
  const stranded = needsAttention(monitor.vms, monitor.inventory, monitor.allStatuses());
  if (node instanceof VmNode) {
    if (!stranded.some((vm) => vm.uuid === node.vm.uuid)) throw new NothingChangedError(`${node.vm.name} is not marked running on a lost host: its power state needs no reset.`);
    return { monitor, vms: [node.vm] };
  }
  if (node instanceof HostNode) {
    const onHost = stranded.filter((vm) => vm.residentOn === node.status.member.uuid);
    if (!onHost.length) throw new NothingChangedError(`No VM is marked running on ${node.status.member.name} while it is lost: nothing to reset.`);
    return { monitor, vms: onHost };
  }
  if (node instanceof VmGroupNode && node.group === 'attention') return { monitor, vms: stranded };
  if (!stranded.length) throw new NothingChangedError(`No VM of ${monitor.inventory.poolName} is marked running on a lost host${monitor.vms ? '' : ` (its VMs are not read: ${monitor.vmProblem ?? 'not yet'})`}.`);
  const hosts = [...new Set(stranded.map((vm) => vm.residentOn))];
  const items = [
    ...hosts.map((host) => {
      const vms = stranded.filter((vm) => vm.residentOn === host);
      return { label: `$(warning) All ${vmCount(vms.length)} on ${nameOfHost(monitor, host)}`, description: vms.map((vm) => vm.name).join(', '), value: vms };
    }),
    ...stranded.map((vm) => ({ label: `$(vm) ${vm.name}`, description: `${vm.powerState} on ${nameOfHost(monitor, vm.residentOn)}`, value: [vm] })),
  ];
  return { monitor, vms: orCancel(await ui.current.pick(items, { title: `Reset the power state of which VMs of ${monitor.inventory.poolName}?` })) };
}

/** Writes what the admin vouched for into the audit trail, before anything acts on it. */
function recordConfirmation(context: CommandContext, monitor: PoolMonitor, host: string, statement: string): void {
  context.recorder.append({ time: new Date().toISOString(), pool: monitor.inventory.poolName, host, command: `(confirmation) ${statement}`, exitCode: null, durationMs: 0, result: `confirmed by ${lockOwner()}`, kind: 'confirmation' });
}

/**
 * `vm-reset-powerstate --force` for VMs stranded on lost hosts, only after the admin confirms for each such host that
 * it is powered off or fenced: the database cannot tell a dead host from one that lost its network, and a VM reset
 * while it still runs there would run twice on the same disks.
 */
export async function resetPowerState(context: CommandContext, node?: XenNode): Promise<GuestVm[]> {
  const { monitor, vms } = await strandedVms(context, node);
  const pool = monitor.inventory.poolName;
  const hosts = [...new Set(vms.map((vm) => vm.residentOn).filter((host): host is string => host !== null))];
  for (const host of hosts) {
    const name = nameOfHost(monitor, host);
    const onHost = vms.filter((vm) => vm.residentOn === host);
    const confirmed = await ui.current.confirm(
      `Is ${name} powered off or fenced?`,
      `The pool database still shows ${vmCount(onHost.length)} running on ${name}: ${onHost.map((vm) => vm.name).join(', ')}. ` +
        `Resetting their power state marks them halted so that they can start on another host. If ${name} still runs them (a network split, a hung management agent), ` +
        `each would run twice on the same disks, which corrupts them. Confirm only once ${name} is powered off (its BMC or the power switch) or fenced from the storage.`,
      `${name} Is Powered Off`,
    );
    if (!confirmed) return [];
    recordConfirmation(context, monitor, name, `${name} (${host}) is powered off or fenced: reset the power state of ${onHost.map((vm) => vm.name).join(', ')}`);
  }
  const { done, failure } = await withPoolLocks(context, monitor, `Reset power state of ${vmCount(vms.length)} in ${pool}`, async () => {
    // Re-checked under the lock, after withPoolLocks probed the pool and read the VMs again.
    const master = reachableMaster(monitor);
    for (const host of hosts) {
      if (!isGoneHost(monitor.inventory, monitor.allStatuses(), host)) throw new NothingChangedError(`${nameOfHost(monitor, host)} answers now: its VMs may be running. Nothing was reset.`);
    }
    const fresh = monitor.vms;
    if (!fresh || monitor.vmProblem) throw new NothingChangedError(`The VMs of ${pool} cannot be read now (${monitor.vmProblem ?? 'not read'}): nothing was reset.`);
    const still = vms.filter((vm) => fresh.vms.some((v) => v.uuid === vm.uuid && isLiveVm(v) && v.residentOn === vm.residentOn));
    const run = monitor.runner.xe(master.address);
    const reset: GuestVm[] = [];
    for (const vm of still) {
      try {
        await xeOperations.resetVmPowerState(run, vm.uuid);
        reset.push(vm);
      } catch (error) {
        // The first refusal stops the rest: HOST_IS_LIVE for one VM says the host answers, for every VM on it.
        return { done: reset, failure: { vm, error } };
      }
    }
    return { done: reset, failure: undefined };
  });
  await monitor.readVms();
  if (done.length) context.log.info(`[vm] ${pool}: power state reset (halted): ${done.map((vm) => vm.name).join(', ')}`);
  if (failure) throw vmError(monitor, failure.vm, nameOfHost(monitor, failure.vm.residentOn), failure.error, (name) => `reset the power state of ${name}`, done);
  if (!done.length) throw new NothingChangedError(`None of these VMs is marked running on a lost host any more: nothing was reset.`);
  void notify('info', `${pool}: ${done.map((vm) => vm.name).join(', ')} ${done.length === 1 ? 'is' : 'are'} halted now. Start ${done.length === 1 ? 'it' : 'them'} on a surviving host with Start on….`);
  return done;
}

/** A reset or start that failed: xapi's refusal with what to do, or an outcome we cannot know. */
function vmError(monitor: PoolMonitor, vm: GuestVm, hostName: string, error: unknown, doing: (vmName: string) => string, done: readonly GuestVm[] = []): Error {
  const before = done.length ? ` (${done.map((v) => v.name).join(', ')} ${done.length === 1 ? 'was' : 'were'} done before it)` : '';
  if (error instanceof XeCommandError) {
    const goneHosts = monitor.inventory.members.filter((m) => m.uuid === vm.residentOn || (isGoneHost(monitor.inventory, monitor.allStatuses(), m.uuid) && m.uuid !== vm.residentOn));
    const advice = vmFailureAdvice(error.failure, {
      vmName: vm.name,
      hostName,
      nameOfHost: (uuid) => nameOfHost(monitor, uuid),
      nameOfSr: (uuid) => monitor.vms?.srNames.get(uuid) ?? uuid,
      goneHosts,
      diskSrUuids: vm.diskSrUuids,
      formerMasterUuid: monitor.inventory.masterUuid,
    });
    return new NothingChangedError(`xapi refused to ${doing(vm.name)}${before}: ${advice ?? error.message}`);
  }
  if (error instanceof SshConnectError) return new NothingChangedError(`The master could not be reached to ${doing(vm.name)}${before}: ${error.message}. Nothing was sent.`);
  return new Error(`Whether xapi did ${doing(vm.name)} is unknown${before}: ${(error as Error).message}. Refresh the pool to see its power state before you try again.`);
}

/** The halted VM to start: its row, or a choice of the pool's halted VMs. */
async function haltedVm(context: CommandContext, node: XenNode | undefined): Promise<{ monitor: PoolMonitor; vm: GuestVm }> {
  const monitor = await resolvePool(context, node);
  if (node instanceof VmNode) return { monitor, vm: node.vm };
  const halted = (monitor.vms?.vms ?? []).filter((vm) => vm.powerState === 'halted');
  if (!halted.length) throw new NothingChangedError(`${monitor.inventory.poolName} has no halted VM to start${monitor.vms ? '' : ` (its VMs are not read: ${monitor.vmProblem ?? 'not yet'})`}.`);
  return { monitor, vm: orCancel(await ui.current.pick(halted.map((vm) => ({ label: `$(vm-outline) ${vm.name}`, description: vm.uuid, value: vm })), { title: `Start which VM of ${monitor.inventory.poolName}?` })) };
}

function candidateItem(candidate: StartCandidate) {
  const free = candidate.freeBytes === undefined ? 'free memory unknown' : `${formatBytes(candidate.freeBytes)} free`;
  return { label: `${candidate.refusal ? '$(circle-slash)' : '$(server)'} ${candidate.member.name}`, description: candidate.refusal ?? free, value: candidate };
}

/** `vm-start on=<host>` on a host that follows the running master, sees the VM's disks and has the memory. */
export async function startVmOn(context: CommandContext, node?: XenNode): Promise<PoolMember | undefined> {
  const { monitor, vm: chosen } = await haltedVm(context, node);
  const pool = monitor.inventory.poolName;
  await monitor.refresh();
  const master = reachableMaster(monitor);
  const snapshot = monitor.vms;
  const vm = snapshot?.vms.find((v) => v.uuid === chosen.uuid);
  if (!snapshot || !vm) throw new NothingChangedError(`${chosen.name} cannot be read from ${master.name} now (${monitor.vmProblem ?? 'not in the database'}): nothing was started.`);
  if (vm.powerState !== 'halted') throw new NothingChangedError(`${vm.name} is ${vm.powerState} on ${nameOfHost(monitor, vm.residentOn)}, not halted: ${isLiveVm(vm) && vm.residentOn && isGoneHost(monitor.inventory, monitor.allStatuses(), vm.residentOn) ? 'reset its power state first (Reset Power State…).' : 'nothing was started.'}`);
  const pbds = await xeOperations.pbds(monitor.runner.xe(master.address));
  const candidates = startCandidates(vm, snapshot, monitor.inventory, monitor.allStatuses(), pbds, master.address);
  const picked = orCancel(await ui.current.pick(candidates.map(candidateItem), { title: `Start ${vm.name} on…`, placeHolder: 'Hosts that can start it come first, most free memory first' }));
  if (picked.refusal) throw new NothingChangedError(`${vm.name} cannot start on ${picked.member.name}: it ${picked.refusal}. Nothing was started.`);
  const host = picked.member;
  await withPoolLocks(context, monitor, `Start ${vm.name} on ${host.name}`, async () => {
    const now = reachableMaster(monitor);
    if (now.uuid !== master.uuid) throw new NothingChangedError(`${pool}'s master is ${now.name} now, not ${master.name}: nothing was started; try again.`);
    const fresh = monitor.vms;
    const current = fresh?.vms.find((v) => v.uuid === vm.uuid);
    if (!fresh || current?.powerState !== 'halted') throw new NothingChangedError(`${vm.name} is ${current?.powerState ?? 'not readable'} now, not halted: nothing was started.`);
    const recheck = startCandidates(current, fresh, monitor.inventory, monitor.allStatuses(), pbds, now.address).find((c) => c.member.uuid === host.uuid);
    if (recheck?.refusal) throw new NothingChangedError(`${vm.name} cannot start on ${host.name} any more: it ${recheck.refusal}. Nothing was started.`);
    // Only what the start itself answers is xapi's refusal or an unknown outcome; a refused lock above ran nothing.
    try {
      await xeOperations.startVmOn(monitor.runner.xe(now.address, { timeoutMs: VM_START_TIMEOUT_MS }), vm.uuid, host.uuid);
    } catch (error) {
      await monitor.readVms();
      throw vmError(monitor, vm, host.name, error, (name) => `start ${name} on ${host.name}`);
    }
  });
  await monitor.readVms();
  const after = monitor.vms?.vms.find((v) => v.uuid === vm.uuid);
  context.log.info(`[vm] ${pool}: ${vm.name} started on ${host.name}; the master now says ${after ? `${after.powerState} on ${nameOfHost(monitor, after.residentOn)}` : 'nothing (not readable)'}`);
  if (after?.powerState !== 'running' || after.residentOn !== host.uuid) {
    void notify('warning', `vm-start of ${vm.name} on ${host.name} returned, but the master says ${after ? `${after.powerState} on ${nameOfHost(monitor, after.residentOn)}` : 'nothing about it'}. Refresh to see.`);
    return host;
  }
  void notify('info', `${vm.name} runs on ${host.name}.`);
  return host;
}

/**
 * `host-forget` for a member that is gone for good. Only a lost host, never the master, not while VMs are still marked
 * running on it (xapi refuses, HOST_HAS_RESIDENT_VMS) and not with HA on; the host must be reinstalled before it rejoins.
 */
export async function forgetHost(context: CommandContext, node?: XenNode): Promise<void> {
  const monitor = await resolvePool(context, node);
  const pool = monitor.inventory.poolName;
  const lost = monitor.inventory.members.filter((m) => isGoneHost(monitor.inventory, monitor.allStatuses(), m.uuid));
  const member =
    node instanceof HostNode
      ? node.status.member
      : orCancel(
          await ui.current.pick(
            monitor.inventory.members.map((m) => ({ label: `${lost.includes(m) ? '$(debug-disconnect)' : '$(server)'} ${m.name}`, description: lost.includes(m) ? 'lost' : 'answers', value: m })),
            { title: `Forget which lost host of ${pool}?` },
          ),
        );
  const refusal = forgetRefusal(monitor, member);
  if (refusal) throw new NothingChangedError(refusal);
  const confirmed = await ui.current.confirm(
    `Forget ${member.name}?`,
    `${member.name} is removed from the pool database of ${pool}, for good. It cannot simply come back: it still believes it belongs to this pool, so it must be reinstalled before it joins any pool again. ` +
      `Forget a host only when it is physically unrecoverable, or powered off and about to be reinstalled. Its local storage stays in the database without a connection.`,
    'Forget Host',
  );
  if (!confirmed) return;
  recordConfirmation(context, monitor, member.name, `${member.name} (${member.uuid}) is gone for good and will be reinstalled before it rejoins: forget it`);
  await withPoolLocks(context, monitor, `Forget ${member.name} in ${pool}`, async () => {
    const master = reachableMaster(monitor);
    const again = forgetRefusal(monitor, member);
    if (again) throw new NothingChangedError(again);
    try {
      await xeOperations.forgetHost(monitor.runner.xe(master.address), member.uuid);
    } catch (error) {
      if (error instanceof XeCommandError && error.failure.code === 'HOST_IS_LIVE') throw new NothingChangedError(`The master still reaches ${member.name}: a live host is ejected (xe pool-eject), never forgotten. Nothing was changed.`);
      if (error instanceof XeCommandError || error instanceof SshConnectError) throw error;
      throw new Error(`Whether ${member.name} was forgotten is unknown: ${(error as Error).message}. Refresh the pool before you try again.`);
    }
  });
  await context.registry.updateInventory({ ...monitor.inventory, members: monitor.inventory.members.filter((m) => m.uuid !== member.uuid) });
  await monitor.refresh();
  context.log.info(`[pool] ${pool}: ${member.name} (${member.uuid}) forgotten`);
  const declared = context.registry.isDeclared(monitor.inventory.poolUuid) ? ` Remove it from the xenPools.pools setting too, or it is shown again after a reload.` : '';
  void notify('info', `${member.name} is no longer a member of ${pool}. Reinstall it before it joins a pool again.${declared}`);
}

function forgetRefusal(monitor: PoolMonitor, member: PoolMember): string | undefined {
  const pool = monitor.inventory.poolName;
  if (!isGoneHost(monitor.inventory, monitor.allStatuses(), member.uuid)) return `${member.name} answers: only a lost host can be forgotten (a live one is ejected with xe pool-eject). Nothing was changed.`;
  if (monitor.inventory.haEnabled) return `HA is enabled on ${pool}: xapi refuses to forget a host then. Nothing was changed.`;
  const stranded = needsAttention(monitor.vms, monitor.inventory, monitor.allStatuses()).filter((vm) => vm.residentOn === member.uuid);
  if (stranded.length) return `${vmCount(stranded.length)} still marked running on ${member.name} (${stranded.map((vm) => vm.name).join(', ')}): reset their power state first (Reset Power State…). Nothing was changed.`;
  return undefined;
}
