import * as vscode from 'vscode';
import { designationRefusal, notFollowing } from '../core/pool/designate';
import { SshConnectError } from '../core/ssh/errors';
import { XeCommandError } from '../core/xe/errors';
import { xeOperations } from '../core/xe/operations';
import type { XenNode } from '../tree/nodes';
import { notify, ui } from '../ui';
import { NothingChangedError, reachableMaster, resolveHost, withPoolLocks, type CommandContext } from './context';

/**
 * How long every member may take to follow the new master: xapi's fuse (10 s) and a restart on each host, with
 * room for slow ones.
 */
export const DESIGNATION_SETTLE_MS = 180_000;
const POLL_MS = 2_000;

/**
 * Designate as New Master: `pool-designate-new-master host-uuid=…` on the running master, after the checks xapi's
 * two-phase commit needs (every member up and following, HA off), then probes until every host follows the new master.
 */
export async function designateNewMaster(context: CommandContext, node?: XenNode): Promise<boolean> {
  const { monitor, member: target } = await resolveHost(context, node, 'Which host becomes the new master?');
  const pool = monitor.inventory.poolName;
  await monitor.refresh();
  const refusal = designationRefusal(monitor.inventory, monitor.allStatuses(), target);
  if (refusal) throw new NothingChangedError(`No new master for ${pool}: ${refusal}. Nothing was changed.`);
  const master = reachableMaster(monitor);
  const others = monitor.inventory.members.filter((m) => m.uuid !== target.uuid);
  const confirmed = await ui.current.confirm(
    `Make ${target.name} the master of ${pool}?`,
    `${master.name} hands the pool over to ${target.name}: every member (${others.map((m) => m.name).join(', ')}) restarts its toolstack and follows ${target.name}. ` +
      `Running VMs keep running; management (XenCenter, Xen Orchestra, xe) is unavailable for about a minute. Management tools must then connect to ${target.address}.`,
    'Designate New Master',
  );
  if (!confirmed) return false;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Designate ${target.name} as master of ${pool}` }, (progress) =>
    withPoolLocks(context, monitor, `Designate ${target.name} as master of ${pool}`, async () => {
      // Re-checked under the lock: withPoolLocks probed every member again.
      const again = designationRefusal(monitor.inventory, monitor.allStatuses(), target);
      if (again) throw new NothingChangedError(`No new master for ${pool}: ${again}. Nothing was changed.`);
      const now = reachableMaster(monitor);
      progress.report({ message: `xe pool-designate-new-master on ${now.name}` });
      try {
        await xeOperations.designateNewMaster(monitor.runner.xe(now.address), target.uuid);
      } catch (error) {
        if (error instanceof XeCommandError || error instanceof SshConnectError) throw new NothingChangedError(`${now.name} refused to hand ${pool} over to ${target.name}: ${error.message}`);
        // No answer: the hand-over may be under way. Probing says which.
        context.log.warn(`[designate] ${pool}: no clean answer from pool-designate-new-master (${(error as Error).message}); checking the hosts`);
      }
      const deadline = Date.now() + DESIGNATION_SETTLE_MS;
      for (;;) {
        await monitor.refresh();
        const behind = notFollowing(monitor.allStatuses(), target);
        if (!behind.length) break;
        if (Date.now() > deadline) {
          throw new Error(`${pool}: after ${DESIGNATION_SETTLE_MS / 1000} s ${behind.map((m) => m.name).join(', ')} ${behind.length === 1 ? 'does' : 'do'} not follow ${target.name} as master. Refresh, and run Recover Slaves on the master if they stay behind.`);
        }
        progress.report({ message: `waiting for ${behind.map((m) => m.name).join(', ')} to follow ${target.name}` });
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      // Remembered as the master, so that its later loss reads as the master's (and the old one is no "former master").
      await context.registry.updateInventory({ ...monitor.inventory, masterUuid: target.uuid });
      context.log.info(`[designate] ${pool}: ${target.name} is the master; every member follows it`);
      void notify('info', `${target.name} is the master of ${pool}; every member follows it.`);
      return true;
    }),
  );
}
