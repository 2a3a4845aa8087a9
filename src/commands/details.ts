import * as vscode from 'vscode';
import { formatBytes } from '../core/pool/vms';
import { hostFacts, hostRole, hostState, stateWord } from '../tree/presentation';
import { HostNode, PoolNode, VmNode, type XenNode } from '../tree/nodes';
import { notify } from '../ui';
import { NothingChangedError, resolveHost, type CommandContext } from './context';

/** The default action of a host row (Enter, or a click): its facts, its VMs and its last probe, in a read-only editor. */
export async function showHostDetails(context: CommandContext, node?: XenNode): Promise<vscode.TextEditor> {
  const { monitor, member } = await resolveHost(context, node, 'Show the details of which host?');
  const status = monitor.allStatuses().find((s) => s.member.uuid === member.uuid) ?? { member, health: { kind: 'probing' as const } };
  const role = hostRole(status, monitor.inventory, monitor.lastProbedStatus(member.uuid));
  const vms = (monitor.vms?.vms ?? []).filter((vm) => vm.residentOn === member.uuid);
  const lines = [
    `# ${member.name} — ${stateWord(hostState(status))}, ${role.replace('-', ' ')} of ${monitor.inventory.poolName}`,
    '',
    ...hostFacts(status, role).map(([label, value]) => `${label}: ${value}`),
    ...(monitor.vms ? [`Free memory: ${monitor.vms.memory.get(member.uuid)?.freeBytes === undefined ? 'unknown' : formatBytes(monitor.vms.memory.get(member.uuid)?.freeBytes ?? 0)}`] : []),
    '',
    monitor.vms ? `VMs the master's database has on it (as of ${new Date(monitor.vms.readAt).toLocaleString()}):` : `VMs: not read (${monitor.vmProblem ?? 'no master answered yet'})`,
    ...vms.map((vm) => `  ${vm.name}  ${vm.powerState}  ${vm.uuid}`),
    ...(monitor.vms && !vms.length ? ['  none'] : []),
  ];
  // A preview that keeps the focus in the tree: arrowing through the hosts shows each one's details in turn.
  return context.documents.open(`${member.name}-details`, `${lines.join('\n')}\n`, undefined, { preview: true, preserveFocus: true });
}

/** The UUID of a row (pool, host or VM), on the clipboard. */
export async function copyUuid(_context: CommandContext, node?: XenNode): Promise<string> {
  const uuid = node instanceof PoolNode ? node.monitor.inventory.poolUuid : node instanceof HostNode ? node.status.member.uuid : node instanceof VmNode ? node.vm.uuid : undefined;
  if (!uuid) throw new NothingChangedError('Copy UUID works on a pool, host or VM row of the XenServer Pools view.');
  await vscode.env.clipboard.writeText(uuid);
  void notify('info', `Copied ${uuid}.`);
  return uuid;
}

/** A host's management address, on the clipboard. */
export async function copyAddress(context: CommandContext, node?: XenNode): Promise<string> {
  const { member } = await resolveHost(context, node, 'Copy the address of which host?');
  await vscode.env.clipboard.writeText(member.address);
  void notify('info', `Copied ${member.address}.`);
  return member.address;
}
