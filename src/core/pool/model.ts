import type { SshConnectFailure } from '../ssh/errors';
import type { HostProbeFacts } from './probe';

/** A pool member as the inventory remembers it, so it is still known when the master is dead. */
export interface PoolMember {
  readonly uuid: string;
  readonly name: string;
  /** The management address: what pool.conf of the slaves names, and where we SSH to. */
  readonly address: string;
  /**
   * `uuid` is a stand-in (a member declared in settings without one): the host's first probe says its own UUID,
   * which then replaces it, instead of failing the identity check.
   */
  readonly provisionalUuid?: true;
}

export interface PoolInventory {
  readonly poolUuid: string;
  readonly poolName: string;
  readonly members: readonly PoolMember[];
  /** The master at discovery time. */
  readonly masterUuid: string | undefined;
  readonly defaultSrUuid: string | undefined;
  readonly haEnabled: boolean;
  /**
   * HA's state was never read: a pool declared in settings whose master has not answered yet (the monitor reads it
   * from the master as soon as one answers). A plan then disarms HA on every survivor first, harmless where it is off.
   */
  readonly haUnknown?: boolean;
  /** Per member UUID, what made it a good new master at discovery time. */
  readonly hostStats?: Readonly<Record<string, HostStats>>;
  /** Why hostStats could not be read at discovery (best effort: the pool is added without them). */
  readonly hostStatsUnread?: string;
  readonly discoveredAt: string;
  /** Which member answered the discovery. */
  readonly discoveredFrom: string;
}

export interface HostStats {
  readonly runningVms: number;
  /** A shared SR (NFS, iSCSI, …) is plugged on this host: a new master there keeps the VMs' storage. */
  readonly sharedSrAttached: boolean;
}

/** One host's state after one probe. */
export type HostHealth =
  | { readonly kind: 'probing' }
  | { readonly kind: 'unreachable'; readonly failure: SshConnectFailure | 'command-timeout'; readonly message: string }
  /** SSH worked but the answer was not the probe's (garbage, no shell, wrapper). */
  | { readonly kind: 'invalid'; readonly message: string }
  | { readonly kind: 'probed'; readonly facts: HostProbeFacts };

export interface HostStatus {
  readonly member: PoolMember;
  readonly health: HostHealth;
  readonly probedAt?: string;
  readonly durationMs?: number;
}

/** Our conclusion about a pool, with the observations that led to it, in words an admin reads. */
export type PoolVerdict =
  | { readonly kind: 'healthy'; readonly masterUuid: string; readonly evidence: readonly string[] }
  /** A (new) master runs; some members still point at another (the dead) master or are in emergency mode. */
  | { readonly kind: 'recovered'; readonly masterUuid: string; readonly stragglerUuids: readonly string[]; readonly evidence: readonly string[] }
  /**
   * A master runs and every member that answers follows it, but some members do not answer: after a recovery the
   * dead former master (formerMasterUuid: the master at discovery), else any host that is down or cannot be checked.
   */
  | { readonly kind: 'hosts-down'; readonly masterUuid: string; readonly downUuids: readonly string[]; readonly formerMasterUuid?: string; readonly evidence: readonly string[] }
  | { readonly kind: 'master-unreachable'; readonly masterAddress: string | undefined; readonly evidence: readonly string[] }
  | {
      readonly kind: 'emergency';
      readonly masterAddress: string | undefined;
      /** docs: every reachable slave entered emergency mode; code: only some (those whose toolstack restarted). */
      readonly model: 'docs' | 'code';
      readonly evidence: readonly string[];
    }
  | { readonly kind: 'split-brain'; readonly masterUuids: readonly string[]; readonly evidence: readonly string[] }
  | { readonly kind: 'ha'; readonly masterAddress: string | undefined; readonly evidence: readonly string[] }
  | { readonly kind: 'unknown'; readonly evidence: readonly string[] };
