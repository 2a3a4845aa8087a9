import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { shellQuote } from '../xe/shellQuote';
import type { HostRunner } from './hostAccess';
import type { PoolMember } from './model';

/**
 * Where the lock lives on each host: tmpfs on dom0, so a rebooted host holds no lock (a reboot ends whatever
 * was running against it anyway).
 */
export const LOCK_ROOT = '/run/xenserver-pools';

/** A lock not renewed for this long is stale: its holder crashed or lost the hosts. Renewed at every step. */
export const LOCK_TTL_SECONDS = 900;

/** Who holds a pool's lock, as its holder wrote it on the host. */
export interface LockHolder {
  readonly owner: string;
  readonly operation: string;
  /** ISO time on the holder's clock. */
  readonly since: string;
  /** Seconds since the epoch on the host's clock: compared there, so clock skew between clients does not matter. */
  readonly expiresAt: number;
  readonly token: string;
}

/** Another client works on this pool (another window, another admin): nothing was started. */
export class PoolLockHeldError extends Error {
  constructor(
    readonly poolName: string,
    readonly host: PoolMember,
    readonly holder: LockHolder | undefined,
    /** The holder's lock expired: it may be broken, after the admin confirms its work has stopped. */
    readonly stale: boolean,
  ) {
    const who = holder ? `${holder.owner}: "${holder.operation}" since ${new Date(holder.since).toLocaleString()}` : 'another client (its lock is being written)';
    super(
      stale
        ? `${poolName} has a stale lock from ${who} on ${host.name}, expired at ${new Date(holder ? holder.expiresAt * 1000 : 0).toLocaleString()}: break it only when that work has certainly stopped`
        : `${poolName} is being worked on by ${who} (lock on ${host.name}): wait for it to finish`,
    );
    this.name = 'PoolLockHeldError';
  }
}

/** Who we are, as other clients will read it. */
export function defaultLockOwner(detail?: string): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (container): the host name still says where it runs
  }
  return `${user}@${os.hostname()}${detail ? ` (${detail})` : ''}, pid ${process.pid}`;
}

function lockDir(poolUuid: string): string {
  return `${LOCK_ROOT}/lock-${poolUuid}`;
}

const MARK = '@@lock';
/** Lock commands are scripts: errors name them by what they do. */
const LOCK_CALL = { timeoutMs: 10_000, display: 'the pool lock script' } as const;

/**
 * One script per host: take the lock with mkdir (atomic), or say who holds it and whether it expired. The holder
 * file is written after the mkdir; a reader that comes in between sees no holder and treats the lock as held.
 */
function acquireScript(poolUuid: string, holderJson: string): string {
  const dir = shellQuote(lockDir(poolUuid));
  const body = shellQuote(holderJson);
  return [
    `mkdir -p ${shellQuote(LOCK_ROOT)} 2>/dev/null`,
    `now=$(date +%s)`,
    `if mkdir ${dir} 2>/dev/null; then printf '%s' ${body} | sed "s/@@EXPIRES@@/$((now + ${LOCK_TTL_SECONDS}))/" > ${dir}/holder && echo '${MARK} acquired'; exit 0; fi`,
    `echo "${MARK} held $now"`,
    `cat ${dir}/holder 2>/dev/null`,
  ].join('\n');
}

/** Only the holder's own token removes or renews the lock. */
function ownScript(poolUuid: string, token: string, action: 'release' | 'renew' | 'break'): string {
  const dir = shellQuote(lockDir(poolUuid));
  const match = `grep -q ${shellQuote(`"token":"${token}"`)} ${dir}/holder 2>/dev/null`;
  if (action === 'release' || action === 'break') return `${match} && rm -rf ${dir}; echo '${MARK} done'`;
  return `${match} && sed -i "s/\\"expiresAt\\":[0-9]*/\\"expiresAt\\":$(( $(date +%s) + ${LOCK_TTL_SECONDS} ))/" ${dir}/holder && echo '${MARK} renewed'`;
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.owner === 'string' && typeof value.operation === 'string' && typeof value.since === 'string' && typeof value.expiresAt === 'number' && typeof value.token === 'string') {
      return value as LockHolder;
    }
  } catch {
    // being written, or not ours
  }
  return undefined;
}

