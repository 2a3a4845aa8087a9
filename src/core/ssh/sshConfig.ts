import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import SSHConfig from 'ssh-config';

/** Where and as whom to connect, after ~/.ssh/config has been applied. */
export interface ResolvedSshTarget {
  /** What the admin typed or the pool knows (alias or address); used in messages and as the pool key. */
  readonly name: string;
  readonly hostName: string;
  readonly port: number;
  readonly user: string;
  readonly identityFiles: readonly string[];
  /** One jump host (`ProxyJump`), already resolved; chains of jumps are not supported. */
  readonly jump?: ResolvedSshTarget;
}

export interface SshTargetRequest {
  readonly host: string;
  readonly port?: number;
  readonly user?: string;
  readonly identityFiles?: readonly string[];
}

function expandHome(file: string): string {
  return file === '~' || file.startsWith('~/') ? path.join(os.homedir(), file.slice(1)) : file;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function asList(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** `[user@]host[:port]` as ProxyJump writes it. */
function parseJump(spec: string): SshTargetRequest {
  const match = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec.trim());
  if (!match?.[2]) throw new Error(`ProxyJump "${spec}" is not of the form [user@]host[:port]`);
  return { host: match[2].replace(/^\[|\]$/g, ''), port: match[3] ? Number(match[3]) : undefined, user: match[1] };
}

/**
 * Applies OpenSSH client configuration (Host patterns, HostName, Port, User, IdentityFile,
 * ProxyJump) through the `ssh-config` parser. Explicit values in the request win over the file,
 * as they do on the ssh command line.
 */
export class SshConfigResolver {
  private parsed: Promise<SSHConfig | undefined> | undefined;

  constructor(
    private readonly configFile: string | undefined = path.join(os.homedir(), '.ssh', 'config'),
    private readonly defaultUser = 'root',
  ) {}

  async resolve(request: SshTargetRequest, depth = 0): Promise<ResolvedSshTarget> {
    const config = await this.load();
    const computed = config?.compute(request.host) ?? {};
    const proxyJump = first(computed.ProxyJump);
    if (proxyJump && proxyJump.includes(',')) throw new Error(`ProxyJump chains are not supported (${request.host}: ${proxyJump})`);
    if (proxyJump && depth > 0) throw new Error(`nested ProxyJump is not supported (${request.host})`);
    const jump = proxyJump && proxyJump.toLowerCase() !== 'none' ? await this.resolve(parseJump(proxyJump), depth + 1) : undefined;
    return {
      name: request.host,
      hostName: first(computed.HostName) ?? request.host,
      port: request.port ?? (first(computed.Port) ? Number(first(computed.Port)) : 22),
      user: request.user ?? first(computed.User) ?? this.defaultUser,
      identityFiles: (request.identityFiles ?? asList(computed.IdentityFile)).map(expandHome),
      ...(jump ? { jump } : {}),
    };
  }

  private load(): Promise<SSHConfig | undefined> {
    this.parsed ??= (async () => {
      if (!this.configFile) return undefined;
      try {
        return SSHConfig.parse(await fs.readFile(this.configFile, 'utf8'));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new Error(`cannot read ${this.configFile}: ${(error as Error).message}`);
      }
    })();
    return this.parsed;
  }
}
