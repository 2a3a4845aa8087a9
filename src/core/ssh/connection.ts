import * as net from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import { ssh2 } from './ssh2';
import { AuthSequence, defaultAuthMethods, type AuthMethod, type SshSecrets } from './auth';
import { SshAbortedError, SshChannelRefusedError, SshCommandTimeoutError, SshConnectError, SshConnectionLostError, SshOutputTooLargeError } from './errors';
import { hostKeyFromBlob, type HostKeyVerifier } from './hostKeys';
import type { ResolvedSshTarget } from './sshConfig';

/** What a command left behind on the host. */
export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** null when the remote process ended by a signal or the server sent no status. */
  readonly exitCode: number | null;
  readonly signal?: string;
  readonly durationMs: number;
}

export interface ExecOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** How errors name the command (e.g. an `xe` call's display form rather than the wrapper around it). */
  readonly display?: string;
}

export interface ConnectionSettings {
  /** Also how long a connection may stay silent (see silenceBoundMs). */
  readonly connectTimeoutMs: number;
  /** sshd's MaxSessions defaults to 10; stay below it and queue the rest. */
  readonly maxChannelsPerConnection: number;
}

export interface ConnectionDependencies {
  readonly verifier: HostKeyVerifier;
  readonly secrets: SshSecrets;
  readonly authMethods: readonly AuthMethod[];
  readonly settings: ConnectionSettings;
  /** How host names are resolved; the system resolver (dns.lookup) unless a test answers instead. */
  readonly lookup?: net.LookupFunction;
}

const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

/** Host key algorithms that prove possession of a key of each type. */
const ALGORITHMS_FOR_KEY_TYPE: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

function socketFailure(error: NodeJS.ErrnoException): 'refused' | 'unreachable' | 'protocol' {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unreachable';
    default:
      return 'protocol';
  }
}

/**
 * A connection that answers nothing (not even keepalives) for this long is dead: a host that went down or
 * black-holed while we held a warm connection is reported as unreachable after about the connect timeout, as a
 * new connection would be, instead of hanging until the command timeout. Never under 3 s, so a busy sshd on a loaded
 * machine is not taken for a dead one.
 */
function silenceBoundMs(settings: Pick<ConnectionSettings, 'connectTimeoutMs'>): number {
  return Math.max(settings.connectTimeoutMs, MIN_SILENCE_MS);
}

const MIN_SILENCE_MS = 3_000;
/** ssh2 gives up after this many unanswered keepalives, one per interval: silence bound = (count + 1) intervals. */
const KEEPALIVE_COUNT_MAX = 3;

/** How often, and how far apart (growing), a refused channel is asked for again on the same connection. */
const CHANNEL_RETRIES = 4;
const CHANNEL_RETRY_MS = 50;

/**
 * One authenticated SSH connection to one host, multiplexing commands over channels. Opened with
 * TCP_NODELAY (without it every warm call waits ~40 ms for a delayed ACK) and keepalives.
 */
export class SshConnection {
  private activeChannels = 0;
  private readonly channelWaiters: (() => void)[] = [];
  private readonly closeListeners: (() => void)[] = [];
  private readonly idleListeners: (() => void)[] = [];
  private isClosed = false;
  /** sshd refused a channel: no new commands here; closed once the running ones end. */
  private retired = false;
  /**
   * Channels closed by us before their command ended (timeout, cancel). Their processes may keep sshd's sessions
   * (MaxSessions) after the channel is gone; without any, a refusal is sshd freeing a finished session late.
   */
  private abandonedChannels = 0;
  /** Set when ssh2 gave up on unanswered keepalives: how long the host had been silent. */
  private silentForMs: number | undefined;
  lastUsed = Date.now();

  private constructor(
    readonly target: ResolvedSshTarget,
    private readonly client: Client,
    /** The TCP socket (or a jump host's channel) under the client. */
    private readonly socket: Duplex,
    private readonly settings: ConnectionSettings,
    private readonly jump: SshConnection | undefined,
  ) {
    client.on('close', () => this.markClosed());
    client.on('error', (error: Error & { level?: string }) => {
      if (error.level === 'client-timeout') this.silentForMs = silenceBoundMs(settings);
      this.markClosed();
    });
  }

  get busy(): boolean {
    return this.activeChannels > 0 || this.channelWaiters.length > 0;
  }

  /** True also for a retired connection: the transport then opens a new one for the next command. */
  get closed(): boolean {
    return this.isClosed || this.retired;
  }

