import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { SshAbortedError } from './errors';
import { enqueueInOrder, type OrderedWaiter } from './orderedWaiters';

/** The clock and timer a pacer waits with; tests pass their own. */
export interface PacerClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
}

const REAL_CLOCK: PacerClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
};

/**
 * How busy this process's event loop was lately, 0–1: the share of the last ≥ 200 ms it spent running callbacks
 * (including time the machine gave to other processes meanwhile) rather than waiting for I/O.
 */
export function eventLoopLoad(): () => number {
  let since = performance.eventLoopUtilization();
  let sinceAt = Date.now();
  let load = 0;
  return () => {
    if (Date.now() - sinceAt < 200) return load;
    const now: EventLoopUtilization = performance.eventLoopUtilization();
    load = performance.eventLoopUtilization(now, since).utilization;
    since = now;
    sinceAt = Date.now();
    return load;
  };
}

/** Above this load a connect waits (up to 1 / MIN_PER_SECOND s) for the event loop to be freer. */
const MAX_LOAD = 0.5;
/** However busy the process is, background work goes on at this rate. */
const MIN_PER_SECOND = 2;
/** How often a connect held back by the load looks again. */
const LOAD_RECHECK_MS = 50;

/**
 * How fast background work may open new SSH connections: a token bucket of `burst` connects, refilled at
 * `perSecond`. A connect costs the extension host some 5–30 ms of CPU (key exchange, signatures, a cipher per
 * packet in ssh2's JavaScript fallback), so the first probe of a thousand hosts, all at once, kept it busy for half a
 * minute, and every click in the view waited seconds for it. Paced, a pool of up to `burst` hosts is still probed at
 * once, and a thousand hosts take about a minute in the background while the view answers. On a busy machine a
 * connect also waits while the event loop was more than half busy lately (`load`), down to MIN_PER_SECOND: a connect's
 * CPU grows several times when the cores are shared (in code-server on 2 cores, with the workbench rendering, about
 * 50 ms of the extension host's time per connect), and the rate alone then still left no room. Waiters go in
 * queueOrder (see RunOptions), equal ones first come first. `perSecond` ≤ 0 turns pacing off.
 */
export class ConnectPacer {
  private tokens: number;
  private refilledAt: number;
  private readonly waiters: OrderedWaiter[] = [];
  private timer: unknown;
  /** When the last connect was let through (for MIN_PER_SECOND). */
  private grantedAt = -Infinity;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: PacerClock = REAL_CLOCK,
    private readonly load: () => number = eventLoopLoad(),
  ) {
    this.tokens = burst;
    this.refilledAt = clock.now();
  }

  /** Resolves when one more connect may start; throws SshAbortedError if `signal` aborts first. */
  async take(order: number, signal?: AbortSignal): Promise<void> {
    if (this.perSecond <= 0) return;
    if (signal?.aborted) throw new SshAbortedError('connection pacing');
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1 && this.mayGoOn()) {
      this.grant();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: OrderedWaiter = {
        order,
        wake: () => {
          signal?.removeEventListener('abort', abort);
          resolve();
        },
      };
      const abort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(new SshAbortedError('connection pacing'));
      };
      enqueueInOrder(this.waiters, waiter);
      signal?.addEventListener('abort', abort, { once: true });
      this.schedule();
    });
  }

  /** Connects waiting for their turn (for tests and benchmarks). */
  get waiting(): number {
    return this.waiters.length;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000);
    this.refilledAt = now;
  }

  /** The load is low enough, or the last connect is long enough ago (MIN_PER_SECOND). */
  private mayGoOn(): boolean {
    return this.load() <= MAX_LOAD || this.clock.now() - this.grantedAt >= 1000 / MIN_PER_SECOND;
  }

  private grant(): void {
    this.tokens--;
    this.grantedAt = this.clock.now();
  }

  /** Wakes as many waiters as there are tokens (while the load allows), and sets a timer for when the next is due. */
  private schedule(): void {
    if (this.timer !== undefined) return;
    this.refill();
    let heldBack = false;
    while (this.waiters.length > 0 && this.tokens >= 1) {
      if (!this.mayGoOn()) {
        heldBack = true;
        break;
      }
      this.grant();
      this.waiters.shift()?.wake();
    }
    if (this.waiters.length === 0) return;
    const dueInMs = heldBack ? LOAD_RECHECK_MS : Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.perSecond));
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, dueInMs);
  }
}
