/**
 * The `xe` calls that hang (C.1): a forwarded call whose master cannot be reached blocks, because xapi's
 * master_connection retries for ever. Each parked call is tried again on every change of the lab's state and ends
 * when it gets an answer, when its host loses xapi or power, or when its caller gives up.
 */
import { XeFail, fail } from './commands';
import type { XeResult } from './simTypes';
import { renderError, xapiError, type XapiVersion } from './texts';

/** One try of a call: its result, or null while it hangs. */
export type Attempt = () => XeResult | null;

interface Pending {
  origin: number;
  attempt: Attempt;
  resolve: (r: XeResult | null) => void;
  cleanup: () => void;
}

/** Runs one try; a thrown XeFail is that call's failure, anything else xapi's INTERNAL_ERROR. */
export function tryAttempt(attempt: Attempt, version: XapiVersion): XeResult | null {
  try {
    return attempt();
  } catch (e) {
    if (e instanceof XeFail) return e.result;
    return fail(renderError(xapiError('INTERNAL_ERROR', String(e)), version));
  }
}

export class PendingCalls {
  private entries: Pending[] = [];

  constructor(private readonly version: XapiVersion) {}

  get count(): number {
    return this.entries.length;
  }

  /** Parks a call made on host `origin` until it gets an answer; an aborted caller gets null. */
  park(origin: number, attempt: Attempt, signal?: AbortSignal): Promise<XeResult | null> {
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.entries = this.entries.filter((x) => x !== entry);
        resolve(null);
      };
      const entry: Pending = { origin, attempt, resolve, cleanup: () => signal?.removeEventListener('abort', onAbort) };
      if (signal?.aborted) return resolve(null);
      signal?.addEventListener('abort', onAbort);
      this.entries.push(entry);
    });
  }

  /** Ends every call made on host `origin` with `result` (null: its connection is simply gone). */
  dropOf(origin: number, result: XeResult | null): void {
    this.settle((p) => (p.origin === origin ? { result } : undefined));
  }

  /** Ends every call (the lab stops). */
  dropAll(): void {
    this.settle(() => ({ result: null }));
  }

  /** Tries every parked call again. */
  reevaluate(): void {
    if (this.entries.length === 0) return;
    this.settle((p) => {
      const result = tryAttempt(p.attempt, this.version);
      return result ? { result } : undefined;
    });
  }

  private settle(outcome: (p: Pending) => { result: XeResult | null } | undefined): void {
    const keep: Pending[] = [];
    for (const p of this.entries) {
      const ended = outcome(p);
      if (ended) {
        p.cleanup();
        p.resolve(ended.result);
      } else keep.push(p);
    }
    this.entries = keep;
  }
}
