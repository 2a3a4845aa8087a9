import * as vscode from 'vscode';
import type { PoolRegistry } from '../poolRegistry';
import { HostNode, MessageNode, PoolNode, VmGroupNode, VmNode, type XenNode } from './nodes';
import { isGoneHost, needsAttention } from '../core/pool/vms';
import type { GuestVm } from '../core/xe/operations';

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

/**
 * Pools → hosts → VMs, plus a pool's VM groups (Needs attention, Halted VMs) and messages. getChildren never
 * touches the network: it renders what the monitors know, and the monitors' change events (debounced, since a
 * refresh of many hosts sends a burst) redraw.
 */
export class PoolsProvider implements vscode.TreeDataProvider<XenNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<XenNode | XenNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private pendingRefresh: NodeJS.Timeout | undefined;
  private lastRedrawAt = 0;
  /** Each pool's row object, reused while its monitor runs (see PoolNode). */
  private readonly poolNodes = new Map<string, PoolNode>();
  /** What the next redraw covers: the pools that changed, or everything (a pool added or removed, settings). */
  private pending: { readonly all: boolean; readonly pools: Set<string> } = { all: false, pools: new Set() };
  private readonly subscription: vscode.Disposable;
  /** What each pool showed at its last redraw besides its host rows (see poolShape). */
  private readonly shapes = new Map<string, string>();
  /** The last command on each pool that failed or was refused: shown under the pool until one succeeds there. */
  private readonly failures = new Map<string, { readonly refused: boolean; readonly message: string; readonly at: Date }>();

  constructor(private readonly registry: PoolRegistry) {
    this.subscription = registry.onDidChange(({ poolUuid }) => this.queueRefresh(poolUuid));
  }

  getTreeItem(element: XenNode): vscode.TreeItem {
    return element;
  }

  /**
   * Tooltips are made when a row is hovered: a Markdown tooltip is parsed on both sides of every redraw, and a
   * first probe of 1,024 hosts redraws each row at least once.
   */
  resolveTreeItem(item: vscode.TreeItem, element: XenNode): vscode.TreeItem {
    if (element instanceof PoolNode || element instanceof HostNode || element instanceof VmNode) item.tooltip = element.describe();
    return item;
  }

  getChildren(element?: XenNode): XenNode[] {
    if (!element) return this.poolRows();
    if (element instanceof PoolNode) return this.poolChildren(element);
    const snapshot = element.kind === 'host' || element.kind === 'vm-group' ? element.parent.monitor.vms : undefined;
    if (snapshot && (element instanceof HostNode || element instanceof VmGroupNode)) {
      const stranded = element instanceof VmGroupNode ? element.group === 'attention' : isGoneHost(element.parent.monitor.inventory, element.parent.monitor.allStatuses(), element.status.member.uuid);
      return element.vms.map((vm) => new VmNode(element, vm, stranded && vm.powerState !== 'halted', snapshot));
    }
    return [];
  }

  private poolRows(): PoolNode[] {
    const monitors = this.registry.pools();
    const running = new Set(monitors.map((monitor) => monitor.inventory.poolUuid));
    for (const uuid of this.poolNodes.keys()) if (!running.has(uuid)) this.poolNodes.delete(uuid);
    const rows = monitors.map((monitor) => {
      const uuid = monitor.inventory.poolUuid;
      let row = this.poolNodes.get(uuid);
      if (row?.monitor === monitor) row.update();
      else this.poolNodes.set(uuid, (row = new PoolNode(monitor)));
      return row;
    });
    return rows.sort((a, b) => String(a.label).localeCompare(String(b.label)));
  }

  private poolChildren(pool: PoolNode): XenNode[] {
    const monitor = pool.monitor;
    const snapshot = monitor.vms;
    const statuses = monitor.allStatuses();
    const attention = needsAttention(snapshot, monitor.inventory, statuses);
    // What the workbench is about to show: a host's next change needs only its own row redrawn.
    this.shapes.set(monitor.inventory.poolUuid, this.poolShape(pool, statuses, attention.length));
    const children: XenNode[] = [];
    if (attention.length) children.push(new VmGroupNode(pool, 'attention', [...attention].sort(byName)));
    children.push(...this.hostRows(pool).map(({ row }) => row));
    const halted = (snapshot?.vms ?? []).filter((vm) => vm.powerState === 'halted');
    if (halted.length) children.push(new VmGroupNode(pool, 'halted', [...halted].sort(byName)));
    const failure = this.failures.get(monitor.inventory.poolUuid);
    if (failure) {
      const row = new MessageNode(pool, 'failure', failure.refused ? 'Refused' : 'Failed', `${failure.message}\n\n${failure.at.toLocaleString()}`, failure.refused ? 'warning' : 'error');
      row.description = failure.message;
      children.unshift(row);
    }
    // Said in the tree when VMs shown are old, or a master answered and still the VMs could not be read.
    const problem = monitor.vmProblem;
    if (problem && monitor.verdict && (snapshot || monitor.vmReadFailed)) {
      const text = snapshot ? `VMs as of ${new Date(snapshot.readAt).toLocaleTimeString()}` : 'VMs not read';
      children.push(new MessageNode(pool, 'vms', text, `${problem}. VMs are read from the running master only: forwarded commands hang on a slave whose master is dead.`));
    }
    return children;
  }

  /** The pool's host rows, each brought up to date: the pool's own objects (see HostNode), and whether each changed. */
  private hostRows(pool: PoolNode): { readonly row: HostNode; readonly changed: boolean }[] {
    const monitor = pool.monitor;
    const resident = new Map<string, GuestVm[]>();
    for (const vm of monitor.vms?.vms ?? []) {
      if (vm.residentOn === null || vm.powerState === 'halted') continue;
      resident.set(vm.residentOn, [...(resident.get(vm.residentOn) ?? []), vm]);
    }
    const statuses = monitor.allStatuses();
    const members = new Set(statuses.map((status) => status.member.uuid));
    for (const uuid of pool.hostRows.keys()) if (!members.has(uuid)) pool.hostRows.delete(uuid);
    return statuses.map((status) => {
      const uuid = status.member.uuid;
      let row = pool.hostRows.get(uuid);
      if (!row) pool.hostRows.set(uuid, (row = new HostNode(pool, status)));
      const changed = row.update(status, monitor.lastProbedStatus(uuid), (resident.get(uuid) ?? []).sort(byName));
      return { row, changed };
    });
  }

  /**
   * What a pool shows besides its host rows' own text: its row, which rows it has, the groups' counts, the VMs read,
   * its messages. While this stays the same, a host's new state redraws that host's row alone.
   */
  private poolShape(pool: PoolNode, statuses = pool.monitor.allStatuses(), attention = needsAttention(pool.monitor.vms, pool.monitor.inventory, statuses).length): string {
    const monitor = pool.monitor;
    const failure = this.failures.get(monitor.inventory.poolUuid);
    return JSON.stringify([pool.rowKey(), statuses.map((s) => s.member.uuid), monitor.vms?.readAt, attention, failure?.message, failure?.at.getTime(), monitor.vmProblem, monitor.vmReadFailed, Boolean(monitor.verdict)]);
  }

  /** A command on the pool failed (or was refused): the pool shows it as a row, not only as a toast. */
  noteFailure(poolUuid: string, refused: boolean, message: string): void {
    this.failures.set(poolUuid, { refused, message, at: new Date() });
    this.queueRefresh(poolUuid);
  }

  /** A command on the pool succeeded, or the admin dismissed the row. */
  clearFailure(poolUuid: string): void {
    if (this.failures.delete(poolUuid)) this.queueRefresh(poolUuid);
  }

  getParent(element: XenNode): XenNode | undefined {
    return element instanceof PoolNode ? undefined : element.parent;
  }

  /**
   * Batched redraws. A change on a pool redraws that pool's rows only, 30 ms after it (a probe's answer is on
   * screen well within 100 ms, and the changes of a refresh answering together go out as one). The whole tree
   * (a pool added or removed, settings) is sent at most twice a second while changes keep coming, since that
   * sends every visible row to the workbench again.
   */
  queueRefresh(poolUuid?: string): void {
    if (poolUuid) this.pending.pools.add(poolUuid);
    else this.pending = { all: true, pools: this.pending.pools };
    if (this.pendingRefresh) return;
    const burst = this.pending.all && Date.now() - this.lastRedrawAt < 1_000;
    this.pendingRefresh = setTimeout(() => this.redraw(), burst ? 500 : 30);
  }

  private redraw(): void {
    this.pendingRefresh = undefined;
    const { all, pools } = this.pending;
    this.pending = { all: false, pools: new Set() };
    const rows: XenNode[] = [];
    let whole = all;
    for (const uuid of pools) {
      const monitor = this.registry.monitor(uuid);
      // Removed (a probe it had running still answers): its removal redrew the list.
      if (!monitor) continue;
      const row = this.poolNodes.get(uuid);
      // A pool not shown yet, or renamed (its place in the sorted list changes), needs the whole list.
      if (row?.monitor !== monitor || row.update()) {
        whole = true;
        continue;
      }
      // The pool with all its rows when it shows something new of its own; else only the host rows that changed
      // (none, when a probe found what was shown).
      const shape = this.poolShape(row);
      const hosts = this.hostRows(row);
      if (shape !== this.shapes.get(uuid)) rows.push(row);
      else rows.push(...hosts.filter((host) => host.changed).map((host) => host.row));
      this.shapes.set(uuid, shape);
    }
    if (whole) {
      this.lastRedrawAt = Date.now();
      this.changed.fire(undefined);
    } else if (rows.length) this.changed.fire(rows);
  }

  dispose(): void {
    clearTimeout(this.pendingRefresh);
    this.subscription.dispose();
    this.changed.dispose();
  }
}
