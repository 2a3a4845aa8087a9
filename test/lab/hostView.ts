/*
 * What a lab host looks like from inside: the files bind-mounted over /etc/xensource, /etc/xensource-inventory,
 * /opt/xensource/bin, /etc/passwd and /etc/shadow in its sshd's mount namespace, and that sshd's configuration.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
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