  /** Calls `listener` once the connection closes (at once if it is closed); the returned function unsubscribes. */
  onClose(listener: () => void): () => void {
    if (this.isClosed) {
      listener();
      return () => undefined;
    }
    this.closeListeners.push(listener);
    return () => {
      const index = this.closeListeners.indexOf(listener);
      if (index >= 0) this.closeListeners.splice(index, 1);
    };
  }

  /** Called whenever the last running command on this connection ends. */
  onIdle(listener: () => void): void {
    this.idleListeners.push(listener);
  }

  /**
   * Says goodbye (SSH disconnect) and closes the socket at once: ssh2's own end() only half-closes it, and the
   * socket stayed open until the next turn of the event loop or the host's answer, while its slot was already
   * someone else's (36 sockets seen for a cap of 32 on a busy extension host).
   */
  close(): void {
    this.client.end();
    this.socket.destroy();
    this.markClosed();
  }

  static async open(target: ResolvedSshTarget, deps: ConnectionDependencies): Promise<SshConnection> {
    const jump = target.jump ? await SshConnection.open(target.jump, jumpDependencies(target.jump, deps)).catch((error: unknown) => Promise.reject(jumpError(target.jump, error))) : undefined;
    try {
      const { client, socket } = await connectClient(target, deps, jump);
      return new SshConnection(target, client, socket, deps.settings, jump);
    } catch (error) {
      jump?.close();
      throw error;
    }
  }

  /** Runs one command on its own channel. The timeout covers waiting for a free channel too. */
  async exec(command: string, { timeoutMs, signal, display = command }: ExecOptions): Promise<ExecResult> {
    const started = Date.now();
    this.lastUsed = started;
    if (signal?.aborted) throw new SshAbortedError(this.target.name);
    return new Promise<ExecResult>((resolve, reject) => {
      let channel: ClientChannel | undefined;
      let settled = false;
      let holdsSlot = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        // A connection lives for many commands: each must take its close listener along.
        stopWatchingClose();
        if (holdsSlot) this.releaseChannel();
        this.lastUsed = Date.now();
        if (this.retired && !this.busy) this.close();
        outcome();
      };
      const abandon = (error: Error) => {
        finish(() => reject(error));
        // OpenSSH's sshd ignores signal requests; closing the channel is what ends a command that runs under
        // boundedCommand (its stdin watcher sees EOF and kills the command's process group).
        if (channel) this.abandonedChannels++;
        channel?.close();
      };
      const timer = setTimeout(() => abandon(new SshCommandTimeoutError(this.target.name, display, timeoutMs)), timeoutMs);
      const onAbort = () => abandon(new SshAbortedError(this.target.name));
      signal?.addEventListener('abort', onAbort, { once: true });
      const lost = () => new SshConnectionLostError(this.target.name, display, this.silentForMs);
      const onLost = () => finish(() => reject(lost()));
      const stopWatchingClose = this.onClose(onLost);

      void this.acquireChannel().then(() => {
        holdsSlot = true;
        if (settled) return this.releaseChannelOnce(() => (holdsSlot = false));
        const open = (attempt: number) => {
          if (settled) return;
          if (this.isClosed) return onLost();
          this.client.exec(command, (error, stream) => {
            if (error) {
              if (this.isClosed) return finish(() => reject(lost()));
              // sshd frees a finished session a moment after the client saw its channel close: with none of ours
              // abandoned, the refusal passes (seen under load with the channel cap full), so ask again shortly.
              if (this.abandonedChannels === 0 && attempt < CHANNEL_RETRIES) return void setTimeout(() => open(attempt + 1), CHANNEL_RETRY_MS * (attempt + 1));
              // "Channel open failure" for good: sshd keeps every session whose process still runs. This connection
              // takes no new command; the running ones finish on it.
              this.retired = true;
              return finish(() => reject(new SshChannelRefusedError(this.target.name, error.message)));
            }
            channel = stream;
            if (settled) return abandon(new SshAbortedError(this.target.name));
            collect(
              stream,
              (output) => finish(() => resolve({ ...output, durationMs: Date.now() - started })),
              () => abandon(new SshOutputTooLargeError(this.target.name, display, MAX_OUTPUT_BYTES)),
            );
          });
        };
        open(0);
      });
    });
  }

  /** A TCP channel from this host to another, for ProxyJump. */
  forwardTo(host: string, port: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) =>
      this.client.forwardOut('127.0.0.1', 0, host, port, (error, channel) => (error ? reject(error) : resolve(channel))),
    );
  }

  private releaseChannelOnce(clear: () => void): void {
    clear();
    this.releaseChannel();
  }

  private acquireChannel(): Promise<void> {
    if (this.activeChannels < this.settings.maxChannelsPerConnection) {
      this.activeChannels++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.channelWaiters.push(() => resolve()));
  }

  private releaseChannel(): void {
    const next = this.channelWaiters.shift();
    if (next) return next(); // hand the slot over directly
    this.activeChannels--;
    if (this.activeChannels === 0) for (const listener of this.idleListeners) listener();
  }

  private markClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.jump?.close();
    for (const listener of this.closeListeners.splice(0)) listener();
    // Queued commands learn about the close through their own close listener; wake them.
    for (const waiter of this.channelWaiters.splice(0)) waiter();
  }
}

