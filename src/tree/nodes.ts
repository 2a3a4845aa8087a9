import * as vscode from 'vscode';
import type { HostStatus } from '../core/pool/model';
import type { PoolMonitor } from '../core/pool/monitor';
import { hostFacts, hostLook, hostRole, hostState, poolLook, type Look } from './presentation';
import { vmCount, vmLook } from './vmPresentation';
import { markdownText, visibleText } from '../core/visibleText';
import { formatBytes, needsAttention, type VmSnapshot } from '../core/pool/vms';
import type { GuestVm } from '../core/xe/operations';

function icon(look: Look): vscode.ThemeIcon {
  return new vscode.ThemeIcon(look.icon, look.color ? new vscode.ThemeColor(look.color) : undefined);
}

/**
 * A pool's row. One object per pool for as long as its monitor runs (the provider keeps it), updated in place:
 * VS Code redraws a single pool only for the very object it was given, so a change on one host redraws that
 * pool's rows, not the whole tree.
 */
export class PoolNode extends vscode.TreeItem {
  readonly kind = 'pool';
  /** Its hosts' rows, one object per member for as long as this row lives (see HostNode). */
  readonly hostRows = new Map<string, HostNode>();

  constructor(readonly monitor: PoolMonitor) {
    super(visibleText(monitor.inventory.poolName), vscode.TreeItemCollapsibleState.Expanded);
    this.id = `pool:${monitor.inventory.poolUuid}`;
    this.update();
  }

  /** Takes the monitor's state now; true when the label changed (the pools' order may have too). */
  update(): boolean {
    const inventory = this.monitor.inventory;
    const label = visibleText(inventory.poolName);
    const renamed = label !== this.label;
    this.label = label;
    const look = poolLook(this.monitor.verdict);
    this.description = look.description;
    this.iconPath = icon(look);
    this.contextValue = look.contextValue;
    // Made when the row is hovered (see PoolsProvider.resolveTreeItem): a Markdown tooltip costs both sides of every redraw.
    this.tooltip = undefined;
    this.accessibilityInformation = { label: `Pool ${label}, ${look.description}` };
    return renamed;
  }

  describe(): vscode.MarkdownString {
    const { monitor } = this;
    const { inventory, verdict } = monitor;
    const look = poolLook(verdict);
    const model = verdict?.kind === 'emergency' ? ` (${verdict.model === 'docs' ? 'every slave entered emergency mode, as old documentation describes' : 'only some slaves are in emergency mode: current xapi enters it only when its toolstack restarts'})` : '';
    const tooltip = new vscode.MarkdownString(`**${markdownText(inventory.poolName)}** — ${look.description}${model}\n\n`);
    // A pool declared in settings was never discovered (its discoveredAt is the epoch).
    const origin = Date.parse(inventory.discoveredAt) > 0 ? `Discovered: ${new Date(inventory.discoveredAt).toLocaleString()} from ${markdownText(inventory.discoveredFrom)}` : 'Declared in the xenPools.pools setting';
    tooltip.appendMarkdown(`UUID: \`${inventory.poolUuid}\`  \nMembers: ${inventory.members.length}  \n${origin}`);
    const stranded = needsAttention(monitor.vms, inventory, monitor.allStatuses()).length;
    if (stranded) tooltip.appendMarkdown(`\n\n**${vmCount(stranded)} marked running on lost hosts**: reset their power state once those hosts are off, then start them elsewhere.`);
    if (verdict) tooltip.appendMarkdown(`\n\n${verdict.evidence.map((line) => `- ${markdownText(line)}`).join('\n')}`);
    return tooltip;
  }

  /** What the pool's own row shows: when it changes, the pool is redrawn with all its rows. */
  rowKey(): string {
    return rowKey(this, poolLook(this.monitor.verdict));
  }
}

/** What a row shows, as one string: a redraw is sent only when it changes. */
function rowKey(item: vscode.TreeItem, look: Look): string {
  return JSON.stringify([item.label, item.description, look.icon, look.color, item.contextValue, item.collapsibleState]);
}

/**
 * A host's row. One object per member while its pool's row lives, updated in place like PoolNode: a probe's answer
 * redraws this row alone when the pool's own rows stay as they are.
 */
export class HostNode extends vscode.TreeItem {
  readonly kind = 'host';
  role!: ReturnType<typeof hostRole>;
  state!: ReturnType<typeof hostState>;
  status!: HostStatus;
  /** The VMs the master's database has on this host: its children, collapsed (a big pool opens fast). */
  vms: readonly GuestVm[] = [];

  constructor(
    readonly parent: PoolNode,
    status: HostStatus,
  ) {
    super(visibleText(status.member.name), vscode.TreeItemCollapsibleState.None);
    this.id = `host:${parent.monitor.inventory.poolUuid}:${status.member.uuid}`;
    // The default action (Enter or a click): the host's details.
    this.command = { command: 'xenPools.showHostDetails', title: 'Show Host Details', arguments: [this] };
  }

  /** Takes the host's state now; true when its row shows something else than before. */
  update(status: HostStatus, lastKnown: HostStatus | undefined, vms: readonly GuestVm[]): boolean {
    const before = this.status ? rowKey(this, hostLook(this.role, this.state)) : '';
    const monitor = this.parent.monitor;
    const verdict = monitor.verdict;
    const runningMaster = verdict?.kind === 'healthy' || verdict?.kind === 'recovered' || verdict?.kind === 'hosts-down' ? verdict.masterUuid : undefined;
    this.status = status;
    this.vms = vms;
    this.role = hostRole(status, monitor.inventory, lastKnown, runningMaster);
    this.state = hostState(status, monitor.pendingTransition?.member.uuid === status.member.uuid);
    const look = hostLook(this.role, this.state);
    this.label = visibleText(status.member.name);
    this.collapsibleState = vms.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
    this.description = look.description;
    this.iconPath = icon(look);
    this.contextValue = look.contextValue;
    this.tooltip = undefined; // see PoolNode.update
    this.accessibilityInformation = { label: `Host ${visibleText(status.member.name)}, ${look.description}` };
    return rowKey(this, look) !== before;
  }

