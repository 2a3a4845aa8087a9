import * as vscode from 'vscode';
import type { HostStatus } from '../core/pool/model';
import type { PoolMonitor } from '../core/pool/monitor';
import { hostFacts, hostLook, hostRole, hostState, poolLook, type Look } from './presentation';
import { markdownText, visibleText } from '../core/visibleText';

function icon(look: Look): vscode.ThemeIcon {
  return new vscode.ThemeIcon(look.icon, look.color ? new vscode.ThemeColor(look.color) : undefined);
}

export class PoolNode extends vscode.TreeItem {
  readonly kind = 'pool';

  constructor(readonly monitor: PoolMonitor) {
    const inventory = monitor.inventory;
    super(visibleText(inventory.poolName), vscode.TreeItemCollapsibleState.Expanded);
    const look = poolLook(monitor.verdict);
    this.id = `pool:${inventory.poolUuid}`;
    this.description = look.description;
    this.iconPath = icon(look);
    this.contextValue = look.contextValue;
    const verdict = monitor.verdict;
    const model = verdict?.kind === 'emergency' ? ` (${verdict.model === 'docs' ? 'every slave entered emergency mode, as old documentation describes' : 'only some slaves are in emergency mode: current xapi enters it only when its toolstack restarts'})` : '';
    const tooltip = new vscode.MarkdownString(`**${markdownText(inventory.poolName)}** — ${look.description}${model}\n\n`);
    tooltip.appendMarkdown(`UUID: \`${inventory.poolUuid}\`  \nMembers: ${inventory.members.length}  \nDiscovered: ${new Date(inventory.discoveredAt).toLocaleString()} from ${markdownText(inventory.discoveredFrom)}`);
    if (monitor.verdict) tooltip.appendMarkdown(`\n\n${monitor.verdict.evidence.map((line) => `- ${markdownText(line)}`).join('\n')}`);
    this.tooltip = tooltip;
    this.accessibilityInformation = { label: `Pool ${visibleText(inventory.poolName)}, ${look.description}` };
  }
}

export class HostNode extends vscode.TreeItem {
  readonly kind = 'host';
  readonly role: ReturnType<typeof hostRole>;
  readonly state: ReturnType<typeof hostState>;

  constructor(
    readonly parent: PoolNode,
    readonly status: HostStatus,
    lastKnown: HostStatus | undefined,
  ) {
    super(visibleText(status.member.name), vscode.TreeItemCollapsibleState.None);
    const verdict = parent.monitor.verdict;
    const runningMaster = verdict?.kind === 'healthy' || verdict?.kind === 'recovered' || verdict?.kind === 'hosts-down' ? verdict.masterUuid : undefined;
    this.role = hostRole(status, parent.monitor.inventory, lastKnown, runningMaster);
    this.state = hostState(status, parent.monitor.pendingTransition?.member.uuid === status.member.uuid);
    const look = hostLook(this.role, this.state);
    this.id = `host:${parent.monitor.inventory.poolUuid}:${status.member.uuid}`;
    this.description = look.description;
    this.iconPath = icon(look);
    this.contextValue = look.contextValue;
    const tooltip = new vscode.MarkdownString(`**${markdownText(status.member.name)}** — ${look.description}\n\n`);
    tooltip.appendMarkdown(hostFacts(status, this.role).map(([label, value]) => `${label}: \`${visibleText(value).replace(/`/g, "'")}\``).join('  \n'));
    this.tooltip = tooltip;
    this.accessibilityInformation = { label: `Host ${visibleText(status.member.name)}, ${look.description}` };
  }

  get address(): string {
    return this.status.member.address;
  }
}

export type XenNode = PoolNode | HostNode;
