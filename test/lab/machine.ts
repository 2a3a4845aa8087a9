/**
 * What the lab needs from this machine, prepared or checked at every lab start, idempotently.
 *
 * A machine that never ran the project lacks things a reused one has by accident: Debian's openssh-server creates
 * sshd's privilege separation directory /run/sshd only when an init system starts its service, and /run is emptied
 * at every boot; a package's postinst may not have run in an image; root's PATH may lack /usr/sbin. Each such
 * assumption is listed here once, made true where the lab can do it itself, and otherwise refused with one line
 * that names what is missing and the command that fixes it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SetupError } from '../support/setupError';

/** Every program the lab starts, with the Debian package that ships it (scripts/ensure-system.mjs installs them). */
const LAB_PROGRAMS: Readonly<Record<string, string>> = {
  sshd: 'openssh-server',
  'ssh-keygen': 'openssh-client',
  ssh: 'openssh-client',
  nft: 'nftables',
  unshare: 'util-linux',
  setpriv: 'util-linux',
  openssl: 'openssl',
  bash: 'bash',
};

/** sshd's privilege separation directory: sshd refuses to start without it ("Missing privilege separation directory"). */
const SSHD_PRIVSEP_DIR = '/run/sshd';
/** The unprivileged user sshd's pre-authentication child runs as; openssh-server's postinst creates it. */
const SSHD_PRIVSEP_USER = 'sshd';

/** Where `name` is found on PATH, or undefined. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

function checkPrograms(): void {
  for (const [name, pkg] of Object.entries(LAB_PROGRAMS)) {
    if (onPath(name)) continue;
    const installed = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].map((dir) => path.join(dir, name)).find((p) => fs.existsSync(p));
    throw installed
      ? new SetupError(`${name} is installed (${installed}) but not on PATH`, `export PATH=${path.dirname(installed)}:$PATH`)
      : new SetupError(`${name} is missing (Debian package ${pkg})`, `apt-get install -y ${pkg}`);
  }
}

/** /run/sshd, root-owned and 0755 as sshd demands; made again after every boot. */
function preparePrivsepDir(): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(SSHD_PRIVSEP_DIR);
  } catch {
    fs.mkdirSync(SSHD_PRIVSEP_DIR, { mode: 0o755 });
    st = fs.lstatSync(SSHD_PRIVSEP_DIR);
  }
  if (!st.isDirectory()) throw new SetupError(`${SSHD_PRIVSEP_DIR} exists but is not a directory; sshd needs it as its privilege separation directory`, `rm ${SSHD_PRIVSEP_DIR} && mkdir -m 0755 ${SSHD_PRIVSEP_DIR}`);
  if (st.uid !== 0 || st.gid !== 0) fs.chownSync(SSHD_PRIVSEP_DIR, 0, 0);
  // sshd refuses a privilege separation directory that is group or world writable.
  if ((st.mode & 0o7777) !== 0o755) fs.chmodSync(SSHD_PRIVSEP_DIR, 0o755);
}

function checkPrivsepUser(): void {
  const passwd = fs.readFileSync('/etc/passwd', 'utf8');
  if (!new RegExp(`^${SSHD_PRIVSEP_USER}:`, 'm').test(passwd)) {
    throw new SetupError(
      `the user "${SSHD_PRIVSEP_USER}" that sshd runs its unprivileged child as is missing (openssh-server's postinst did not run)`,
      `adduser --quiet --system --no-create-home --home ${SSHD_PRIVSEP_DIR} --shell /usr/sbin/nologin ${SSHD_PRIVSEP_USER}`,
    );
  }
}

/** The lab copies root's lines of /etc/passwd and /etc/shadow into each host's own copy. */
function checkRootAccount(): void {
  for (const file of ['/etc/passwd', '/etc/shadow']) {
    if (!/^root:/m.test(fs.readFileSync(file, 'utf8'))) throw new SetupError(`${file} has no line for root`, `pwck ${file}`);
  }
}

/** Password logins through PAM (keyboard-interactive) read sshd's PAM stack, a conffile of openssh-server. */
function checkPam(): void {
  if (!fs.existsSync('/etc/pam.d/sshd')) throw new SetupError('/etc/pam.d/sshd is missing (a conffile of openssh-server)', 'apt-get install -y --reinstall -o Dpkg::Options::=--force-confmiss openssh-server');
}

/** Each host's sshd runs in a mount namespace of its own; a container without CAP_SYS_ADMIN cannot make one. */
function checkMountNamespaces(): void {
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new SetupError(`cannot create a mount namespace (unshare --mount: ${(probe.stderr || String(probe.error ?? probe.status)).trim()})`, 'run as root on a machine or VM, or in a container started with --privileged');
}

/** Black holes and partitions are nftables rules; the kernel must have nf_tables. */
function checkNftables(): void {
  const probe = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new SetupError(`nftables does not work here (nft list tables: ${(probe.stderr || String(probe.error ?? probe.status)).trim()})`, 'modprobe nf_tables');
}

/** Whether this process already found the machine's programs, accounts, mount namespaces and nftables fine. */
let machineChecked = false;

/**
 * Prepares and checks everything the lab's sshd hosts need; throws a SetupError naming the fix. /run/sshd is
 * prepared at every start (a reboot or another process may remove it); what cannot change under a running process
 * (programs, accounts, kernel features: two short probes) is checked once per process, so the benchmarks' 64 labs
 * and the test suites' many do not pay for it again.
 */
export function prepareMachineForLab(options: { keyboardInteractive?: boolean } = {}): void {
  if (process.getuid?.() !== 0) throw new SetupError('the lab needs root (mount namespaces, nftables, port 22 and 443 on loopback addresses)', 'sudo npm test   (or run as root in a VM or container)');
  if (!machineChecked) {
    checkPrograms();
    checkRootAccount();
    checkPrivsepUser();
    checkMountNamespaces();
    checkNftables();
    machineChecked = true;
  }
  preparePrivsepDir();
  if (options.keyboardInteractive) checkPam();
}

/**
 * The line of an sshd log that says why it stopped: sshd -e writes its fatal error last; earlier lines may be
 * warnings. Debug lines and blank lines are skipped.
 */
function sshdFailureLine(log: string): string {
  const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.reverse().find((l) => !/^debug\d?:/.test(l)) ?? '(sshd wrote nothing to its log)';
}

/** The error for a host whose sshd exited before it accepted connections: its own words, and what helps. */
export function sshdRefused(host: string, address: string, port: number, hostDir: string): SetupError {
  const log = path.join(hostDir, 'sshd.log');
  let text = '';
  try {
    text = fs.readFileSync(log, 'utf8');
  } catch {
    /* no log: say so below */
  }
  const line = sshdFailureLine(text);
  const fix = /Address already in use/.test(line)
    ? `find what listens there with: ss -ltnp 'src ${address}:${port}' (another lab? npm run lab -- down --all)`
    : `see sshd's own check: /usr/sbin/sshd -t -f ${path.join(hostDir, 'sshd_config')}`;
  return new SetupError(`sshd of ${host} refused to start: "${line}" (log: ${path.relative(process.cwd(), log) || log})`, fix);
}
