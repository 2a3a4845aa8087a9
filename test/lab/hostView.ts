/*
 * What a lab host looks like from inside: the files bind-mounted over /etc/xensource, /etc/xensource-inventory,
 * /opt/xensource/bin, /etc/passwd and /etc/shadow in its sshd's mount namespace, and that sshd's configuration.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from './processes';
import type { XapiVersion } from './texts';
import { clientScript } from './xeClient';

/**
 * root's login shell on every lab host: bash, as in XenServer's and XCP-ng's dom0, so commands run by the same shell
 * (and cost the same start-up) as on a real host. The host's home is empty, so bash reads no ~/.bashrc; Debian's
 * /etc/bash.bashrc returns at once for a non-interactive shell.
 */
export const DOM0_LOGIN_SHELL = '/bin/bash';
/**
 * Where the lab puts dom0's `/usr/bin/xe` (a link to /opt/xensource/bin/xe): the lab cannot write this machine's
 * /usr/bin, so a folder of its own holding only that link comes first on PATH.
 */
export const LAB_USR_BIN = '/opt/xensource/lab-usr-bin';
/**
 * Each dom0 has its own /run; lab hosts share the machine's. The directory clients write there (the product's pool
 * lock, src/core/pool/poolLock.ts) is each host's own. A lock held when the lab host "reboots" stays (the lab
 * does not clear it; the harsher case: the product must cope with a lock that outlives its holder).
 */
export const HOST_RUN_DIR = '/run/xenserver-pools';
/**
 * A non-interactive SSH session's PATH on dom0: sshd's default, no /etc/profile.d additions, so `xe` (linked into
 * /usr/bin) is found and `xe-toolstack-restart` (only in /opt/xensource/bin) is not.
 */
