/** A second state-changing operation on a pool that is already being worked on. */
export class PoolBusyError extends Error {
  constructor(
    readonly poolName: string,
    readonly runningOperation: string,
    readonly since: Date,
  ) {
    super(`${poolName} is busy: "${runningOperation}" has been running since ${since.toLocaleTimeString()}. Wait for it to finish or cancel it.`);
    this.name = 'PoolBusyError';
  }
}

/** One operation per pool at a time: two recoveries racing on one pool is how split-brain starts. */
export class PoolLocks {
  private readonly held = new Map<string, { operation: string; since: Date }>();

  async withLock<T>(pool: { poolUuid: string; poolName: string }, operation: string, work: () => Promise<T>): Promise<T> {
    const current = this.held.get(pool.poolUuid);
    if (current) throw new PoolBusyError(pool.poolName, current.operation, current.since);
    this.held.set(pool.poolUuid, { operation, since: new Date() });
    try {
      return await work();
    } finally {
      this.held.delete(pool.poolUuid);
    }
  }

  isBusy(poolUuid: string): boolean {
    return this.held.has(poolUuid);
  }
}
