import * as vscode from 'vscode';
import type { CommandContext } from '../commands/context';
import type { HostStatus } from '../core/pool/model';
import type { PoolMonitor } from '../core/pool/monitor';
import { PoolNode, type XenNode } from '../tree/nodes';
import { needsAttention } from '../core/pool/vms';
import { WatchRotation } from '../core/pool/watchRotation';
import { DEFAULT_TRANSPORT_SETTINGS } from '../core/ssh/transport';
import { readSettings } from '../settings';
import { notify } from '../ui';
import { hostChangeLine, MasterLossNotices, summarize, type HealthSummary, type WatchedPool } from './poolHealth';

/** An unfocused window probes this many times less often; a focused one with the view hidden, half as often. */
const UNFOCUSED_SLOWDOWN = 4;
const HIDDEN_VIEW_SLOWDOWN = 2;
/** How long the status bar and the badge wait for more changes before they show them. */
const SHOW_DELAY_MS = 50;
/** The most a round of the watch waits between two pools. */
const STAGGER_MS = 250;

/**
 * The background watch (issue 13, part 1): probes the pools at the interval of `xenPools.autoRefreshSeconds`
 * (slower while the window is not focused or the view hidden; never a second probe on a host whose probe runs):
 * each round every healthy pool's master, all of any other pool, and the rest in turn (WatchRotation),
 * and shows the result where an admin looks without opening the view: a status bar item, the view's badge, one
 * warning when a pool loses its master, and a log line for every host whose role or state changed.
 */
export class HealthWatch implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('xenPools.health', vscode.StatusBarAlignment.Left, 10);
  private readonly notices = new MasterLossNotices();
  private readonly rotation = new WatchRotation();
  /** Each host's last status, by pool and address (a learnt UUID keeps its host's history). */
  private readonly previous = new Map<string, HostStatus>();
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The pools of the running round not probed yet (see tick). */
  private readonly staggered = new Set<NodeJS.Timeout>();
  /** The summary of all pools; undefined once a pool changed, until someone asks (a round sends a burst of changes). */
  private current: HealthSummary | undefined;
  private showTimer: NodeJS.Timeout | undefined;
  /** The summary the status bar item and the badge show now. */
  private shown: HealthSummary | undefined;
  /** What the status bar says of each pool, kept between changes (see update). */
  private readonly pools = new Map<string, WatchedPool>();

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
    return (this.current ??= summarize([...this.pools.values()]));
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearTimeout(this.showTimer);
    for (const timer of this.staggered) clearTimeout(timer);
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

  /**
   * One round: the hosts the rotation chooses (see WatchRotation), pool after pool spread over the first half of the
   * interval (at most STAGGER_MS apart): a thousand handshakes at once would keep the extension host busy for a
   * second, and every row waiting for it. A pool whose verdict that round changes is probed whole at once.
   */
  private tick(): void {
    const monitors = this.context.registry.pools();
    const chosen = this.rotation.select(
      monitors.map((monitor) => ({ poolUuid: monitor.inventory.poolUuid, memberUuids: monitor.inventory.members.map((m) => m.uuid), healthyMasterUuid: monitor.verdict?.kind === 'healthy' ? monitor.verdict.masterUuid : undefined })),
      readSettings().transport.maxConnections ?? DEFAULT_TRANSPORT_SETTINGS.maxConnections,
    );
    const due = monitors.filter((monitor) => (chosen.get(monitor.inventory.poolUuid) ?? []).length > 0);
    const spacing = Math.min(STAGGER_MS, this.interval() / 2 / Math.max(1, due.length));
    due.forEach((monitor, index) => {
      const timer = setTimeout(() => {
        this.staggered.delete(timer);
        this.probe(monitor, chosen.get(monitor.inventory.poolUuid) ?? []);
      }, index * spacing);
      this.staggered.add(timer);
    });
    this.schedule();
  }

  private probe(monitor: PoolMonitor, hosts: readonly string[]): void {
    if (this.context.registry.monitor(monitor.inventory.poolUuid) !== monitor) return; // removed or restarted since the round began
    const whole = hosts.length === monitor.inventory.members.length;
    const before = monitor.verdict?.kind;
    void monitor
      .refresh(whole ? undefined : hosts, { background: true })
      .then(() => (!whole && monitor.verdict?.kind !== before ? monitor.refresh(undefined, { background: true }) : undefined))
      .catch((error: Error) => this.context.log.error(`[watch] ${monitor.inventory.poolName}: ${error.message}`));
  }

  /**
   * A host's answer changes only its pool: only that pool is judged again (each pool's count of stranded VMs walks
   * its VMs, and a round of 1,024 probes sends 1,024 of these); a change without a pool (pools added, removed,
   * settings) judges all.
   */
  private update(poolUuid: string | undefined, hostUuid: string | undefined): void {
    if (poolUuid && hostUuid) this.logHostChange(poolUuid, hostUuid);
    const monitors = this.context.registry.pools();
    const changed = poolUuid ? monitors.filter((monitor) => monitor.inventory.poolUuid === poolUuid) : monitors;
    if (!poolUuid) for (const uuid of [...this.pools.keys()]) if (!monitors.some((m) => m.inventory.poolUuid === uuid)) this.pools.delete(uuid);
    for (const monitor of changed) {
      this.pools.set(monitor.inventory.poolUuid, {
        uuid: monitor.inventory.poolUuid,
        name: monitor.inventory.poolName,
        verdict: monitor.verdict,
        strandedVms: needsAttention(monitor.vms, monitor.inventory, monitor.allStatuses()).length,
      });
    }
    this.current = undefined;
    this.queueShow();
    for (const monitor of changed) {
      const pool = this.pools.get(monitor.inventory.poolUuid);
      const warning = pool && this.notices.observe(pool);
      if (pool && warning) this.announce(pool.uuid, warning);
    }
  }

  /**
   * The status bar item and the badge follow the summary 50 ms after a change, and only where it changed: each
   * setter is a message to the workbench, and a first probe of 1,024 hosts changes the summary 1,024 times while
   * the view is opening.
   */
  private queueShow(): void {
    if (!this.shown) return this.show();
    this.showTimer ??= setTimeout(() => this.show(), SHOW_DELAY_MS);
  }

  private show(): void {
    this.showTimer = undefined;
    const summary = this.summary;
    const { text, tooltip, severity, notHealthy } = summary;
    const shown = this.shown;
    if (shown?.text !== text) this.item.text = text;
    if (shown?.tooltip !== tooltip) this.item.tooltip = tooltip;
    if (!shown || shown.severity !== severity) this.item.backgroundColor = severity ? new vscode.ThemeColor(`statusBarItem.${severity}Background`) : undefined;
    if (!shown || shown.notHealthy !== notHealthy || shown.tooltip !== tooltip) this.view.badge = notHealthy ? { value: notHealthy, tooltip } : undefined;
    this.shown = summary;
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
