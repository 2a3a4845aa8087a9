/** Why an SSH connection could not be used. Messages name the host, never a secret. */
export type SshConnectFailure =
  | 'refused' // nothing listens: host powered off or sshd down
  | 'timeout' // no answer within the connect timeout: host down, black-holed or hung
  | 'unreachable' // no route, DNS failure
  | 'auth' // every authentication method was rejected
  | 'host-key' // host key unknown and not trusted, revoked, or changed
  | 'protocol'; // the peer is not a usable SSH server, or the connection broke during set-up

export class SshConnectError extends Error {
  constructor(
    readonly host: string,
    readonly failure: SshConnectFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SshConnectError';
  }
}

/** The command did not finish within its time bound; its channel was closed. */
export class SshCommandTimeoutError extends Error {
  constructor(
    readonly host: string,
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(`${command} on ${host} did not finish within ${timeoutMs / 1000} s`);
    this.name = 'SshCommandTimeoutError';
  }
}

/** The caller cancelled; not an error to report to the user. */
export class SshAbortedError extends Error {
  constructor(readonly host: string) {
    super(`cancelled (${host})`);
    this.name = 'SshAbortedError';
  }
}

/**
 * The connection dropped while a command ran: its outcome on the host is unknown. `silentMs` is set when the host
 * stopped answering altogether (no reply to keepalives for that long: down or black-holed), not just closed it.
 */
export class SshConnectionLostError extends Error {
  constructor(
    readonly host: string,
    readonly command: string,
    readonly silentMs?: number,
  ) {
    super(
      silentMs === undefined
        ? `connection to ${host} was lost while running ${command}; its outcome on the host is unknown`
        : `${host} stopped answering (nothing for ${silentMs / 1000} s: down or black-holed) while running ${command}; its outcome on the host is unknown`,
    );
    this.name = 'SshConnectionLostError';
  }

  get stoppedAnswering(): boolean {
    return this.silentMs !== undefined;
  }
}

/**
 * sshd refused a new channel on a working connection (MaxSessions used up by sessions it still keeps):
 * the command never started, so running it on a new connection is safe.
 */
export class SshChannelRefusedError extends Error {
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`${host} refused a new SSH channel (${reason})`);
    this.name = 'SshChannelRefusedError';
  }
}

/** The command printed more than the product reads: what it printed is not used at all (never a part of it). */
export class SshOutputTooLargeError extends Error {
  constructor(
    readonly host: string,
    readonly command: string,
    readonly limitBytes: number,
  ) {
    super(`${command} on ${host} printed output over ${limitBytes / 1024 / 1024} MB; it was not read`);
    this.name = 'SshOutputTooLargeError';
  }
}
