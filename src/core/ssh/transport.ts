import type * as net from 'node:net';
import { defaultAuthMethods, type AuthMethod, type SshSecrets } from './auth';
import { SshConnection, type ConnectionSettings, type ExecResult } from './connection';
import { ConnectPacer } from './connectPacer';
import { SshAbortedError, SshChannelRefusedError } from './errors';
import { enqueueInOrder, type OrderedWaiter } from './orderedWaiters';
import type { HostKeyVerifier } from './hostKeys';
import type { ResolvedSshTarget, SshConfigResolver, SshTargetRequest } from './sshConfig';

export interface TransportSettings extends ConnectionSettings {
  /** Open connections (jump hosts included) never exceed this, so a 1000-host inventory cannot exhaust file descriptors. */
  readonly maxConnections: number;
  readonly commandTimeoutMs: number;
  /** New connections per second for paced requests (see RunOptions.paced) beyond a burst of pacedConnectBurst; ≤ 0: unpaced. */
  readonly pacedConnectsPerSecond: number;
  readonly pacedConnectBurst: number;
}

export const DEFAULT_TRANSPORT_SETTINGS: TransportSettings = {
  connectTimeoutMs: 5_000,
  commandTimeoutMs: 30_000,
  maxChannelsPerConnection: 8,
  maxConnections: 32,
  // About a fifth of a core on the extension host at ~13 ms of CPU per connect (more on a loaded machine); a burst of
  // 8: with 32 at once the first tree render in the bench took 3.2–6.8 s, with 8 2.1 s (one run). See ConnectPacer.
  pacedConnectsPerSecond: 16,
  pacedConnectBurst: 8,
};

export interface TransportDependencies {
  readonly resolver: SshConfigResolver;
  readonly verifier: HostKeyVerifier;
  readonly secrets: SshSecrets;
  /** Which login methods to try for a target; OpenSSH's default order if absent. */
  readonly authMethods?: (target: ResolvedSshTarget) => readonly AuthMethod[];
  readonly settings?: Partial<TransportSettings>;
  /** How host names are resolved; the system resolver unless a test answers instead (no DNS traffic from tests). */
  readonly lookup?: net.LookupFunction;
}

/** Where to run a command, and optionally how to log in there (else the transport's defaults). */
export interface HostRequest extends SshTargetRequest {
  readonly auth?: readonly AuthMethod[];
  readonly secrets?: SshSecrets;
}

export interface RunOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** How errors name the command; the command itself if absent. */
  readonly display?: string;
  /**
   * Where the request waits when it needs a new connection at the cap: lower first, equal ones first come first.
   * Absent is 0, ahead of every refresh: an admin's command (and the re-check before it) never waits behind the
   * probes of a thousand hosts. A pool's refresh passes a number of its own (see nextRefreshOrder), so the pools of
   * a big refresh finish one after another and each pool's VM read follows its own probes, not everybody's.
   * Requests that share a connection being opened wait with the first of them.
   */
  readonly queueOrder?: number;
  /**
   * Background work (the watch, the first probe after start-up, a changed setting's pools): a new connection it needs
   * waits for the pacer (see ConnectPacer), so a thousand hosts never keep the extension host busy at once. An
   * admin's command is never paced, nor is a request that finds its host's connection open.
   */
  readonly paced?: boolean;
}

/** Where a request waits for a connection (see RunOptions): passed along by a refresh to every command it runs. */
export type QueuePlace = Pick<RunOptions, 'queueOrder' | 'paced'>;

let lastRefreshOrder = 0;
/** A refresh's queueOrder: after every refresh begun before it, behind every request that has none. */
export function nextRefreshOrder(): number {
  return ++lastRefreshOrder;
}

/** Counts for benchmarks and leak checks. */
export interface TransportStats {
  readonly open: number;
  readonly peakOpen: number;
  readonly opened: number;
}