const PATH_ENV = `${LAB_USR_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

/** Each file or folder of the host's directory, and where its sshd's mount namespace shows it. */
export function hostViewBinds(hostDir: string): [string, string][] {
  return [
    [path.join(hostDir, 'etc-xensource'), '/etc/xensource'],
    [path.join(hostDir, 'xensource-inventory'), '/etc/xensource-inventory'],
    [path.join(hostDir, 'bin'), '/opt/xensource/bin'],
    [path.join(hostDir, 'usr-bin'), LAB_USR_BIN],
    [path.join(hostDir, 'run-xenserver-pools'), HOST_RUN_DIR],
    [path.join(hostDir, 'passwd'), '/etc/passwd'],
    [path.join(hostDir, 'shadow'), '/etc/shadow'],
  ];
}

export function shadowWithRoot(shadow: string, hash: string): string {
  return shadow.replace(/^root:[^:]*:/m, `root:${hash}:`);
}

export interface HostViewSpec {
  readonly host: { readonly index: number; readonly uuid: string; readonly address: string; readonly sshPort: number; readonly dir: string };
  /** root's primary group on this host: nftables tells the hosts' packets apart by it (`meta skgid`). */
  readonly gid: number;
  readonly version: XapiVersion;
  readonly controlDomainUuid: string;
  readonly xePort: number;
  readonly authorizedKeys: string;
  readonly keyboardInteractive: boolean;
  /** This machine's /etc/passwd; root's line is replaced. */
  readonly passwd: string;
  /** /etc/shadow with the lab password as root's. */
  readonly shadow: string;
}

/** Writes the inventory, the thin xe clients, passwd/shadow and sshd_config into the host's directory. */
export function writeHostView(spec: HostViewSpec): void {
  const d = spec.host.dir;
  // /etc/xensource-inventory: shell-style key='value' lines (values fixed for the lab)
  const v = spec.version;
  const inv = [
    `PRIMARY_DISK='/dev/disk/by-id/lab-disk-${spec.host.index}'`,
    `PRODUCT_VERSION='${v === '8.3' ? '8.3.0' : v === '8.2' ? '8.2.1' : '7.6.0'}'`,
    `PRODUCT_BRAND='XCP-ng'`,
    `PRODUCT_NAME='xenenterprise'`,
    `PLATFORM_NAME='XCP'`,
    `BUILD_NUMBER='release/lab'`,
    `INSTALLATION_UUID='${spec.host.uuid}'`,
    `CONTROL_DOMAIN_UUID='${spec.controlDomainUuid}'`,
    `MANAGEMENT_INTERFACE='xenbr0'`,
    `MANAGEMENT_ADDRESS_TYPE='IPv4'`,
    `DOM0_MEM='4096'`,
    `DOM0_VCPUS='4'`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(d, 'xensource-inventory'), inv);
  // the thin clients (bash, no rc files; see README in this folder for the cost)
  fs.mkdirSync(path.join(d, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(d, 'bin', 'xe'), clientScript('xe', spec.host.index, spec.xePort), { mode: 0o755 });
  fs.writeFileSync(path.join(d, 'bin', 'xe-toolstack-restart'), clientScript('xe-toolstack-restart', spec.host.index, spec.xePort), { mode: 0o755 });
  fs.mkdirSync(path.join(d, 'usr-bin'), { recursive: true });
  fs.mkdirSync(path.join(d, 'run-xenserver-pools'), { recursive: true });
  fs.rmSync(path.join(d, 'usr-bin', 'xe'), { force: true });
  fs.symlinkSync('/opt/xensource/bin/xe', path.join(d, 'usr-bin', 'xe'));
  // per-host passwd/shadow: root gets dom0's shell, an empty home, a per-host primary gid, and the lab password
  const home = path.join(d, 'home');
  fs.writeFileSync(path.join(d, 'passwd'), spec.passwd.replace(/^root:[^\n]*$/m, `root:x:0:${spec.gid}:root:${home}:${DOM0_LOGIN_SHELL}`));
  fs.writeFileSync(path.join(d, 'shadow'), spec.shadow, { mode: 0o600 });
  fs.writeFileSync(path.join(d, 'shadow.good'), spec.shadow, { mode: 0o600 });
  fs.writeFileSync(
    path.join(d, 'sshd_config'),
    [
      `Port ${spec.host.sshPort}`,
      `ListenAddress ${spec.host.address}`,
      `HostKey ${path.join(d, 'ssh_host_ed25519_key')}`,
      'PidFile none',
      `AuthorizedKeysFile ${spec.authorizedKeys}`,
      'PubkeyAuthentication yes',
      ...(spec.keyboardInteractive
        ? ['PasswordAuthentication no', 'KbdInteractiveAuthentication yes', 'UsePAM yes']
        : ['PasswordAuthentication yes', 'KbdInteractiveAuthentication no', 'UsePAM no']),
      'StrictModes no',
      'PermitRootLogin yes',
      'UseDNS no',
      'PrintMotd no',
      'PrintLastLog no',
      'MaxStartups 256',
      // dom0's sshd_config leaves MaxSessions at OpenSSH's default: 10 sessions per connection.
      'MaxSessions 10',
      'MaxAuthTries 10',
      'LogLevel ERROR',
      `SetEnv PATH=${PATH_ENV}`,
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
}

// ---------------------------------------------------------------------------------------------------------------------
// the file side of faults (the host directory is bind-mounted into the host's namespace)

/** Bind-mounted files must be rewritten in place (a rename would leave the mount on the old inode). */
function writeInPlace(file: string, content: string): void {
  fs.writeFileSync(file, content);
}

/** Rewrites root's shell in the host's passwd (sshd reads it at each login). */
export function setRootShell(hostDir: string, shell: string): void {
  const file = path.join(hostDir, 'passwd');
  writeInPlace(file, fs.readFileSync(file, 'utf8').replace(/^(root:[^\n]*:)[^:\n]*$/m, `$1${shell}`));
}

/** Fault `slow`: root's login shell becomes a wrapper that sleeps, then runs the usual shell. */
export function setSlowShell(hostDir: string, ms: number): void {
  fs.writeFileSync(path.join(hostDir, 'bin', '.lab-slow-shell'), `#!/bin/sh\nsleep ${(ms / 1000).toFixed(3)}\nexec ${DOM0_LOGIN_SHELL} "$@"\n`, { mode: 0o755 });
  setRootShell(hostDir, '/opt/xensource/bin/.lab-slow-shell');
}

/** Fault `password`: root's password changes to one nobody knows (keys still work). */
export function changeRootPassword(hostDir: string): void {
  const hash = execFileSync('openssl', ['passwd', '-6', `changed-${Date.now()}`], { encoding: 'utf8' }).trim();
  writeInPlace(path.join(hostDir, 'shadow'), shadowWithRoot(fs.readFileSync(path.join(hostDir, 'shadow.good'), 'utf8'), hash));
}

export function restoreRootPassword(hostDir: string): void {
  writeInPlace(path.join(hostDir, 'shadow'), fs.readFileSync(path.join(hostDir, 'shadow.good'), 'utf8'));
}

/** Fault `hostkey`: the host was reinstalled, so it has a new host key (the original is kept to heal). */
export async function replaceHostKey(hostDir: string, hostName: string): Promise<void> {
  const key = path.join(hostDir, 'ssh_host_ed25519_key');
  if (!fs.existsSync(`${key}.orig`)) {
    fs.renameSync(key, `${key}.orig`);
    fs.renameSync(`${key}.pub`, `${key}.pub.orig`);
  } else {
    fs.rmSync(key, { force: true });
    fs.rmSync(`${key}.pub`, { force: true });
  }
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${hostName}-reinstalled`, '-f', key]);
}

export function restoreHostKey(hostDir: string): void {
  const key = path.join(hostDir, 'ssh_host_ed25519_key');
  fs.renameSync(`${key}.orig`, key);
  fs.renameSync(`${key}.pub.orig`, `${key}.pub`);
}
