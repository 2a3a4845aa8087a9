/** The simulator's types: timing, options, one host's state and faults, and the snapshot the lab persists. */
import type { PoolDb } from './db';
import type { XapiError, XapiVersion } from './texts';

export type EmergencyModel = 'code' | 'docs';
export type XapiState = 'running' | 'restarting' | 'stopped';
export type OutputFault = 'garbage' | 'truncate' | null;

export interface Durations {
  /** Fuse before a role-changing restart (`in 10. seconds...`). */
  fuse: number;
  /** xapi start-up time after it was stopped (added to the fuse for role changes). */
  startup: number;
  /** docs model: a slave enters emergency mode this long after losing its master (D.1, "sixty seconds"). */
  docsEmergency: number;
  /** HA: automatic master election after the master has been lost this long (D.5, 60 s). */
  haTimeout: number;
  /** An emergency-mode slave retries Pool.hello this often (D.1: 5 s on a temporary error). */
  helloRetry: number;
  /** How long the `xe-toolstack-restart` script itself runs before printing "done.". */
  toolstackRestart: number;
  /** The master pushes its DB to one slave at a time, this far apart (D.1, pool_db_sync_interval 300 s). */
  dbSync: number;
  /**
   * check_no_other_masters runs late in a master's start-up, after its DB is up and pool-list already names it
   * (xapi.ml server_init order): this long after xapi answers. Unconfirmed figure; a longer window is harsher.
   */
  masterCheckDelay: number;
  /** What each unreachable host costs check_no_other_masters (and recover-slaves): one connect attempt. Unconfirmed. */
  connectAttempt: number;
  /** How long `vm-start` takes to boot a VM before it returns. Unconfirmed figure. */
  vmStart: number;
}

export const DEFAULT_DURATIONS: Durations = {
  fuse: 10,
  startup: 5,
  docsEmergency: 60,
  haTimeout: 60,
  helloRetry: 5,
  toolstackRestart: 3,
  dbSync: 300,
  masterCheckDelay: 5,
  connectAttempt: 10,
  vmStart: 3,
};

export interface SimOptions {
  name: string;
  addresses: string[];
  model: EmergencyModel;
  ha: boolean;
  timeScale: number;
  version: XapiVersion;
  password: string;
  durations?: Partial<Durations>;
  vmsPerHost?: number;
  /** memory-total per host in bytes (index 0 = host 1); default 128 GiB each. */
  hostMemory?: number[];
  poolName?: string;
  /** Tick period of the timing loop in ms (default 20). */
  tickMs?: number;
}

export interface HostFaults {
  power: 'on' | 'off';
  blackhole: boolean;
  xapiDown: boolean;
  /** Every `xe` call on the host is delayed by this (fault `slow-xapi`). */
  slowMs: number;
  /** Every SSH command on the host is delayed by this (fault `slow`; applied by the lab through root's shell). */
  sessionDelayMs: number;
  output: OutputFault;
  /** The one xe subcommand the output fault applies to; null = every command. */
  outputOnly: string | null;
  hostKeyChanged: boolean;
  wrongPassword: boolean;
}

export interface SimHost {
  index: number; // 1-based
  uuid: string;
  name: string;
  address: string;
  /**
   * The role xapi runs in (its in-memory Pool_role). pool.conf says the same, except during a role change's fuse:
   * then `poolConf` holds what pool.conf already says, and xapi keeps serving in `role` until the fuse ends
   * (xapi_fuse.ml). The lab's state and the hosts' pool.conf show `poolConf ?? role`.
   */
  role: string;
  poolConf: string | null;
  fuseEndsAt: number | null;
  /** check_no_other_masters in progress: when it asks the next host of its DB, and which one. */
  masterCheck: { at: number; next: number } | null;
  xapi: XapiState;
  xapiUpAt: number | null;
  emergency: boolean;
  emergencyError: XapiError | null;
  /** localdb ha_armed */
  haArmed: boolean;
  /** This host's own copy of the pool database (possibly stale, D.1). */
  db: PoolDb;
  faults: HostFaults;
  lostMasterSince: number | null;
  nextHelloAt: number | null;
  nextSyncAt: number | null;
  syncCursor: number;
  restarts: number;
}

export interface XeResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface ExecOptions {
  signal?: AbortSignal;
  /** 'xe' (default) or the `xe-toolstack-restart` script. */
  program?: 'xe' | 'xe-toolstack-restart';
}

export interface SimEvent {
  t: number;
  host: number;
  what: string;
}
export interface LabStateSnapshot {
  name: string;
  version: XapiVersion;
  model: EmergencyModel;
  ha: boolean;
  timeScale: number;
  durations: Durations;
  partitions: string[];
  pendingCalls: number;
  updatedAt: string;
  hosts: {
    index: number;
    uuid: string;
    name: string;
    address: string;
    role: string;
    xapi: XapiState;
    emergency: boolean;
    emergencyError: XapiError | null;
    haArmed: boolean;
    faults: HostFaults;
    restarts: number;
    db: PoolDb;
  }[];
}