/**
 * Which login a request brings: the identity of its secrets (else of its auth methods). Connections are
 * shared only by requests of the same login, so a connection that one login opened never answers for
 * another: a wrong password would otherwise "work" through a connection a right one authenticated.
 */
const loginIds = new WeakMap<object, number>();
let lastLoginId = 0;
function loginOf(request: Pick<HostRequest, 'secrets' | 'auth'>): string {
  const owner: object | undefined = request.secrets ?? request.auth;
  if (!owner) return 'default';
  let id = loginIds.get(owner);
  if (id === undefined) loginIds.set(owner, (id = ++lastLoginId));
  return `login${id}`;
}

function connectionKey(target: ResolvedSshTarget, request: HostRequest): string {
  return `${target.user}@${target.hostName}:${target.port}#${loginOf(request)}`;
}

/**
 * Runs commands on hosts over reused SSH connections: one connection per host, opened on first
 * use (concurrent first uses share one connect), re-opened after it drops, several commands at
 * once on it, and a global cap on open connections. At the cap, the least recently used idle
 * connection is closed to make room; if none is idle the caller waits for one.
 */
export class SshTransport {
  readonly settings: TransportSettings;
  private readonly connections = new Map<string, Promise<SshConnection>>();
  private slotsInUse = 0;
  private peakSlots = 0;
  private openedCount = 0;
  /** Requests waiting for a connection slot, in the order they get one (see RunOptions.queueOrder). */
  private readonly slotWaiters: OrderedWaiter[] = [];
  private readonly live = new Set<SshConnection>();
  private retired = false;
  private readonly pacer: ConnectPacer;

  constructor(private readonly deps: TransportDependencies) {
    this.settings = { ...DEFAULT_TRANSPORT_SETTINGS, ...deps.settings };
    this.pacer = new ConnectPacer(this.settings.pacedConnectsPerSecond, this.settings.pacedConnectBurst);
  }

  async run(request: HostRequest, command: string, options: RunOptions = {}): Promise<ExecResult> {
    const target = await this.deps.resolver.resolve(request);
    const execOptions = { timeoutMs: options.timeoutMs ?? this.settings.commandTimeoutMs, signal: options.signal, display: options.display };
    try {
      return await (await this.connection(target, request, options)).exec(command, execOptions);
    } catch (error) {
      // The command never started; the refusing connection is retired, so this runs on a new one.
      if (!(error instanceof SshChannelRefusedError)) throw error;
      return (await this.connection(target, request, options)).exec(command, execOptions);
    }
  }

  /**
   * Forgets the host key pinned for where a request connects (after ~/.ssh/config: HostName, Port, the name its key
   * is checked under); see HostKeyVerifier.forgetPinned.
   */
  async forgetHostKey(request: HostRequest): Promise<{ forgotten: number; knownHostsFile?: string }> {
    const target = await this.deps.resolver.resolve(request);
    return this.deps.verifier.forgetPinned({ host: target.hostName, port: target.port });
  }

  stats(): TransportStats {
    return { open: this.live.size, peakOpen: this.peakSlots, opened: this.openedCount };
  }

  /**
   * Closes the connections opened for one login (the secrets its requests brought), e.g. once a pool's
   * discovery is over or its login was replaced; in-flight commands on them fail with SshConnectionLostError.
   */
  closeLogin(login: Pick<HostRequest, 'secrets' | 'auth'>): void {
    const suffix = `#${loginOf(login)}`;
    for (const [key, pending] of [...this.connections]) {
      if (!key.endsWith(suffix)) continue;
      this.connections.delete(key);
      pending.then((c) => c.close(), () => undefined);
    }
  }

  /** Closes every connection; in-flight commands fail with SshConnectionLostError. */
  dispose(): void {
    for (const connection of this.live) connection.close();
    this.connections.clear();
  }

