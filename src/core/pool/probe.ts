import { classifyXeFailure, parseEmergencyModeFlag, parsePoolConf, type PoolRole, type XeFailure } from '../xe';

/**
 * The health probe: ONE shell command per host that reads everything we need to know, each part
 * with its own time bound, so a probe costs one SSH round trip. Everything in it is local to the
 * host — never a forwarded `xe` call, which would hang on a slave whose master is dead
 * (xapi-behaviour C.1):
 *  - pool.conf: the host's role, and the master address a slave points to;
 *  - xensource-inventory: the host's own UUID (INSTALLATION_UUID);
 *  - `xe host-is-in-emergency-mode`: Neverforward, answers even without a master; its failure
 *    text tells whether xapi runs at all;
 *  - a TCP connect from the host to its master's port 443 (xapi-to-xapi traffic), so we learn
 *    whether the survivors themselves can still reach the master, not only whether we can.
 * Only POSIX sh, coreutils `timeout` and bash's /dev/tcp are used: all present in dom0.
 */
export const PROBE_SCRIPT = [
  // Shell built-ins wherever possible: a probe runs on every host at once, and each extra process
  // costs about a millisecond of a busy dom0's CPU.
  "conf=; if [ -r /etc/xensource/pool.conf ]; then IFS= read -r conf < /etc/xensource/pool.conf || :; echo '@@pool.conf'; printf '%s\\n' \"$conf\"; else echo '@@pool.conf-missing'; fi",
  // The master address comes from a file on the host; refuse anything but address characters
  // before it goes into a command line.
  'case "$conf" in slave:*) m=${conf#slave:} ;; *) m= ;; esac',
  'case "$m" in *[!0-9A-Za-z.:_-]*) m= ;; esac',
  "echo '@@inventory'; while IFS= read -r line; do case $line in INSTALLATION_UUID=*|PRODUCT_VERSION=*|PRODUCT_BRAND=*) printf '%s\\n' \"$line\" ;; esac; done < /etc/xensource-inventory 2>/dev/null",
  // 1 s is ample for a TCP connect inside a pool's network, and bounds how long a black-holed
  // master can delay each survivor's answer. In bash (dom0's login shell) the connect runs in a
  // forked subshell, given up after 1 s: no program is started for it. The subshell first lets go
  // of the channel's stdin and stderr, so that even where `$!` does not name it (older bash) and
  // the kill misses, a connect still hanging cannot hold the SSH channel open. `eval` keeps the
  // bash-only syntax away from other shells' parsers; they start `timeout` and bash.
  `if [ -n "$m" ] && [ -n "$BASH_VERSION" ]; then eval 'exec 4< <(exec 2>/dev/null </dev/null; if exec 3<>"/dev/tcp/$m/443"; then echo open; else echo closed; fi)'; pc=$!; read -r -t 1 -u 4 p || p=closed; exec 4<&-; kill "$pc" 2>/dev/null; echo "@@master-port $p"`,
  'elif [ -n "$m" ]; then if timeout 1 bash -c "exec 3<>/dev/tcp/$m/443" 2>/dev/null; then echo "@@master-port open"; else echo "@@master-port closed"; fi; fi',
  // xe comes last and replaces the shell (exec: one process fewer), so its stdout and stderr end
  // the channel's, each after a marker, and its exit status (124: `timeout` killed it) is the
  // command's. Whatever a login script printed to stderr before the marker is ignored.
  "echo '@@emergency.stdout'; echo '@@emergency.stderr' >&2",
  'exec timeout 5 xe host-is-in-emergency-mode',
].join('\n');

/** What one probe learned about one host, before any interpretation. */
export interface HostProbeFacts {
  readonly role: PoolRole | undefined;
  /** Why the role is unknown: pool.conf missing (not a XenServer host?) or unreadable. */
  readonly roleProblem?: string;
  readonly installationUuid?: string;
  readonly productVersion?: string;
  readonly xapi: 'running' | 'down' | 'hung' | 'missing' | 'unknown';
  readonly emergency: boolean | undefined;
  /** The failure `host-is-in-emergency-mode` reported, if any. */
  readonly emergencyFailure?: XeFailure;
  /** Whether this host could open TCP 443 on the master it points to; undefined for a master. */
  readonly masterPortOpen: boolean | undefined;
}

/** The probe output was not what the script prints: the host ran something else (no sh, wrapper, garbage). */
export class ProbeOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProbeOutputError';
  }
}

/** The section xe's output goes to: it comes last, and nothing after its marker is the script's. */
const XE_SECTION = 'emergency.stdout';