/** Gathers a command's output; more than MAX_OUTPUT_BYTES ends it with `overflow` (nothing of it is used). */
function collect(stream: ClientChannel, done: (output: Omit<ExecResult, 'durationMs'>) => void, overflow: () => void): void {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let bytes = 0;
  let over = false;
  let exitCode: number | null = null;
  let exitSignal: string | undefined;
  const keep = (into: Buffer[]) => (chunk: Buffer) => {
    if (over) return;
    if (bytes + chunk.length > MAX_OUTPUT_BYTES) {
      over = true;
      stdout.length = 0;
      stderr.length = 0;
      overflow();
      return;
    }
    bytes += chunk.length;
    into.push(chunk);
  };
  stream.on('data', keep(stdout));
  stream.stderr.on('data', keep(stderr));
  stream.on('exit', (code: number | null, signalName?: string) => {
    exitCode = typeof code === 'number' ? code : null;
    exitSignal = signalName ?? undefined;
  });
  stream.on('close', () =>
    done({
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
      exitCode,
      ...(exitSignal ? { signal: exitSignal } : {}),
    }),
  );
}

/**
 * A jump host is not a pool member: it is offered the SSH agent and keys only (its own IdentityFile first), never
 * the pool's password or keyboard-interactive answers, which belong to the pool's hosts.
 */
function jumpDependencies(jump: ResolvedSshTarget, deps: ConnectionDependencies): ConnectionDependencies {
  const offered = deps.authMethods.filter((m) => m.kind === 'agent' || m.kind === 'key');
  const own = jump.identityFiles.filter((file) => !offered.some((m) => m.kind === 'key' && m.file === file)).map((file) => ({ kind: 'key' as const, file }));
  const agents = offered.filter((m) => m.kind === 'agent');
  const keys = offered.filter((m) => m.kind === 'key');
  const methods = [...agents, ...own, ...keys];
  return {
    ...deps,
    authMethods: methods.length ? methods : defaultAuthMethods(jump.identityFiles).filter((m) => m.kind === 'agent' || m.kind === 'key'),
    secrets: {
      password: async () => undefined,
      passphrase: (file) => deps.secrets.passphrase(file),
      settled: (use, value, accepted) => use.kind === 'passphrase' && deps.secrets.settled?.(use, value, accepted),
    },
  };
}

/** A login the jump host refused says why the pool's own login was not tried there. */
function jumpError(jump: ResolvedSshTarget | undefined, error: unknown): unknown {
  if (!(error instanceof SshConnectError) || error.failure !== 'auth' || !jump) return error;
  return new SshConnectError(error.host, 'auth', `jump host ${jump.name}: ${error.message} (only the SSH agent and keys are offered to a jump host, never the pool's password)`, { cause: error });
}

