/**
 * Designate as New Master (issue 13, part 5): a planned hand-over while the master is alive. xapi's two-phase commit
 * talks to every member, so every member must answer and follow the master; HA must be off. Afterwards every host
 * must follow the new master, which is verified, not assumed.
 */
import type { HostStatus, PoolInventory, PoolMember } from './model';

function facts(statuses: readonly HostStatus[], uuid: string) {
  const health = statuses.find((s) => s.member.uuid === uuid)?.health;
  return health?.kind === 'probed' ? health.facts : undefined;
}

/** Why the hand-over to `target` must not start now; undefined when it may. */
export function designationRefusal(inventory: PoolInventory, statuses: readonly HostStatus[], target: PoolMember): string | undefined {
  if (inventory.haUnknown) return `HA's state of ${inventory.poolName} is not known yet: refresh once the master answers`;
  if (inventory.haEnabled) return `HA is enabled on ${inventory.poolName}: xapi refuses a new master then (HA_IS_ENABLED). Disable HA first (xe pool-ha-disable), designate, then enable it again`;
  const masters = statuses.filter((s) => facts(statuses, s.member.uuid)?.role?.role === 'master');
  const [master, another] = masters;
  if (!master || another) return master ? `${inventory.poolName} has two masters: resolve that first (Demote Old Master…)` : `${inventory.poolName} has no running master: a planned hand-over needs one; after a master loss use Guided Recovery…`;
  if (master.member.uuid === target.uuid) return `${target.name} is the master already`;
  for (const status of statuses) {
    const f = facts(statuses, status.member.uuid);
    const name = status.member.name;
    if (!f) return `${name} does not answer: every member must be up for a new master (xapi's two-phase commit asks each of them). Forget a dead member first (Forget Host…)`;
    if (f.xapi !== 'running') return `xapi is not running on ${name}`;
    if (status.member.uuid === master.member.uuid) continue;
    if (f.emergency) return `${name} is in emergency mode: it does not follow ${master.member.name}`;
    if (f.role?.role !== 'slave' || f.role.masterAddress !== master.member.address) return `${name} does not follow ${master.member.name}`;
  }
  return undefined;
}

/** The members that do not (yet) follow `newMaster` as it runs as master; empty once the hand-over is complete. */
export function notFollowing(statuses: readonly HostStatus[], newMaster: PoolMember): PoolMember[] {
  return statuses.flatMap((status) => {
    const f = facts(statuses, status.member.uuid);
    const ok =
      f?.xapi === 'running' &&
      (status.member.uuid === newMaster.uuid ? f.role?.role === 'master' : f.role?.role === 'slave' && f.role.masterAddress === newMaster.address && f.emergency !== true);
    return ok ? [] : [status.member];
  });
}
