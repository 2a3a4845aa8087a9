import * as os from 'node:os';
import * as path from 'node:path';
import { stat } from 'node:fs/promises';
import type { AnyAuthMethod, AuthHandlerMiddleware, ParsedKey } from 'ssh2';
import { ssh2 } from './ssh2';
import { ParsedFileCache } from './fileCache';

/** ssh2 ends authentication when `next(false)` is called; its typings omit that form. */
type FinishableNext = (method: AnyAuthMethod | false) => void;

/** How the product may log in; tried in the order given. */
export type AuthMethod =
  | { readonly kind: 'agent'; readonly socket?: string }
  | { readonly kind: 'key'; readonly file: string }
  | { readonly kind: 'password' }
  | { readonly kind: 'keyboard-interactive' };

/**
 * Supplies secrets on demand. The extension backs it with SecretStorage; the engine never stores,
 * logs or puts a secret into an error message.
 */
export interface SshSecrets {
  password(account: { user: string; host: string }): Promise<string | undefined>;
  passphrase(keyFile: string): Promise<string | undefined>;
  /**
   * Told whether a secret it gave worked: a password once the host accepted or rejected the login with it, a
   * passphrase once it did or did not decrypt its key. A store keeps a newly entered secret only after `accepted`.
   */
  settled?(use: SecretUse, value: string, accepted: boolean): void;
}

/** Which secret was used: the password of an account, or the passphrase of a key file. */
export type SecretUse = { readonly kind: 'password'; readonly user: string; readonly host: string } | { readonly kind: 'passphrase'; readonly keyFile: string };

export const noSecrets: SshSecrets = {
  password: async () => undefined,
  passphrase: async () => undefined,
};

const DEFAULT_KEY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => path.join(os.homedir(), '.ssh', name));

/** OpenSSH's default order: agent, key files, password, keyboard-interactive. */
export function defaultAuthMethods(identityFiles: readonly string[], env: NodeJS.ProcessEnv = process.env): AuthMethod[] {
  return [
    ...(env.SSH_AUTH_SOCK ? [{ kind: 'agent' as const, socket: env.SSH_AUTH_SOCK }] : []),
    ...(identityFiles.length ? identityFiles : DEFAULT_KEY_FILES).map((file) => ({ kind: 'key' as const, file })),
    { kind: 'password' },
    { kind: 'keyboard-interactive' },
  ];
}

function describe(method: AuthMethod): string {
  return method.kind === 'key' ? `key ${method.file}` : method.kind;
}

interface PrivateKeyFile {
  readonly data: Buffer;
  /** An Error for an encrypted key (decrypted per connect, with the passphrase) or an unreadable one. */
  readonly parsed: ParsedKey | Error;
}

/** Private key files, read and parsed once per change: a refresh of many hosts connects hundreds of times. */
const privateKeyFiles = new ParsedFileCache<PrivateKeyFile>((data) => {
  const parsed = ssh2().utils.parseKey(data);
  // A file with several keys parses to a list; ssh2 takes the first one as well.
  return { data, parsed: Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed };
});

/**
 * Builds ssh2's `authHandler`: walks the methods in order, fetching secrets only when a method
 * needs them, and remembers why each one was skipped or rejected so a failure can say what was
 * tried (never with what).
 */
export class AuthSequence {
  /** One line per method tried, for the error message when all fail. */
  readonly attempts: string[] = [];
  private index = 0;
  private current: AuthMethod | undefined;
  /** The password the current method offers, to tell the secrets whether it worked. */
  private currentPassword: string | undefined;

  constructor(
    private readonly methods: readonly AuthMethod[],
    private readonly account: { user: string; host: string },
    private readonly secrets: SshSecrets,
  ) {}

