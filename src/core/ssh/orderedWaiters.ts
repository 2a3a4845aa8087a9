/** Something waiting its turn: a lower `order` goes first, equal ones first come first (see RunOptions.queueOrder). */
export interface OrderedWaiter {
  readonly order: number;
  readonly wake: () => void;
}

/** Puts `waiter` behind every waiter of the same or a lower order (searched from the end: most arrive in order). */
export function enqueueInOrder<T extends OrderedWaiter>(queue: T[], waiter: T): void {
  let at = queue.length;
  while (at > 0 && (queue[at - 1]?.order ?? 0) > waiter.order) at--;
  queue.splice(at, 0, waiter);
}
