import * as vscode from 'vscode';
import type { PoolMonitor } from '../core/pool/monitor';
import type { PoolMember } from '../core/pool/model';
import { answeringMembers } from '../core/pool/plan';
import { breakPoolLock, defaultLockOwner, PoolLockHeldError, withPoolLock } from '../core/pool/poolLock';
import type { CallRecorder } from '../audit';
import type { PoolRegistry } from '../poolRegistry';
import { HostNode, MessageNode, PoolNode, VmGroupNode, VmNode, type XenNode } from '../tree/nodes';
import type { PoolsProvider } from '../tree/PoolsProvider';
import { ui } from '../ui';
import type { ReadOnlyDocuments } from '../readOnlyDocuments';
import { hostLook, hostRole, hostState } from '../tree/presentation';

/** What every command handler may use. */
export interface CommandContext {
  readonly registry: PoolRegistry;
  readonly recorder: CallRecorder;
  readonly log: vscode.LogOutputChannel;
  readonly provider: PoolsProvider;
  readonly documents: ReadOnlyDocuments;
  readonly view: vscode.TreeView<XenNode>;
}

/** The user dismissed a prompt: not an error, nothing to report. */
export class UserCancelledError extends Error {
  constructor() {
    super('cancelled by the user');
    this.name = 'UserCancelledError';
  }
}

export function orCancel<T>(value: T | undefined): T {
  if (value === undefined) throw new UserCancelledError();
  return value;
}

/** The pool a tree row belongs to. */
export function poolOf(node: XenNode | undefined): PoolMonitor | undefined {
  if (node instanceof PoolNode) return node.monitor;
  if (node instanceof HostNode || node instanceof VmGroupNode || node instanceof MessageNode) return node.parent.monitor;
  if (node instanceof VmNode) return node.parent.parent.monitor;
  return undefined;
}

/** The command that resolves a refusal, offered as the warning's button (run on the pool it names). */
export interface Fix {
  readonly title: string;
  readonly command: string;
  readonly poolUuid: string;
}

/** A refusal that changed nothing: shown as a warning, without Retry (retrying the same input is refused again). */
export class NothingChangedError extends Error {
  constructor(
    message: string,
    readonly fix?: Fix,
  ) {
    super(message);
    this.name = 'NothingChangedError';
  }
}

/** The pool of a node, or a QuickPick of all pools when run from the palette. */
export async function resolvePool(context: CommandContext, node: XenNode | undefined): Promise<PoolMonitor> {
  const known = poolOf(node);
  if (known) return known;
  const pools = context.registry.pools();
  if (pools.length === 0) throw new Error('No pools yet: add one with "XenServer: Add Pool…".');
  if (pools.length === 1 && pools[0]) return pools[0];
  return orCancel(
    await ui.current.pick(
      pools.map((monitor) => ({ label: monitor.inventory.poolName, description: monitor.verdict?.kind ?? 'not probed', value: monitor })),
      { title: 'Choose a pool' },
    ),
  );
}

export interface HostChoice {
  readonly monitor: PoolMonitor;
  readonly member: PoolMember;
}

/** The host of a node, or a QuickPick of every known host: its state icon and words, reachable hosts first. */
export async function resolveHost(context: CommandContext, node: XenNode | undefined, title: string): Promise<HostChoice> {
  if (node instanceof HostNode) return { monitor: node.parent.monitor, member: node.status.member };
  const monitors = node instanceof PoolNode ? [node.monitor] : context.registry.pools();
  const items = monitors.flatMap((monitor) =>
    monitor.allStatuses().map((status) => {
      const state = hostState(status);
      const look = hostLook(hostRole(status, monitor.inventory, monitor.lastProbedStatus(status.member.uuid)), state);
      return { label: `$(${look.icon.replace(/~spin$/, '')}) ${status.member.name}`, description: `${look.description} · ${status.member.address} · ${monitor.inventory.poolName}`, value: { monitor, member: status.member }, answers: status.health.kind === 'probed' };
    }),
  );
  if (items.length === 0) throw new Error('No pools yet: add one with "XenServer: Add Pool…".');
  // Stable: within each half the pools' and members' own order.
  const sorted = [...items.filter((i) => i.answers), ...items.filter((i) => !i.answers)].map(({ answers: _answers, ...item }) => item);
  return orCancel(await ui.current.pick(sorted, { title }));
}

/** The host that answers as master with xapi running; commands that need the pool database go there. */
export function reachableMaster(monitor: PoolMonitor): PoolMember {
  const masters = monitor.allStatuses().filter((s) => s.health.kind === 'probed' && s.health.facts.role?.role === 'master' && s.health.facts.xapi === 'running');
  if (masters.length > 1) throw new Error(`${monitor.inventory.poolName} has two masters (split-brain): resolve that first.`);
  const master = masters[0];
  if (!master) throw new NothingChangedError(`${monitor.inventory.poolName} has no reachable master with xapi running. Refresh, or recover the pool with Guided Recovery….`, { title: 'Guided Recovery…', command: 'xenPools.guidedRecovery', poolUuid: monitor.inventory.poolUuid });
  return master.member;
}

/** How other clients see us in the pool lock: user, machine, and which VS Code window. */
export function lockOwner(): string {
  return defaultLockOwner(`${vscode.env.appName}, window ${vscode.env.sessionId.slice(0, 8)}`);
}


/**
 * Runs `work` under both locks: the window's own (one operation per pool here) and the pool's lock on its hosts
 * (one client at a time). A stale pool lock may be broken after a modal confirmation naming its holder.
 * The pool is probed again first: the lock goes to the members that answer now, not to those that answered at the
 * last refresh (a master that died since would make the lock, and with it the action, fail).
 */
export async function withPoolLocks<T>(context: CommandContext, monitor: PoolMonitor, operation: string, work: () => Promise<T>): Promise<T> {
  return context.registry.locks.withLock(monitor.inventory, operation, async () => {
    await monitor.refresh();
    for (let attempt = 0; ; attempt++) {
      try {
        return await withPoolLock(monitor.runner, monitor.inventory, answeringMembers(monitor.allStatuses()), operation, lockOwner(), work);
      } catch (error) {
        if (attempt > 0 || !(error instanceof PoolLockHeldError) || !(await offerToBreak(monitor, error))) throw error;
      }
    }
  });
}

/** Asks whether to break a stale lock; breaks it (only if it is still the one shown) and says so. */
export async function offerToBreak(monitor: PoolMonitor, error: PoolLockHeldError): Promise<boolean> {
  if (!error.stale || !error.holder) return false;
  const confirmed = await ui.current.confirm(
    `Break the stale lock on ${monitor.inventory.poolName}?`,
    `${error.message}. Break it only when you know that client has stopped (closed window, crashed machine): two clients acting on one pool is how two masters happen.`,
    'Break Lock',
  );
  if (!confirmed) return false;
  await breakPoolLock(monitor.runner, monitor.inventory.poolUuid, error.host, error.holder);
  return true;
}