  readonly handler: AuthHandlerMiddleware = (methodsLeft, _partialSuccess, next) => {
    if (this.current) {
      this.attempts.push(`${describe(this.current)}: rejected`);
      this.settlePassword(false);
    }
    this.current = undefined;
    void this.nextMethod(methodsLeft).then(
      (method) => (next as FinishableNext)(method ?? false),
      () => (next as FinishableNext)(false),
    );
  };

  /** The host accepted the login: the password that did it worked. */
  succeeded(): void {
    this.settlePassword(true);
  }

  private settlePassword(accepted: boolean): void {
    const password = this.currentPassword;
    this.currentPassword = undefined;
    if (password !== undefined) this.secrets.settled?.({ kind: 'password', ...this.account }, password, accepted);
  }

  summary(): string {
    return this.attempts.length ? this.attempts.join('; ') : 'no authentication method was available';
  }

  private async nextMethod(serverMethods: string[] | null): Promise<AnyAuthMethod | undefined> {
    while (this.index < this.methods.length) {
      const method = this.methods[this.index++];
      if (!method) break;
      const wire = method.kind === 'key' || method.kind === 'agent' ? 'publickey' : method.kind;
      // null means the server has not said yet (first round); otherwise skip what it does not offer.
      if (serverMethods && !serverMethods.includes(wire)) continue;
      const prepared = await this.prepare(method);
      if (typeof prepared === 'string') {
        this.attempts.push(`${describe(method)}: ${prepared}`);
        continue;
      }
      this.current = method;
      return prepared;
    }
    return undefined;
  }

  /** The ssh2 method object, or the reason this method cannot be tried. */
  private async prepare(method: AuthMethod): Promise<AnyAuthMethod | string> {
    const username = this.account.user;
    switch (method.kind) {
      case 'agent':
        if (!method.socket) return 'no agent socket (SSH_AUTH_SOCK unset)';
        // ssh2 would fail the whole login with "Failed to connect to agent"; this one method is skipped instead.
        if (!(await isSocket(method.socket))) return `no ssh-agent listens at ${method.socket} (SSH_AUTH_SOCK points to nothing)`;
        return { type: 'agent', username, agent: method.socket };
      case 'key':
        return this.prepareKey(method.file);
      case 'password': {
        const password = await this.secrets.password(this.account);
        if (password === undefined) return 'no password available';
        this.currentPassword = password;
        return { type: 'password', username, password };
      }
      case 'keyboard-interactive': {
        const password = await this.secrets.password(this.account);
        if (password === undefined) return 'no password available';
        this.currentPassword = password;
        // XenServer's PAM asks one "Password:" question; answer every prompt with the password.
        return { type: 'keyboard-interactive', username, prompt: (_n, _i, _l, prompts, finish) => finish(prompts.map(() => password)) };
      }
    }
  }

  private async prepareKey(file: string): Promise<AnyAuthMethod | string> {
    let key: PrivateKeyFile | undefined;
    try {
      key = await privateKeyFiles.read(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'EISDIR' ? 'is a directory, not a key file' : `unreadable (${code})`;
    }
    if (!key) return 'no such file';
    if (key.parsed instanceof Error && /passphrase/i.test(key.parsed.message)) {
      // The passphrase is asked for (and the key decrypted) per connect: no decrypted key is kept.
      const passphrase = await this.secrets.passphrase(file);
      if (passphrase === undefined) return 'encrypted and no passphrase available';
      const wrong = ssh2().utils.parseKey(key.data, passphrase) instanceof Error;
      this.secrets.settled?.({ kind: 'passphrase', keyFile: file }, passphrase, !wrong);
      if (wrong) return 'wrong passphrase';
      return { type: 'publickey', username: this.account.user, key: key.data, passphrase };
    }
    if (key.parsed instanceof Error) return `not a private key ssh2 can read (${key.parsed.message})`;
    if (!key.parsed.isPrivateKey()) return 'is a public key: give the private key file (the one without .pub)';
    return { type: 'publickey', username: this.account.user, key: key.parsed };
  }
}

async function isSocket(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isSocket();
  } catch {
    return false;
  }
}