  /**
   * Replaced by a transport with new settings: takes no new command (they go to the new one), closes its idle
   * connections now and each busy one when its last command ends, however long that takes (a recovery step of
   * minutes is never cut).
   */
  retire(): void {
    this.retired = true;
    this.connections.clear();
    // A busy one is closed by its idle listener (see connection()).
    for (const connection of this.live) if (!connection.busy) connection.close();
  }

  private async connection(target: ResolvedSshTarget, login: HostRequest, options: RunOptions): Promise<SshConnection> {
    const key = connectionKey(target, login);
    // Paced before the connect is registered: an admin's command for the same host must not wait with it.
    if (options.paced && !this.connections.has(key)) await this.pacer.take(options.queueOrder ?? 0, options.signal);
    const existing = this.connections.get(key);
    if (existing) {
      // A settled, closed connection is replaced; a pending one is shared.
      return existing.then((c) => (c.closed ? this.reconnect(key, existing, target, login, options) : c));
    }
    return this.startConnect(key, target, login, options);
  }

  private reconnect(key: string, stale: Promise<SshConnection>, target: ResolvedSshTarget, login: HostRequest, options: RunOptions): Promise<SshConnection> {
    if (this.connections.get(key) === stale) this.connections.delete(key);
    return this.connection(target, login, options);
  }

  private startConnect(key: string, target: ResolvedSshTarget, login: HostRequest, { signal, queueOrder = 0 }: RunOptions): Promise<SshConnection> {
    const slots = 1 + (target.jump ? 1 : 0);
    const pending = (async () => {
      await this.acquireSlots(slots, queueOrder, signal);
      try {
        const connection = await SshConnection.open(target, {
          verifier: this.deps.verifier,
          secrets: login.secrets ?? this.deps.secrets,
          authMethods: login.auth ?? this.deps.authMethods?.(target) ?? defaultAuthMethods(target.identityFiles),
          settings: this.settings,
          ...(this.deps.lookup ? { lookup: this.deps.lookup } : {}),
        });
        this.openedCount++;
        this.live.add(connection);
        connection.onIdle(() => (this.retired ? connection.close() : this.wakeSlotWaiters()));
        connection.onClose(() => {
          this.live.delete(connection);
          if (this.connections.get(key) === pending) this.connections.delete(key);
          this.releaseSlots(slots);
        });
        return connection;
      } catch (error) {
        this.releaseSlots(slots);
        throw error;
      }
    })();
    this.connections.set(key, pending);
    // A failed connect is not cached: the next call tries again (the host may be back).
    pending.catch(() => {
      if (this.connections.get(key) === pending) this.connections.delete(key);
    });
    return pending;
  }

  private async acquireSlots(count: number, order: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw new SshAbortedError('connection pool');
      if (this.slotsInUse + count <= this.settings.maxConnections) {
        this.slotsInUse += count;
        this.peakSlots = Math.max(this.peakSlots, this.slotsInUse);
        return;
      }
      const idle = [...this.live].filter((c) => !c.busy).sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (idle) {
        idle.close(); // its close listener frees the slot synchronously
        continue;
      }
      await new Promise<void>((resolve) => {
        // Woken either way; the listener goes with it (a long-lived signal would gather one per wait).
        const wake = () => {
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        enqueueInOrder(this.slotWaiters, { order, wake });
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  private releaseSlots(count: number): void {
    this.slotsInUse -= count;
    this.wakeSlotWaiters();
  }

  /**
   * Waiters re-check the cap: a slot was freed or a connection became idle and can be closed. As many are woken as
   * could go on, in their order (see acquireSlots): waking all of a thousand waiters for each freed slot cost a refresh of 1,024
   * hosts a million wake-ups. One that still cannot go on waits again.
   */
  private wakeSlotWaiters(): void {
    let idle = 0;
    for (const connection of this.live) if (!connection.busy) idle++;
    const room = this.settings.maxConnections - this.slotsInUse + idle;
    for (const waiter of this.slotWaiters.splice(0, Math.max(0, room))) waiter.wake();
  }
}