/** TCP (or a jump host's forwarded channel) → SSH handshake → host key check → authentication. */
async function connectClient(target: ResolvedSshTarget, deps: ConnectionDependencies, jump: SshConnection | undefined): Promise<{ client: Client; socket: Duplex }> {
  const endpoint = { host: target.hostName, port: target.port };
  const knownTypes = await deps.verifier.knownKeyTypes(endpoint);
  const auth = new AuthSequence(deps.authMethods, { user: target.user, host: target.name }, deps.secrets);
  const client = new (ssh2().Client)();

  return new Promise((resolve, reject) => {
    let settled = false;
    let hostKeyError: Error | undefined;
    let deadline: NodeJS.Timeout | undefined;
    let remainingMs = deps.settings.connectTimeoutMs;
    let deadlineStarted = Date.now();
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      client.destroy();
      reject(error);
    };
    const startDeadline = () => {
      deadlineStarted = Date.now();
      deadline = setTimeout(
        () => fail(new SshConnectError(target.name, 'timeout', `${target.name}: no SSH answer within ${deps.settings.connectTimeoutMs / 1000} s (host down, unreachable or hung)`)),
        remainingMs,
      );
    };
    // The admin may take a while to read a fingerprint: that time does not count as the host's.
    const pauseDeadline = () => {
      clearTimeout(deadline);
      remainingMs = Math.max(0, remainingMs - (Date.now() - deadlineStarted));
    };

    startDeadline();
    const sock: Duplex = jump ? forwardThrough(jump, target, fail) : directSocket(target, fail, deps.lookup);

    client.once('ready', () => {
      if (settled) {
        client.destroy();
        return;
      }
      settled = true;
      clearTimeout(deadline);
      auth.succeeded();
      resolve({ client, socket: sock });
    });
    client.on('error', (error: Error & { level?: string }) => {
      if (hostKeyError) return fail(hostKeyError);
      if (error.level === 'client-authentication') {
        return fail(new SshConnectError(target.name, 'auth', `${target.user}@${target.name}: authentication failed (${auth.summary()})`));
      }
      const code = (error as NodeJS.ErrnoException).code;
      const failure = code ? socketFailure(error as NodeJS.ErrnoException) : 'protocol';
      fail(new SshConnectError(target.name, failure, `${target.name}: ${describeSocketError(failure, error)}`, { cause: error }));
    });
    client.on('close', () => fail(hostKeyError ?? new SshConnectError(target.name, 'protocol', `${target.name}: connection closed during SSH set-up`)));

    const config: ConnectConfig = {
      sock,
      username: target.user,
      readyTimeout: 0, // our own deadline covers TCP, handshake and authentication together
      keepaliveInterval: Math.ceil(silenceBoundMs(deps.settings) / (KEEPALIVE_COUNT_MAX + 1)),
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      authHandler: auth.handler,
      hostVerifier: (blob: Buffer, verify: (valid: boolean) => void) => {
        pauseDeadline();
        let key;
        try {
          key = hostKeyFromBlob(blob);
        } catch (error) {
          hostKeyError = new SshConnectError(target.name, 'host-key', `${target.name}: unreadable host key (${(error as Error).message})`);
          return verify(false);
        }
        deps.verifier.verify(endpoint, key).then(
          () => {
            startDeadline();
            verify(true);
          },
          (error: Error) => {
            hostKeyError = new SshConnectError(target.name, 'host-key', error.message, { cause: error });
            verify(false);
          },
        );
      },
      ...(knownTypes.length ? { algorithms: { serverHostKey: knownTypes.flatMap((t) => ALGORITHMS_FOR_KEY_TYPE[t] ?? [t]) as never } } : {}),
    };
    client.connect(config);
  });
}

function directSocket(target: ResolvedSshTarget, fail: (error: Error) => void, lookup: net.LookupFunction | undefined): net.Socket {
  const socket = net.connect({ host: target.hostName, port: target.port, ...(lookup ? { lookup } : {}) });
  socket.setNoDelay(true);
  socket.once('error', (error: NodeJS.ErrnoException) => {
    const failure = socketFailure(error);
    fail(new SshConnectError(target.name, failure, `${target.name}: ${describeSocketError(failure, error)}`, { cause: error }));
  });
  return socket;
}

/** A Duplex that becomes the jump host's forwarded channel once it opens. */
function forwardThrough(jump: SshConnection, target: ResolvedSshTarget, fail: (error: Error) => void): Duplex {
  const toTarget = new PassThrough();
  const fromTarget = new PassThrough();
  jump.forwardTo(target.hostName, target.port).then(
    (channel) => {
      toTarget.pipe(channel);
      channel.pipe(fromTarget);
    },
    (error: Error) => fail(new SshConnectError(target.name, 'unreachable', `${target.name}: jump host ${jump.target.name} could not reach it (${error.message})`)),
  );
  return Duplex.from({ writable: toTarget, readable: fromTarget });
}

function describeSocketError(failure: string, error: Error): string {
  switch (failure) {
    case 'refused':
      return 'connection refused (host powered off or sshd not running)';
    case 'unreachable': {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND') return 'no such host name (the resolver does not know it; check the spelling or ~/.ssh/config)';
      if (code === 'EAI_AGAIN') return 'the host name cannot be resolved now (no answer from the resolver)';
      return `unreachable (${error.message})`;
    }
    default:
      return error.message;
  }
}
