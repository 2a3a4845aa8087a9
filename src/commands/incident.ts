import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { incidentFileName, incidentMarkdown, type TrailEntry } from '../core/pool/incident';
import type { PoolMonitor } from '../core/pool/monitor';
import type { RecoveryReport } from '../core/pool/report';
import { isGoneHost, needsAttention } from '../core/pool/vms';
import { hostRole, hostState, stateWord } from '../tree/presentation';
import type { XenNode } from '../tree/nodes';
import { notify, ui } from '../ui';
import { lockOwner, orCancel, resolvePool, type CommandContext } from './context';

/** The audit trail's lines of one pool since a time; a line that is not JSON (a torn write) is skipped. */
async function trailOf(context: CommandContext, poolName: string, since: number): Promise<TrailEntry[]> {
  await context.recorder.flushed();
  if (!existsSync(context.recorder.auditFile)) return [];
  const entries: TrailEntry[] = [];
  for (const line of (await fs.readFile(context.recorder.auditFile, 'utf8')).split('\n')) {
    if (line.trim() === '') continue;
    try {
      const entry = JSON.parse(line) as TrailEntry;
      if (entry.pool === poolName && Date.parse(entry.time) >= since) entries.push(entry);
    } catch {
      context.log.warn(`[report] skipped an unreadable line of ${context.recorder.auditFile}`);
    }
  }
  return entries;
}

/** What the pool still needs, from what the extension sees now (the VMs left behind, the hosts that are gone). */
function currentNextSteps(monitor: PoolMonitor, recovery: RecoveryReport | undefined): string[] {
  const steps: string[] = [];
  const statuses = monitor.allStatuses();
  // The recovery's own next steps already name the VMs stranded on its old master.
  const said = recovery?.staleVms.length ? recovery.plan.oldMaster?.uuid : undefined;
  const stranded = needsAttention(monitor.vms, monitor.inventory, statuses).filter((vm) => vm.residentOn !== said);
  for (const host of new Set(stranded.map((vm) => vm.residentOn))) {
    const name = monitor.inventory.members.find((m) => m.uuid === host)?.name ?? host ?? '?';
    const vms = stranded.filter((vm) => vm.residentOn === host).map((vm) => vm.name);
    steps.push(`Once ${name} is certainly powered off or fenced: Reset Power State… of ${vms.join(', ')}, then Start on… a surviving host.`);
  }
  const halted = (monitor.vms?.vms ?? []).filter((vm) => vm.powerState === 'halted').map((vm) => vm.name);
  if (halted.length) steps.push(`Start the halted VMs that should run (Start on…): ${halted.join(', ')}.`);
  for (const member of monitor.inventory.members.filter((m) => isGoneHost(monitor.inventory, statuses, m.uuid))) {
    steps.push(`${member.name} is lost: repair and rejoin it, or reinstall it after Forget Host… (a forgotten host must be reinstalled before it rejoins).`);
  }
  if (monitor.vmProblem) steps.push(`Check the VMs on the master yourself: they could not be read (${monitor.vmProblem}).`);
  return steps;
}

function hostLines(monitor: PoolMonitor): string[] {
  return monitor.allStatuses().map((status) => {
    const role = hostRole(status, monitor.inventory, monitor.lastProbedStatus(status.member.uuid));
    return `${status.member.name} (${status.member.address}): ${role.replace('-', ' ')}, ${stateWord(hostState(status))}`;
  });
}

/**
 * Writes a report under the extension's storage (reports/) and opens it in an editor, without taking the focus: it
 * opens when a recovery ends, while the admin may be typing elsewhere. Returns its path.
 */
export async function writeIncidentReport(context: CommandContext, monitor: PoolMonitor, title: string, options: { since: number; recovery?: RecoveryReport }): Promise<string> {
  const now = new Date();
  const { poolName, poolUuid } = monitor.inventory;
  const text = incidentMarkdown({
    poolName,
    poolUuid,
    title,
    generatedAt: now,
    author: lockOwner(),
    ...(options.recovery ? { recovery: options.recovery } : {}),
    trail: await trailOf(context, poolName, options.since),
    hostLines: hostLines(monitor),
    nextSteps: [...(options.recovery?.nextSteps ?? []), ...currentNextSteps(monitor, options.recovery)],
  });
  const dir = path.join(path.dirname(context.recorder.auditFile), 'reports');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, incidentFileName(poolName, now, options.recovery ? 'recovery' : 'incident'));
  await fs.writeFile(file, text, { mode: 0o600 });
  context.log.info(`[report] ${poolName}: incident report written to ${file}`);
  await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false, preserveFocus: true });
  return file;
}

const PERIODS = [
  { label: 'Last 24 hours', hours: 24 },
  { label: 'Last 7 days', hours: 24 * 7 },
  { label: 'Everything in the audit trail', hours: Infinity },
] as const;

/** Export Incident Report…: for any pool, from its audit trail over a chosen period, with its state now. */
export async function exportIncidentReport(context: CommandContext, node?: XenNode): Promise<string> {
  const monitor = await resolvePool(context, node);
  const period = orCancel(await ui.current.pick(PERIODS.map((p) => ({ label: p.label, value: p })), { title: `Incident report of ${monitor.inventory.poolName}: which period?` }));
  const since = period.hours === Infinity ? 0 : Date.now() - period.hours * 3_600_000;
  const file = await writeIncidentReport(context, monitor, `Incident report: ${monitor.inventory.poolName}`, { since });
  void notify('info', `Incident report of ${monitor.inventory.poolName} written to ${file}.`);
  return file;
}
