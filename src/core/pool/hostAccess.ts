import { boundedCommand } from '../ssh/boundedCommand';
import type { ExecResult } from '../ssh/connection';
import type { AuthMethod, SshSecrets } from '../ssh/auth';
import type { HostRequest, RunOptions, SshTransport } from '../ssh/transport';
import type { XeCommand } from '../xe/command';
import type { XeRunner } from '../xe/operations';
import { outputIsSecret } from '../xe/secretMask';

/** How the hosts of one pool are reached: the same login on every member, as XenServer pools are set up. */
export interface PoolAccess {
  readonly user?: string;
  readonly port?: number;
  readonly identityFiles?: readonly string[];
  /** How to log in to every member; the transport's defaults if absent. */
  readonly auth?: readonly AuthMethod[];
  /** Where this pool's password and passphrases come from. */
  readonly secrets?: SshSecrets;
}

/** Where XenServer and XCP-ng keep the toolstack restart script. */
export const TOOLSTACK_RESTART = '/opt/xensource/bin/xe-toolstack-restart';

/** One `xe` call as the log and the audit trail record it. */
export interface XeCallRecord {
  readonly host: string;
  readonly command: string;
  /** Whether the call changes the pool (then it also goes to the audit trail). */
  readonly changesState: boolean;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when no result came back: connect failure, timeout, cancellation, lost connection. */
  readonly error?: string;
}

export type XeCallListener = (call: XeCallRecord) => void;

export function sshTarget(address: string, access: PoolAccess): HostRequest {
  return { ...access, host: address };
}

/**
 * Runs commands on pool hosts over the shared transport and reports every `xe` call to the
 * listeners (the output channel, the audit trail): one place, so no call escapes the log.
 */
export class HostRunner {
  private readonly listeners: XeCallListener[] = [];

  /** The transport may be given as a function, so a settings change can replace it under running monitors. */
  constructor(
    private readonly transportSource: SshTransport | (() => SshTransport),
    private readonly access: PoolAccess,
  ) {}

  get transport(): SshTransport {
    return typeof this.transportSource === 'function' ? this.transportSource() : this.transportSource;
  }

  /** Returns a function that stops listening. */
  onXeCall(listener: XeCallListener): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  /** Closes the connections this runner's login opened; its next command connects and authenticates anew. */
  release(): void {
    this.transport.closeLogin(this.access);
  }

  /** A shell command that is not an `xe` call (the probe script, reading pool.conf). */
  shell(address: string, command: string, options?: RunOptions): Promise<ExecResult> {
    return this.transport.run(sshTarget(address, this.access), command, options);
  }

  /** An XeRunner bound to one host, for xeOperations. */
  xe(address: string, options?: RunOptions): XeRunner {
    return (command: XeCommand) => this.logged(address, command, options);
  }

  /**
   * A logged command that is not an `xe` call but belongs in the log and audit trail as one
   * (`xe-toolstack-restart`). `line` must be a fixed, trusted command line.
   */
  action(address: string, line: string, options?: RunOptions): Promise<ExecResult> {
    return this.logged(address, { toShell: () => line, display: line, changesState: true }, options);
  }

  /**
   * `xe-toolstack-restart` by its absolute path: on dom0 only `xe` is linked into /usr/bin, and a non-interactive
   * SSH session does not have /opt/xensource/bin on its PATH. A non-zero exit status is an error naming what the
   * script printed.
   */
  async restartToolstack(address: string, options?: RunOptions): Promise<ExecResult> {
    const result = await this.action(address, TOOLSTACK_RESTART, options);
    if (result.exitCode !== 0) {
      throw new Error(`${TOOLSTACK_RESTART} on ${address} failed (exit ${result.exitCode ?? 'signal'}): ${(result.stderr || result.stdout).trim().split('\n').slice(-1)[0] ?? ''}`);
    }
    return result;
  }

  private async logged(address: string, command: Pick<XeCommand, 'toShell' | 'display' | 'changesState'> & Partial<Pick<XeCommand, 'subcommand'>>, options?: RunOptions): Promise<ExecResult> {
    const startedAt = new Date();
    const base = { host: address, command: command.display, changesState: command.changesState, startedAt: startedAt.toISOString() };
    try {
      // Bounded on the host too: a cancelled or timed-out call must not run on there (a forwarded call to a dead
      // master never ends by itself). One second beyond our own timeout, so ours fires first and names the call.
      const timeoutMs = options?.timeoutMs ?? this.transport.settings.commandTimeoutMs;
      const line = boundedCommand(command.toShell(), timeoutMs / 1000 + 1);
      const result = await this.shell(address, line, { ...options, timeoutMs, display: command.display });
      const secret = command.subcommand !== undefined && outputIsSecret(command.subcommand);
      this.report({ ...base, durationMs: result.durationMs, exitCode: result.exitCode, stdout: secret ? '*** (secret output not logged)' : result.stdout, stderr: result.stderr });
      return result;
    } catch (error) {
      this.report({ ...base, durationMs: Date.now() - startedAt.getTime(), exitCode: null, stdout: '', stderr: '', error: (error as Error).message });
      throw error;
    }
  }

  private report(call: XeCallRecord): void {
    for (const listener of this.listeners) listener(call);
  }
}
