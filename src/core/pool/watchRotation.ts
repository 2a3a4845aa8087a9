/** A pool as the background watch sees it: its members, and its master while it is healthy. */
export interface RotationPool {
  readonly poolUuid: string;
  readonly memberUuids: readonly string[];
  /** The master of a pool judged healthy; undefined for any other verdict (a pool in trouble is probed whole). */
  readonly healthyMasterUuid: string | undefined;
}

/**
 * Which hosts each tick of the background watch probes. A probe on a host whose connection was closed costs the
 * extension host a new SSH handshake (about 4 ms of CPU in ssh2), and with more hosts than `xenPools.maxConnections`
 * nearly every probe needs one: 1,024 hosts every 30 s would take some 13 % of a core. So a tick probes
 *  - every healthy pool's master: the loss of a master, what the watch is for, shows within one interval;
 *  - every member of a pool that is not healthy (no master, hosts down, recovered with leftovers): while a pool is
 *    in trouble, all of it stays current;
 *  - of the other members, `budget` in turn, so each is probed at least every ceil(others / budget) ticks — every
 *    tick while there are no more of them than the budget (any pool of up to `budget` + 1 hosts, alone).
 * For comparison, xapi itself marks a dead slave not live only after 600 s without its heartbeat
 * (host_assumed_dead_interval), which is what XenCenter shows.
 */
export class WatchRotation {
  /** Where the turn of the other members goes on at the next tick, as "<pool>/<host>". */
  private next: string | undefined;

  select(pools: readonly RotationPool[], budget: number): Map<string, string[]> {
    const chosen = new Map<string, string[]>();
    const add = (poolUuid: string, hostUuid: string) => chosen.set(poolUuid, [...(chosen.get(poolUuid) ?? []), hostUuid]);
    const others: { readonly poolUuid: string; readonly hostUuid: string }[] = [];
    for (const pool of pools) {
      for (const hostUuid of pool.memberUuids) {
        if (pool.healthyMasterUuid === undefined || hostUuid === pool.healthyMasterUuid) add(pool.poolUuid, hostUuid);
        else others.push({ poolUuid: pool.poolUuid, hostUuid });
      }
    }
    if (others.length <= budget) {
      for (const other of others) add(other.poolUuid, other.hostUuid);
      this.next = undefined;
      return chosen;
    }
    // Go on where the last tick stopped; a host gone since (forgotten, pool removed) restarts the turn.
    const key = (other: (typeof others)[number]) => `${other.poolUuid}/${other.hostUuid}`;
    const start = Math.max(0, others.findIndex((other) => key(other) === this.next));
    for (let i = 0; i < budget; i++) {
      const other = others[(start + i) % others.length];
      if (other) add(other.poolUuid, other.hostUuid);
    }
    const following = others[(start + budget) % others.length];
    this.next = following ? key(following) : undefined;
    return chosen;
  }
}
