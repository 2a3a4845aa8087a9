import * as vscode from 'vscode';
import type { PoolRegistry } from '../poolRegistry';
import { HostNode, PoolNode, type XenNode } from './nodes';

/**
 * Pools → hosts. getChildren never touches the network: it renders what the monitors know, and
 * the monitors' change events (debounced, since a refresh of many hosts sends a burst) redraw.
 */
export class PoolsProvider implements vscode.TreeDataProvider<XenNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<XenNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private pendingRefresh: NodeJS.Timeout | undefined;
  private lastRedrawAt = 0;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly registry: PoolRegistry) {
    this.subscription = registry.onDidChange(() => this.queueRefresh());
  }

  getTreeItem(element: XenNode): vscode.TreeItem {
    return element;
  }

  getChildren(element?: XenNode): XenNode[] {
    if (!element) return this.registry.pools().map((monitor) => new PoolNode(monitor)).sort((a, b) => String(a.label).localeCompare(String(b.label)));
    if (element instanceof PoolNode) {
      return element.monitor.allStatuses().map((status) => new HostNode(element, status, element.monitor.lastProbedStatus(status.member.uuid)));
    }
    return [];
  }

  getParent(element: XenNode): XenNode | undefined {
    return element instanceof HostNode ? element.parent : undefined;
  }

  /**
   * Whole tree, batched: a change after a quiet spell shows within 50 ms; while a burst goes on (a
   * refresh of a thousand hosts answers over many seconds) the tree redraws at most twice a
   * second, since every redraw sends every visible row to the workbench again.
   */
  queueRefresh(): void {
    if (this.pendingRefresh) return;
    const burst = Date.now() - this.lastRedrawAt < 1_000;
    this.pendingRefresh = setTimeout(() => {
      this.pendingRefresh = undefined;
      this.lastRedrawAt = Date.now();
      this.changed.fire(undefined);
    }, burst ? 500 : 50);
  }

  dispose(): void {
    clearTimeout(this.pendingRefresh);
    this.subscription.dispose();
    this.changed.dispose();
  }
}