/**
 * `@@name` starts a section of the following lines; `@@name value` is a one-line section. What the host controls
 * cannot forge one: pool.conf's line is taken as it is (whatever it looks like), a section already read is not
 * replaced, and every line after xe's marker is xe's output (xe runs last and prints what a VM's name holds).
 */
function sections(stdout: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  const lines = stdout.split('\n');
  let current: string[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const marker = /^@@(\S+)(?: (.*))?$/.exec(line);
    if (!marker?.[1] || result.has(marker[1])) {
      current?.push(line);
    } else if (marker[1] === XE_SECTION) {
      result.set(XE_SECTION, lines.slice(i + 1));
      break;
    } else if (marker[2] === undefined) {
      current = [];
      result.set(marker[1], current);
      if (marker[1] === 'pool.conf') {
        current.push(lines[++i] ?? '');
        current = undefined;
      }
    } else {
      current = undefined;
      result.set(marker[1], [marker[2]]);
    }
  }
  return result;
}

function required(parts: Map<string, string[]>, name: string): string[] {
  const part = parts.get(name);
  if (!part) throw new ProbeOutputError(`probe output has no "${name}" section`);
  return part;
}

function trimTrailingEmpty(lines: string[]): string[] {
  const copy = [...lines];
  while (copy.length && copy[copy.length - 1] === '') copy.pop();
  return copy;
}

function parseRole(lines: string[] | undefined): Pick<HostProbeFacts, 'role' | 'roleProblem'> {
  if (!lines) return { role: undefined, roleProblem: '/etc/xensource/pool.conf does not exist or is not readable (is this a XenServer / XCP-ng host?)' };
  const text = trimTrailingEmpty(lines).join('\n');
  try {
    return { role: parsePoolConf(text) };
  } catch (error) {
    return { role: undefined, roleProblem: `pool.conf is not readable as a role: ${(error as Error).message}` };
  }
}

function inventoryValue(lines: string[], key: string): string | undefined {
  const line = lines.find((l) => l.startsWith(`${key}=`));
  return line?.slice(key.length + 1).replace(/^'(.*)'$/, '$1');
}

function parseEmergency(stdoutLines: string[], stderrLines: string[], exitCode: number): Pick<HostProbeFacts, 'xapi' | 'emergency' | 'emergencyFailure'> {
  const stdout = `${trimTrailingEmpty(stdoutLines).join('\n')}\n`;
  const stderr = trimTrailingEmpty(stderrLines).join('\n');
  if (exitCode === 124) return { xapi: 'hung', emergency: undefined }; // `timeout` killed xe
  if (exitCode === 127 || /xe: (command )?not found/.test(stderr)) return { xapi: 'missing', emergency: undefined };
  if (exitCode === 0 && stderr === '') return { xapi: 'running', emergency: parseEmergencyModeFlag(stdout) };
  const failure = classifyXeFailure({ stdout, stderr: stderr ? `${stderr}\n` : '', exitCode });
  const xapi = failure.code === 'XAPI_UNREACHABLE' ? 'down' : 'unknown';
  return { xapi, emergency: undefined, emergencyFailure: failure };
}

/** What the probe command printed (its sections on stdout, xe's errors on stderr) and its exit status, xe's. */
export interface ProbeOutput {
  readonly stdout: string;
  readonly stderr: string;
  /** null when the command ended without a status (killed, or the connection dropped). */
  readonly exitCode: number | null;
}

/** Turns the probe script's output into facts; throws ProbeOutputError on anything else. */
export function parseProbeOutput({ stdout, stderr, exitCode }: ProbeOutput): HostProbeFacts {
  if (exitCode === null) throw new ProbeOutputError('the probe ended without an exit status (killed, or the connection dropped)');
  const parts = sections(stdout);
  const errors = required(sections(stderr), 'emergency.stderr');
  const inventory = required(parts, 'inventory');
  const masterPort = parts.get('master-port')?.[0];
  const installationUuid = inventoryValue(inventory, 'INSTALLATION_UUID');
  const productVersion = inventoryValue(inventory, 'PRODUCT_VERSION');
  return {
    ...parseRole(parts.has('pool.conf-missing') ? undefined : required(parts, 'pool.conf')),
    ...(installationUuid ? { installationUuid } : {}),
    ...(productVersion ? { productVersion } : {}),
    ...parseEmergency(required(parts, 'emergency.stdout'), errors, exitCode),
    masterPortOpen: masterPort === undefined ? undefined : masterPort === 'open',
  };
}