  describe(): vscode.MarkdownString {
    const look = hostLook(this.role, this.state);
    const tooltip = new vscode.MarkdownString(`**${markdownText(this.status.member.name)}** — ${look.description}\n\n`);
    const facts = [...hostFacts(this.status, this.role), ...(this.vms.length ? [['VMs', vmCount(this.vms.length)] as [string, string]] : [])];
    tooltip.appendMarkdown(facts.map(([label, value]) => `${label}: \`${visibleText(value).replace(/`/g, "'")}\``).join('  \n'));
    return tooltip;
  }

  get address(): string {
    return this.status.member.address;
  }
}

const OPEN_ATTENTION_GROUP_UP_TO = 10;

/** A pool-level group of VMs: those stranded on lost hosts ("Needs attention"), and the halted ones. */
export class VmGroupNode extends vscode.TreeItem {
  readonly kind = 'vm-group';

  constructor(
    readonly parent: PoolNode,
    readonly group: 'attention' | 'halted',
    readonly vms: readonly GuestVm[],
  ) {
    // Needs attention opens by itself while its VMs fit on the screen; the 200 VMs of a big host would push
    // every other row of the pools out of sight.
    const open = group === 'attention' && vms.length <= OPEN_ATTENTION_GROUP_UP_TO;
    super(group === 'attention' ? 'Needs attention' : 'Halted VMs', open ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
    this.id = `vm-group:${parent.monitor.inventory.poolUuid}:${group}`;
    // Short: the side bar cuts the rest; the tooltip says why they need attention.
    this.description = vmCount(vms.length);
    this.iconPath = group === 'attention' ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')) : new vscode.ThemeIcon('vm-outline');
    this.contextValue = group === 'attention' ? 'vmGroup.attention' : 'vmGroup.halted';
    this.tooltip =
      group === 'attention'
        ? 'The pool database still shows these VMs running on hosts that do not answer. Nobody runs them and nothing can start them until their power state is reset, which is safe only once each such host is powered off or fenced.'
        : 'VMs that are halted: start them on a host with Start on….';
  }
}

/** A VM under its host or in a group. */
export class VmNode extends vscode.TreeItem {
  readonly kind = 'vm';

  constructor(
    readonly parent: HostNode | VmGroupNode,
    readonly vm: GuestVm,
    readonly stranded: boolean,
    private readonly snapshot: VmSnapshot,
  ) {
    super(visibleText(vm.name), vscode.TreeItemCollapsibleState.None);
    const monitor = parent.parent.monitor;
    const look = vmLook(vm, stranded);
    this.id = `vm:${monitor.inventory.poolUuid}:${parent instanceof HostNode ? parent.status.member.uuid : parent.group}:${vm.uuid}`;
    this.description = look.description;
    this.iconPath = icon(look);
    this.contextValue = look.contextValue;
    this.accessibilityInformation = { label: `VM ${visibleText(vm.name)}, ${look.description}` };
  }

  describe(): vscode.MarkdownString {
    const { vm, snapshot } = this;
    const monitor = this.parent.parent.monitor;
    const look = vmLook(vm, this.stranded);
    const hostName = vm.residentOn ? (monitor.inventory.members.find((m) => m.uuid === vm.residentOn)?.name ?? vm.residentOn) : '—';
    const srs = vm.diskSrUuids.map((uuid) => snapshot.srNames.get(uuid) ?? uuid);
    const facts: [string, string][] = [
      ['UUID', vm.uuid],
      ['Power state', vm.powerState],
      ['Resident on', hostName],
      ['Memory', vm.memoryBytes === undefined ? 'unknown' : formatBytes(vm.memoryBytes)],
      ['Disks on', srs.length ? srs.join(', ') : 'no disks'],
      ['As of', new Date(snapshot.readAt).toLocaleString()],
    ];
    const tooltip = new vscode.MarkdownString(`**${markdownText(vm.name)}** — ${look.description}\n\n`);
    tooltip.appendMarkdown(facts.map(([label, value]) => `${label}: \`${visibleText(value).replace(/`/g, "'")}\``).join('  \n'));
    return tooltip;
  }
}

/** Something about the pool an admin must see in the tree, not only in a toast: the last command that failed or was refused, why its VMs cannot be read. */
export class MessageNode extends vscode.TreeItem {
  readonly kind = 'message';

  constructor(
    readonly parent: PoolNode,
    key: string,
    text: string,
    detail: string,
    severity: 'info' | 'warning' | 'error' = 'info',
  ) {
    super(visibleText(text), vscode.TreeItemCollapsibleState.None);
    this.id = `message:${parent.monitor.inventory.poolUuid}:${key}`;
    const color = severity === 'error' ? 'problemsErrorIcon.foreground' : severity === 'warning' ? 'problemsWarningIcon.foreground' : undefined;
    this.iconPath = new vscode.ThemeIcon(severity, color ? new vscode.ThemeColor(color) : undefined);
    this.tooltip = visibleText(detail);
    this.contextValue = `message.${key}`;
  }
}

export type XenNode = PoolNode | HostNode | VmGroupNode | VmNode | MessageNode;
