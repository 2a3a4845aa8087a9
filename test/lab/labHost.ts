/**
 * One lab host's real-world side: its sshd in a mount namespace of its own (where the host's directory is
 * bind-mounted over dom0's paths), the processes of that namespace, its pool.conf file and its "xapi port".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { hostViewBinds } from './hostView';
import { sshdRefused } from './machine';
import { canConnect, delay, pidsInMountNs } from './processes';

export interface LabHostInfo {
  index: number;
  name: string;
  uuid: string;
  address: string;
  sshPort: number;
  dir: string;
}

export class LabHost {
  sshd: ChildProcess | null = null;
  /** The mount namespace of its sshd (`/proc/<pid>/ns/mnt`): every session of the host lives in it. */
  mntNs: string | null = null;
  xapiServer: net.Server | null = null;
  /** What pool.conf says as last written (the lab rewrites it only when the simulator's pool.conf changes). */
  writtenRole: string | null = null;
  /** Set while sshd starts; resolves once it accepts connections. */
  starting: Promise<void> | null = null;

  constructor(
    readonly info: LabHostInfo,
    /** The primary group of its root, which nftables uses (`meta skgid`) to tell the host's outgoing packets apart. */
    readonly gid: number,
  ) {}

  /** How known_hosts names the host. */
  knownName(): string {
    return this.info.sshPort === 22 ? this.info.address : `[${this.info.address}]:${this.info.sshPort}`;
  }

  writePoolConf(role: string): void {
    // pool.conf holds `master` or `slave:<ip>` without a trailing newline (xapi writes the bare string).
    const dir = path.join(this.info.dir, 'etc-xensource');
    const tmp = path.join(dir, `.pool.conf.${process.pid}.tmp`);
    fs.writeFileSync(tmp, role);
    fs.renameSync(tmp, path.join(dir, 'pool.conf'));
    this.writtenRole = role;
  }

  /** Starts the host's sshd inside a fresh mount namespace with the host's view; resolves when it accepts. */
  startSshd(): Promise<void> {
    if (this.sshd) return Promise.resolve();
    if (this.starting) return this.starting;
    const d = this.info.dir;
    // sshd -r: no re-exec of sshd per connection (a real dom0 re-execs for address-space randomisation; the lab only
    // saves the CPU, which counts when 1024 hosts are probed through a few connections that keep reconnecting).
    const script = hostViewBinds(d).map(([src, dst]) => `mount --bind '${src}' '${dst}' || exit 97`).join('; ') + `; exec setpriv --pdeathsig KILL /usr/sbin/sshd -D -e -r -f '${path.join(d, 'sshd_config')}'`;
    const logFd = fs.openSync(path.join(d, 'sshd.log'), 'a');
    const child = spawn('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', script], { stdio: ['ignore', logFd, logFd] });
    fs.closeSync(logFd);
    this.sshd = child;
    child.on('exit', () => {
      if (this.sshd === child) {
        this.sshd = null;
        this.mntNs = null;
      }
    });
    this.starting = (async (): Promise<void> => {
      const deadline = Date.now() + 10000;
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) throw sshdRefused(this.info.name, this.info.address, this.info.sshPort, d);
        if (await canConnect(this.info.address, this.info.sshPort)) break;
        if (Date.now() > deadline) throw new Error(`sshd for ${this.info.name} did not start`);
        await delay(15);
      }
      try {
        this.mntNs = fs.readlinkSync(`/proc/${child.pid}/ns/mnt`);
      } catch {
        this.mntNs = null;
      }
    })().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  /** Kills the host's sshd and every process that lives in its mount namespace (its sessions); returns their pids. */
  kill(): number[] {
    const pids: number[] = [];
    if (this.sshd?.pid) pids.push(this.sshd.pid);
    if (this.mntNs) pids.push(...pidsInMountNs(this.mntNs));
    for (const pid of new Set(pids)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    this.sshd = null;
    this.mntNs = null;
    return pids;
  }

  /** sshd re-reads its host key on SIGHUP (it re-execs itself in place: same pid, same mount namespace). */
  async restartSshd(): Promise<void> {
    if (!this.sshd?.pid) return;
    process.kill(this.sshd.pid, 'SIGHUP');
    await delay(50);
    const deadline = Date.now() + 5000;
    while (!(await canConnect(this.info.address, this.info.sshPort)) && Date.now() < deadline) await delay(20);
  }

  /**
   * The "xapi port" (stunnel in front of xapi on a real host): accept and close at once, which is all a TCP
   * reachability check needs. Nothing more, since every probe of every slave connects here and this process also
   * runs the benchmarks' engine.
   */
  setXapiListener(on: boolean, port: number, log: (line: string) => void): void {
    if (on && !this.xapiServer) {
      const srv = net.createServer({ pauseOnConnect: true }, (s) => s.destroy());
      srv.on('error', (e) => log(`xapi port ${this.info.address}:${port}: ${e.message}`));
      srv.listen(port, this.info.address);
      this.xapiServer = srv;
    } else if (!on && this.xapiServer) {
      this.xapiServer.close();
      this.xapiServer = null;
    }
  }
}