/** A lock we hold on some hosts of a pool. */
export class HeldPoolLock {
  constructor(
    private readonly runner: HostRunner,
    private readonly poolUuid: string,
    readonly hosts: readonly PoolMember[],
    readonly token: string,
  ) {}

  /** Pushes the expiry out again; a host that does not answer keeps the old expiry. */
  async renew(): Promise<void> {
    await Promise.allSettled(this.hosts.map((h) => this.runner.shell(h.address, ownScript(this.poolUuid, this.token, 'renew'), LOCK_CALL)));
  }

  async release(): Promise<void> {
    await Promise.allSettled(this.hosts.map((h) => this.runner.shell(h.address, ownScript(this.poolUuid, this.token, 'release'), LOCK_CALL)));
  }
}

/**
 * A lock on the pool that every client sees: a directory on each host taking part, made with `mkdir` (atomic on
 * the host). All or nothing: if one host says another client holds it, the hosts taken so far are released and
 * nothing runs. Two clients that see overlapping sets of hosts can never both hold it; two that see disjoint
 * sets (a partition between them) can, which is why every action re-checks for a second master as well.
 */
export async function acquirePoolLock(
  runner: HostRunner,
  pool: { readonly poolUuid: string; readonly poolName: string },
  hosts: readonly PoolMember[],
  operation: string,
  owner = defaultLockOwner(),
): Promise<HeldPoolLock> {
  const token = randomUUID();
  const holder = JSON.stringify({ owner, operation, since: new Date().toISOString(), expiresAt: 0, token }).replace('"expiresAt":0', '"expiresAt":@@EXPIRES@@');
  const taken: PoolMember[] = [];
  let refusal: Error | undefined;
  // One host after the other, always in the same order (by UUID): two clients that want the same hosts meet on
  // the first one, so exactly one of them gets them all (taking them all at once, both could lose).
  for (const host of [...hosts].sort((a, b) => a.uuid.localeCompare(b.uuid))) {
    refusal = await takeOn(runner, pool, host, holder);
    if (refusal) break;
    taken.push(host);
  }
  const lock = new HeldPoolLock(runner, pool.poolUuid, taken, token);
  if (refusal) {
    await lock.release();
    throw refusal;
  }
  return lock;
}

/** Takes the lock on one host; the reason it could not, if it could not. */
async function takeOn(runner: HostRunner, pool: { readonly poolUuid: string; readonly poolName: string }, host: PoolMember, holder: string): Promise<Error | undefined> {
  let result;
  try {
    result = await runner.shell(host.address, acquireScript(pool.poolUuid, holder), LOCK_CALL);
  } catch (error) {
    return new Error(`could not take the pool lock on ${host.name}: ${(error as Error).message}`);
  }
  const [first = '', ...rest] = result.stdout.split('\n');
  if (first === `${MARK} acquired`) return undefined;
  const held = /^@@lock held (\d+)$/.exec(first);
  if (!held) return new Error(`could not take the pool lock on ${host.name}: ${(result.stderr || result.stdout).trim().split('\n')[0] ?? ''}`);
  const current = parseHolder(rest.join('\n').trim());
  return new PoolLockHeldError(pool.poolName, host, current, current !== undefined && current.expiresAt < Number(held[1]));
}

/** Removes a stale lock on one host, only if it is still the one the admin was shown (same token). */
export async function breakPoolLock(runner: HostRunner, poolUuid: string, host: PoolMember, holder: LockHolder): Promise<void> {
  await runner.shell(host.address, ownScript(poolUuid, holder.token, 'break'), LOCK_CALL);
}

/** Runs `work` under the pool lock on `hosts`, and releases it however `work` ends. */
export async function withPoolLock<T>(
  runner: HostRunner,
  pool: { readonly poolUuid: string; readonly poolName: string },
  hosts: readonly PoolMember[],
  operation: string,
  owner: string | undefined,
  work: (lock: HeldPoolLock) => Promise<T>,
): Promise<T> {
  const lock = await acquirePoolLock(runner, pool, hosts, operation, owner);
  try {
    return await work(lock);
  } finally {
    await lock.release();
  }
}
