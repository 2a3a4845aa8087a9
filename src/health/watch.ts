import * as vscode from 'vscode';
import type { CommandContext } from '../commands/context';
import type { HostStatus } from '../core/pool/model';
import { PoolNode, type XenNode } from '../tree/nodes';
import { needsAttention } from '../core/pool/vms';
import { readSettings } from '../settings';
import { notify } from '../ui';
import { hostChangeLine, MasterLossNotices, summarize, type HealthSummary } from './poolHealth';

/** An unfocused window probes this many times less often; a focused one with the view hidden, half as often. */
const UNFOCUSED_SLOWDOWN = 4;
const HIDDEN_VIEW_SLOWDOWN = 2;

/**
 * The background watch (issue 13, part 1): probes every pool at the interval of `xenPools.autoRefreshSeconds`
 * (slower while the window is not focused or the view hidden; never a second probe on a host whose probe runs),
 * and shows the result where an admin looks without opening the view: a status bar item, the view's badge, one
 * warning when a pool loses its master, and a log line for every host whose role or state changed.
 */
export class HealthWatch implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('xenPools.health', vscode.StatusBarAlignment.Left, 10);
  private readonly notices = new MasterLossNotices();
  /** Each host's last status, by pool and address (a learnt UUID keeps its host's history). */
  private readonly previous = new Map<string, HostStatus>();
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private current: HealthSummary = summarize([]);

  constructor(
    private readonly context: CommandContext,
    private readonly view: vscode.TreeView<XenNode>,
  ) {
    this.item.name = 'XenServer Pools';
    this.item.command = 'xenPools.pickPool';
    this.disposables.push(
      this.item,
      context.registry.onDidChange(({ poolUuid, hostUuid }) => this.update(poolUuid, hostUuid)),
      vscode.window.onDidChangeWindowState(() => this.schedule()),
      view.onDidChangeVisibility(() => this.schedule()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('xenPools.autoRefreshSeconds') && this.schedule()),
    );
    this.update(undefined, undefined);
    this.item.show();
    this.schedule();
  }

  /** What the status bar says now (for the tests, which cannot read the status bar itself). */
  get summary(): HealthSummary {
    return this.current;
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }

  /** The probe interval now, in ms; 0 = the watch is off. */
  private interval(): number {
    const base = readSettings().autoRefreshMs;
    if (base <= 0) return 0;
    if (!vscode.window.state.focused) return base * UNFOCUSED_SLOWDOWN;
    return this.view.visible ? base : base * HIDDEN_VIEW_SLOWDOWN;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    const interval = this.interval();
    if (interval > 0) this.timer = setTimeout(() => this.tick(), interval);
  }

  private tick(): void {
    for (const monitor of this.context.registry.pools()) void monitor.refresh(undefined, { background: true }).catch((error: Error) => this.context.log.error(`[watch] ${monitor.inventory.poolName}: ${error.message}`));
    this.schedule();
  }

  private update(poolUuid: string | undefined, hostUuid: string | undefined): void {
    if (poolUuid && hostUuid) this.logHostChange(poolUuid, hostUuid);
    const pools = this.context.registry.pools().map((monitor) => ({
      uuid: monitor.inventory.poolUuid,
      name: monitor.inventory.poolName,
      verdict: monitor.verdict,
      strandedVms: needsAttention(monitor.vms, monitor.inventory, monitor.allStatuses()).length,
    }));
    this.current = summarize(pools);
    this.item.text = this.current.text;
    this.item.tooltip = this.current.tooltip;
    this.item.backgroundColor = this.current.severity ? new vscode.ThemeColor(`statusBarItem.${this.current.severity}Background`) : undefined;
    this.view.badge = this.current.notHealthy ? { value: this.current.notHealthy, tooltip: this.current.tooltip } : undefined;
    for (const pool of pools) {
      const warning = this.notices.observe(pool);
      if (warning) this.announce(pool.uuid, warning);
    }
  }

  private logHostChange(poolUuid: string, hostUuid: string): void {
    const monitor = this.context.registry.monitor(poolUuid);
    const status = monitor?.status(hostUuid);
    if (!monitor || !status) return;
    const key = `${poolUuid}/${status.member.address}`;
    const previous = this.previous.get(key);
    if (status.health.kind !== 'probing') this.previous.set(key, status);
    const line = hostChangeLine(previous, status);
    if (line) this.context.log.info(`[probe] ${monitor.inventory.poolName}: ${line}`);
  }

  private announce(poolUuid: string, warning: string): void {
    void notify('warning', warning, 'Guided Recovery…', 'Show Log').then((choice) => {
      if (choice === 'Show Log') this.context.log.show(true);
      if (choice !== 'Guided Recovery…') return;
      const node = this.context.provider.getChildren().find((n) => n instanceof PoolNode && n.monitor.inventory.poolUuid === poolUuid);
      void vscode.commands.executeCommand('xenPools.guidedRecovery', node);
    });
  }
}
