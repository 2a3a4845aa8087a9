import { xeOperations } from '../xe/operations';
import type { HostRunner } from './hostAccess';
import type { XeRunner } from '../xe/operations';
import type { HostStats, HostStatus, PoolInventory } from './model';
import type { HostProbeFacts } from './probe';
import { probeHost, type ProbeOptions } from './prober';

/** Discovery could not list the pool's members; the message says why and what to do. */
export class DiscoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiscoveryError';
  }
}

function why(status: HostStatus): string | undefined {
  const health = status.health;
  if (health.kind === 'unreachable' || health.kind === 'invalid') return health.message;
  if (health.kind !== 'probed') return 'not probed';
  if (!health.facts.role) return health.facts.roleProblem ?? 'its role is unknown';
  return xapiProblem(health.facts);
}

/** Why discovery cannot ask this host's xapi, as the probe saw it. */
function xapiProblem(facts: HostProbeFacts): string | undefined {
  switch (facts.xapi) {
    case 'running':
      return undefined;
    case 'missing':
      return 'xe is not found there (not a XenServer / XCP-ng host, or xe is not on its PATH)';
    case 'hung':
      return 'its xapi does not answer (xe host-is-in-emergency-mode hung)';
    case 'down':
      return 'its xapi is not running (xe: connection refused); start its toolstack (xe-toolstack-restart) first';
    case 'unknown':
      return `xe host-is-in-emergency-mode failed there (${facts.emergencyFailure?.code ?? 'no reason given'})`;
  }
}

/**
 * Lists a pool's members from any reachable member: a master answers itself; a slave names its
 * master, which is asked instead — never the slave itself, whose forwarded `xe` calls would hang
 * if that master is dead. The result is cached by the caller so the members stay known later.
 */
export async function discoverPool(runner: HostRunner, address: string, options?: ProbeOptions): Promise<PoolInventory> {
  const first = await probeHost(runner, { uuid: '', name: address, address }, options);
  const problem = why(first);
  if (problem) throw new DiscoveryError(`Cannot discover the pool from ${address}: ${problem}`);
  const facts = first.health.kind === 'probed' ? first.health.facts : undefined;
  let masterAddress = address;
  if (facts?.role?.role === 'broken') throw new DiscoveryError(`${address} is in the "broken" role (a failed HA failover); repair it before adding the pool`);
  if (facts?.role?.role === 'slave') {
    masterAddress = facts.role.masterAddress;
    const master = await probeHost(runner, { uuid: '', name: masterAddress, address: masterAddress }, options);
    const masterProblem = why(master) ?? (master.health.kind === 'probed' && master.health.facts.role?.role !== 'master' ? 'it does not consider itself the master' : undefined);
    if (masterProblem) {
      throw new DiscoveryError(
        `${address} is a slave of ${masterAddress}, and that master cannot list the members: ${masterProblem}. ` +
          'Only a working master knows the pool; add the pool through a member while its master is up (the product remembers the members for when it dies).',
      );
    }
  }
  const run = runner.xe(masterAddress, options ? { timeoutMs: options.commandTimeoutMs, signal: options.signal } : undefined);
  const pool = await xeOperations.pool(run);
  const hosts = await xeOperations.hosts(run);
  const haEnabled = await xeOperations.haEnabled(run, pool.uuid);
  // Best effort: what helps choose a new master later, never a reason to refuse the pool.
  const stats = await collectHostStats(run, hosts.map((h) => h.uuid)).then(
    (hostStats) => ({ hostStats }),
    (error: Error) => ({ hostStatsUnread: error.message }),
  );
  return {
    poolUuid: pool.uuid,
    poolName: pool.name,
    members: hosts.map((h) => ({ uuid: h.uuid, name: h.name, address: h.address })),
    masterUuid: pool.masterUuid ?? undefined,
    defaultSrUuid: pool.defaultSrUuid ?? undefined,
    haEnabled,
    ...stats,
    discoveredAt: new Date().toISOString(),
    discoveredFrom: address,
  };
}

async function collectHostStats(run: XeRunner, hostUuids: readonly string[]): Promise<Record<string, HostStats>> {
  const [vms, srs, pbds] = [await xeOperations.runningVmPlacements(run), await xeOperations.srs(run), await xeOperations.pbds(run)];
  const shared = new Set(srs.filter((sr) => sr.shared).map((sr) => sr.uuid));
  return Object.fromEntries(
    hostUuids.map((uuid) => [
      uuid,
      {
        runningVms: vms.filter((vm) => vm.residentOn === uuid).length,
        sharedSrAttached: pbds.some((pbd) => pbd.hostUuid === uuid && pbd.attached && pbd.srUuid !== null && shared.has(pbd.srUuid)),
      },
    ]),
  );
}
