/**
 * The lab: simulated XenServer pool hosts behind real OpenSSH servers.
 *
 * Per host:
 *  - its own loopback address (default 127.77.<lab>.<n>) with `sshd` on port 22 (configurable) and its own host key;
 *    login as `root` with the lab's key or the lab's password;
 *  - sshd runs inside the host's own mount namespace (`unshare --mount`), where the host's directory is bind-mounted
 *    over /etc/xensource (pool.conf), /etc/xensource-inventory, /opt/xensource/bin (xe, xe-toolstack-restart; first on
 *    PATH via sshd `SetEnv`), /etc/passwd and /etc/shadow. Every session sshd forks inherits that view, so no
 *    per-command wrapper is needed (cheaper than the forced-command wrapper of TESTBED.md, same effect). The lab
 *    passwd gives root dom0's login shell, bash, with an empty home, so no rc files run (this machine's root
 *    .bashrc runs pyenv: 145 ms), and a per-host primary group id that nftables uses (`meta skgid`) to tell the
 *    hosts' outgoing packets apart;
 *  - `xe` is a tiny bash client that sends argv to the one simulator process over loopback TCP and evals the reply
 *    (stdout, stderr and exit code, byte-exact);
 *  - the simulator listens on <addr>:443 while the host is on and its xapi runs (the "xapi port" for TCP checks).
 * Faults: power off (sshd and every process of the host killed → connection refused), black hole and partitions
 * (nftables drop rules in one table per lab), xapi down, slow host, garbage/truncated output, changed host key,
 * changed root password.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Durations, EmergencyModel, LabStateSnapshot, SimHost, Simulator } from './sim';
import { prepareMachineForLab } from './machine';
import { canConnect, delay, pidsInMountNs, procStat, run } from './processes';
import { type ControlRequest, startControlServer } from './controlSocket';
import { statusTable } from './labStatus';
import {
  atomicWrite,
  claimOctet,
  ensureMountpoints,
  nftTableName,
  readRegistry,
  registerLab,
  releaseOctet,
  removeMountpointsIfUnused,
  removeRegistryIfEmpty,
  unregisterLab,
  withRegistryLock,
} from './registry';
import { LabHost } from './labHost';
import { XeServer } from './xeClient';
import { DOM0_LOGIN_SHELL, changeRootPassword, replaceHostKey, restoreHostKey, restoreRootPassword, setRootShell, setSlowShell, shadowWithRoot, writeHostView } from './hostView';
import { applyNftRules, nftRules } from './nft';
import { XapiVersion } from './texts';
import { SetupError } from '../support/setupError';


export interface LabOptions {
  /** Lab name: used for the directory, the nft table and the UUID seed. Default 'lab<third octet>'. */
  name?: string;
  hosts?: number;
  model?: EmergencyModel;
  ha?: boolean;
  timeScale?: number;
  version?: XapiVersion;
  /**
   * First three octets of the host addresses; hosts get .1, .2, … Default '127.77.1'. 'auto' claims a free
   * 127.77.X (X in 128..254) atomically and appends -X to the name, so several processes (e.g. two engineers running
   * the lab tests at once) never collide.
   */
  baseAddress?: string;
  sshPort?: number;
  xapiPort?: number;
  password?: string;
  /** Lab directory (keys, host dirs, state.json). Default <repo>/.lab/<name>. */
  dir?: string;
  durations?: Partial<Durations>;
  vmsPerHost?: number;
  /** memory-total per host in bytes (index 0 = host 1); default 128 GiB each. */
  hostMemory?: number[];
  /** The pool's name-label (default pool-lab). */
  poolName?: string;
  /**
   * Passwords through PAM's keyboard-interactive, as XenServer's own sshd asks for them, instead of
   * plain password authentication (UsePAM yes; PAM reads each host's own /etc/shadow).
   */
  keyboardInteractive?: boolean;
  /** Print progress lines. */
  log?: (line: string) => void;
}

export type { LabHostInfo } from './labHost';

export type FaultKind = 'poweroff' | 'poweron' | 'blackhole' | 'xapi-down' | 'slow' | 'slow-xapi' | 'garbage' | 'truncate' | 'hostkey' | 'password' | 'partition';
export const FAULT_KINDS: FaultKind[] = ['poweroff', 'poweron', 'blackhole', 'xapi-down', 'slow', 'slow-xapi', 'garbage', 'truncate', 'hostkey', 'password', 'partition'];

const REPO = path.resolve(__dirname, '..', '..', '..');
const GID_BASE = 470000;

export class Lab {
  readonly name: string;
  readonly dir: string;
  readonly user = 'root';
  readonly password: string;
  readonly keyFile: string;
  readonly knownHostsFile: string;
  readonly sim: Simulator;
  readonly hosts: LabHost[] = [];
  readonly sshPort: number;
  readonly xapiPort: number;
  readonly baseAddress: string;
  xePort = 0;
  controlPort = 0;
  /** Wall-clock ms that start() took. */
  startMs = 0;
  private claimedOctet: number | null = null;
  private readonly xeServer: XeServer;
  private controlServer: net.Server | null = null;
  private nftApplied = '';
  private nftError: Error | null = null;
  private stopping = false;
  private stopped = false;
  private persistTimer: NodeJS.Timeout | null = null;
  private readonly log: (line: string) => void;
  private exitHandler = (): void => this.emergencyCleanup();

  private constructor(readonly opts: LabOptions) {
    const base = opts.baseAddress ?? '127.77.1';
    if (!/^127\.\d{1,3}\.\d{1,3}$/.test(base)) throw new Error(`baseAddress must be three octets inside 127.0.0.0/8, got ${base}`);
    this.baseAddress = base;
    this.name = opts.name ?? `lab${base.split('.')[2]}`;
    if (!/^[a-z0-9_-]{1,24}$/i.test(this.name)) throw new Error(`bad lab name ${this.name}`);
    this.dir = path.resolve(opts.dir ?? path.join(REPO, '.lab', this.name));
    this.password = opts.password ?? 'xenlab-pw';
    this.keyFile = path.join(this.dir, 'id_ed25519');
    this.knownHostsFile = path.join(this.dir, 'known_hosts');
    this.sshPort = opts.sshPort ?? 22;
    this.xapiPort = opts.xapiPort ?? 443;
    this.log = opts.log ?? ((): void => undefined);
    const n = opts.hosts ?? 3;
    if (n < 1 || n > 200) throw new Error('hosts must be 1..200');
    const addresses = Array.from({ length: n }, (_, i) => `${base}.${i + 1}`);
    this.sim = new Simulator({
      name: this.name,
      addresses,
      model: opts.model ?? 'code',
      ha: opts.ha ?? false,
      timeScale: opts.timeScale ?? 1,
      version: opts.version ?? '8.3',
      password: this.password,
      durations: opts.durations ?? {},
      vmsPerHost: opts.vmsPerHost ?? 2,
      ...(opts.hostMemory ? { hostMemory: opts.hostMemory } : {}),
      ...(opts.poolName ? { poolName: opts.poolName } : {}),
    });
    this.xeServer = new XeServer(this.sim);
    const octet = Number(base.split('.')[2]);
    this.sim.hosts.forEach((h) => {
      this.hosts.push(
        new LabHost({ index: h.index, name: h.name, uuid: h.uuid, address: h.address, sshPort: this.sshPort, dir: path.join(this.dir, 'hosts', `h${h.index}`) }, GID_BASE + octet * 256 + h.index),
      );
    });
  }

  /** Starts a lab: checks system packages, writes host dirs and keys, starts the simulator and one sshd per host. */
  static async start(opts: LabOptions = {}): Promise<Lab> {
    const t0 = Date.now();
    const mod = (await import(pathToFileURL(path.join(REPO, 'scripts', 'ensure-system.mjs')).href)) as { ensureSystemPackages(sets: string[]): void };
    mod.ensureSystemPackages(['lab']);
    prepareMachineForLab({ keyboardInteractive: opts.keyboardInteractive ?? false });
    let claimed: number | null = null;
    if (opts.baseAddress === 'auto') {
      claimed = claimOctet();
      opts = { ...opts, baseAddress: `127.77.${claimed}`, name: `${opts.name ?? 'lab'}-${claimed}` };
    }
    let lab: Lab;
    try {
      lab = new Lab(opts);
    } catch (e) {
      if (claimed !== null) releaseOctet(claimed);
      throw e;
    }
    lab.claimedOctet = claimed;
    process.on('exit', lab.exitHandler);
    try {
      await lab.setUp();
    } catch (e) {
      await lab.stop().catch(() => undefined);
      throw e;
    }
    lab.startMs = Date.now() - t0;
    return lab;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // set-up

  private async setUp(): Promise<void> {
    withRegistryLock(() => {
      const other = readRegistry().find((r) => r.name === this.name || r.base === this.baseAddress);
      if (other) throw new Error(`lab ${other.name} (${other.base}) is already running (pid ${other.pid}); run 'down' first or choose another name/base`);
      registerLab(this.name, this.baseAddress);
      ensureMountpoints();
    });
    // a lab of this name that crashed may have left its nft table (its sshds died with it: pdeathsig)
    spawnSync('nft', ['delete', 'table', 'inet', this.nftTable], { stdio: 'ignore' });
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(this.dir, 'hosts'), { recursive: true });
    await this.startServers();
    // keys: one user key pair for the lab, one host key per host (generated in parallel)
    await Promise.all([
      run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `xenlab-${this.name}`, '-f', this.keyFile]),
      ...this.hosts.map(async (h) => {
        fs.mkdirSync(path.join(h.info.dir, 'home'), { recursive: true });
        await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', h.info.name, '-f', path.join(h.info.dir, 'ssh_host_ed25519_key')]);
      }),
    ]);
    fs.copyFileSync(`${this.keyFile}.pub`, path.join(this.dir, 'authorized_keys'));
    const shadowHash = execFileSync('openssl', ['passwd', '-6', this.password], { encoding: 'utf8' }).trim();
    const passwd = fs.readFileSync('/etc/passwd', 'utf8');
    const shadow = fs.readFileSync('/etc/shadow', 'utf8');
    const known: string[] = [];
    for (const h of this.hosts) this.writeHostFiles(h, passwd, shadow, shadowHash, known);
    fs.writeFileSync(this.knownHostsFile, known.join(''));
    await this.checkPortsFree();
    await Promise.all(this.hosts.map((h) => h.startSshd()));
    this.sim.on('change', () => this.reconcile());
    this.sim.start();
    this.reconcile();
    this.writeLabJson();
    this.persistNow();
  }

  /**
   * Another process listening on a host's ssh or xapi port would answer in its place (a connect check cannot tell
   * it from the lab's sshd): refuse to start instead.
   */
  private async checkPortsFree(): Promise<void> {
    const taken = await Promise.all(
      this.hosts.flatMap((h) => [this.sshPort, this.xapiPort].map(async (port) => ((await canConnect(h.info.address, port)) ? `${h.info.address}:${port}` : ''))),
    );
    const busy = taken.filter(Boolean);
    if (busy.length) {
      throw new SetupError(`${busy.join(', ')} ${busy.length > 1 ? 'are' : 'is'} already taken by another process, so lab ${this.name} cannot listen there`, `see which with: ss -ltnp 'src ${this.baseAddress}.0/24' (another lab? npm run lab -- down --all)`);
    }
  }

  private writeHostFiles(h: LabHost, passwd: string, shadow: string, hash: string, known: string[]): void {
    const sh = this.sim.host(h.info.index);
    fs.mkdirSync(path.join(h.info.dir, 'etc-xensource'), { recursive: true });
    h.writePoolConf(this.sim.poolConfOf(sh));
    writeHostView({
      host: h.info,
      gid: h.gid,
      version: this.sim.opts.version,
      controlDomainUuid: sh.db.hosts[h.info.index - 1]?.controlDomainUuid ?? '',
      xePort: this.xePort,
      authorizedKeys: path.join(this.dir, 'authorized_keys'),
      keyboardInteractive: this.opts.keyboardInteractive ?? false,
      passwd,
      shadow: shadowWithRoot(shadow, hash),
    });
    const pub = fs.readFileSync(path.join(h.info.dir, 'ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/);
    known.push(`${h.knownName()} ${pub[0]} ${pub[1]}\n`);
  }

  /** Kills the host's sshd and every process of its mount namespace; reaped() waits until they are gone. */
  private killHost(h: LabHost): void {
    this.dying.push(...h.kill());
  }

  private dying: number[] = [];

  /** Waits until every process killed by killHost has really gone (its listening socket is closed then). */
  private async reaped(): Promise<void> {
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      this.dying = this.dying.filter((pid) => {
        const st = procStat(pid);
        return st !== null && st.state !== 'Z';
      });
      if (this.dying.length === 0) return;
      await delay(5);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // servers: xe clients, control, per-host xapi port

  private async startServers(): Promise<void> {
    this.xePort = await this.xeServer.start();
    this.controlServer = await startControlServer((req) => this.control(req));
    this.controlPort = (this.controlServer.address() as net.AddressInfo).port;
  }

  private async control(req: ControlRequest): Promise<unknown> {
    switch (req.op) {
      case 'status':
        return { table: this.statusTable(), connect: this.connectionInfo() };
      case 'state':
        return this.sim.snapshot();
      case 'fault':
        await this.fault((req.kind ?? '') as FaultKind, req.host ?? '', req.arg);
        return this.statusTable();
      case 'heal':
        await this.heal(req.host ?? '');
        return this.statusTable();
      case 'down':
        setImmediate(() => void this.stop().then(() => this.emit('down')));
        return 'stopping';
      default:
        throw new Error(`unknown op ${req.op}`);
    }
  }

  private downListeners: (() => void)[] = [];
  onDown(fn: () => void): void {
    this.downListeners.push(fn);
  }
  private emit(_e: 'down'): void {
    for (const f of this.downListeners) f();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // reconciling the real world with the simulator state

  private reconcile(): void {
    if (this.stopping) return;
    for (const h of this.hosts) {
      const s = this.sim.host(h.info.index);
      // pool.conf says the new role at once, during a role change's fuse too (xapi then still serves the old one).
      const conf = this.sim.poolConfOf(s);
      if (conf !== h.writtenRole) h.writePoolConf(conf);
      const on = s.faults.power === 'on';
      // Port 443 is stunnel, a service of its own in front of xapi: it stays open while the host runs, whatever xapi
      // does (down, restarting after a role change).
      h.setXapiListener(on, this.xapiPort, this.log);
      if (!on && (h.sshd || h.starting)) this.killHost(h);
      if (on && !h.sshd && !h.starting) h.startSshd().catch((e: unknown) => this.log(String(e)));
    }
    try {
      this.applyNft();
    } catch (e) {
      // never crash the lab process from an event handler; the fault call that caused it reports the error
      this.log(`nft: ${e instanceof Error ? e.message : String(e)}`);
      this.nftError = e instanceof Error ? e : new Error(String(e));
    }
    this.schedulePersist();
  }

  private get nftTable(): string {
    return nftTableName(this.name);
  }

  private applyNft(): void {
    const rules = nftRules(this.baseAddress, this.hosts.map((h) => ({ index: h.info.index, address: h.info.address, gid: h.gid, blackhole: this.sim.host(h.info.index).faults.blackhole })), this.sim.partitions);
    const text = rules.join('\n');
    if (text === this.nftApplied) return;
    applyNftRules(this.nftTable, rules);
    this.nftApplied = text;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // faults

  hostByArg(id: string | number): LabHost {
    const s = this.sim.findHost(id);
    const h = s ? this.hosts[s.index - 1] : undefined;
    if (!h) throw new Error(`no such host: ${id}`);
    return h;
  }

  private simHost(h: LabHost): SimHost {
    return this.sim.host(h.info.index);
  }

  /** Injects a fault. `arg`: delay ms for 'slow' / 'slow-xapi' (default 2000), the other host for 'partition'. */
  async fault(kind: FaultKind, host: string | number, arg?: string): Promise<void> {
    const h = this.hostByArg(host);
    const s = this.simHost(h);
    switch (kind) {
      case 'poweroff':
        this.sim.powerOff(s);
        this.killHost(h);
        await this.reaped();
        break;
      case 'poweron':
        this.sim.powerOn(s);
        break;
      case 'blackhole':
        this.sim.setBlackhole(s, true);
        break;
      case 'xapi-down':
        this.sim.setXapiDown(s, true);
        break;
      case 'slow': {
        // every SSH command is delayed
        const ms = arg ? Number(arg) : 2000;
        if (!Number.isFinite(ms) || ms < 0) throw new Error('slow needs a delay in ms');
        setSlowShell(h.info.dir, ms);
        s.faults.sessionDelayMs = ms;
        this.sim.markChanged();
        break;
      }
      case 'slow-xapi':
        this.sim.setSlow(s, arg ? Number(arg) : 2000);
        break;
      case 'garbage':
      case 'truncate':
        // arg: the one xe subcommand whose output is spoilt (e.g. vm-list); without it, every command's.
        this.sim.setOutputFault(s, kind, arg ?? null);
        break;
      case 'hostkey': {
        await replaceHostKey(h.info.dir, h.info.name);
        s.faults.hostKeyChanged = true;
        await h.restartSshd();
        this.sim.markChanged();
        break;
      }
      case 'password':
        changeRootPassword(h.info.dir);
        s.faults.wrongPassword = true;
        this.sim.markChanged();
        break;
      case 'partition': {
        if (!arg) throw new Error('partition needs the other host');
        const o = this.hostByArg(arg);
        this.sim.setPartition(s, this.simHost(o), true);
        break;
      }
      default:
        throw new Error(`unknown fault kind ${String(kind)} (known: ${FAULT_KINDS.join(', ')})`);
    }
    this.nftError = null;
    this.reconcile();
    if (this.nftError) throw this.nftError;
    if (kind === 'poweron') await h.starting;
  }

  /** Removes every fault of a host (powers it on, restores key/password, lifts drops and partitions involving it). */
  async heal(host: string | number): Promise<void> {
    const h = this.hostByArg(host);
    const s = this.simHost(h);
    if (s.faults.blackhole) this.sim.setBlackhole(s, false);
    for (const key of [...this.sim.partitions]) {
      const [a, b] = key.split('|').map(Number);
      if (a === s.index || b === s.index) this.sim.setPartition(this.sim.host(a ?? 0), this.sim.host(b ?? 0), false);
    }
    if (s.faults.slowMs) this.sim.setSlow(s, 0);
    if (s.faults.sessionDelayMs) {
      setRootShell(h.info.dir, DOM0_LOGIN_SHELL);
      s.faults.sessionDelayMs = 0;
    }
    if (s.faults.output) this.sim.setOutputFault(s, null);
    if (s.faults.xapiDown) this.sim.setXapiDown(s, false);
    if (s.faults.wrongPassword) {
      restoreRootPassword(h.info.dir);
      s.faults.wrongPassword = false;
    }
    if (s.faults.hostKeyChanged) {
      restoreHostKey(h.info.dir);
      s.faults.hostKeyChanged = false;
      if (s.faults.power === 'on') await h.restartSshd();
    }
    if (s.faults.power === 'off') this.sim.powerOn(s);
    this.sim.markChanged();
    this.reconcile();
    await h.starting;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // status, persistence

  statusTable(): string {
    return statusTable(this.sim, this.sshPort);
  }

  connectionInfo(): string {
    // Paths as the user would type them from where they started the lab (the repository, usually).
    const shown = (file: string): string => path.relative(process.cwd(), file) || file;
    const lines = [
      `XenServer pool lab '${this.name}': ${this.hosts.length} hosts, emergency model '${this.sim.opts.model}', HA ${this.sim.opts.ha ? 'on' : 'off'}, xapi ${this.sim.opts.version} wording, time scale ${this.sim.opts.timeScale}`,
      `  user:        ${this.user}`,
      `  password:    ${this.password}`,
      `  key file:    ${shown(this.keyFile)}`,
      `  known_hosts: ${shown(this.knownHostsFile)}`,
      `  hosts:       ${this.hosts.map((h) => `${h.info.name}=${h.info.address}`).join(' ')} (ssh port ${this.sshPort}, xapi port ${this.xapiPort})`,
      `  master:      ${this.hosts[0]?.info.address ?? ''}`,
      `  example:     ssh -i ${shown(this.keyFile)} -o UserKnownHostsFile=${shown(this.knownHostsFile)}${this.sshPort === 22 ? '' : ` -p ${this.sshPort}`} ${this.user}@${this.hosts[1]?.info.address ?? this.hosts[0]?.info.address ?? ''} xe host-is-in-emergency-mode`,
    ];
    return lines.join('\n') + '\n';
  }

  private writeLabJson(): void {
    const info = {
      name: this.name,
      pid: process.pid,
      controlPort: this.controlPort,
      xePort: this.xePort,
      user: this.user,
      password: this.password,
      keyFile: this.keyFile,
      knownHostsFile: this.knownHostsFile,
      sshPort: this.sshPort,
      xapiPort: this.xapiPort,
      hosts: this.hosts.map((h) => h.info),
    };
    atomicWrite(path.join(this.dir, 'lab.json'), JSON.stringify(info, null, 2) + '\n');
  }

  /**
   * The state file is for people and the CLI, so a fifth of a second behind is fresh enough. Every xe call changes
   * the state (its event log), and writing the whole snapshot per call would cost the simulator's process more than
   * the calls themselves once many hosts are busy (the 1024-host benchmark).
   */
  private schedulePersist(): void {
    if (this.persistTimer || this.stopped) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = null;
      this.persistNow();
    }, 200);
  }

  /** Write-to-temp + rename: readers never see a half-written state file. */
  persistNow(): void {
    if (this.stopped) return;
    atomicWrite(path.join(this.dir, 'state.json'), JSON.stringify(this.sim.snapshot(), null, 1) + '\n');
  }

  state(): LabStateSnapshot {
    return this.sim.snapshot();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // teardown

  /** Stops everything this lab started: sshds and their sessions, hanging clients, listeners, nft rules. */
  async stop(): Promise<void> {
    if (this.stopped || this.stopping) return;
    this.stopping = true;
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.sim.stop();
    const xeServerClosed = this.xeServer.stop();
    await Promise.all(this.hosts.map((h) => h.starting?.catch(() => undefined)));
    for (const h of this.hosts) {
      this.killHost(h);
      h.setXapiListener(false, this.xapiPort, this.log);
    }
    spawnSync('nft', ['delete', 'table', 'inet', this.nftTable], { stdio: 'ignore' });
    await Promise.all([xeServerClosed, this.controlServer ? new Promise<void>((r) => this.controlServer?.close(() => r())) : undefined]);
    // wait until every host process is gone
    await this.reaped();
    withRegistryLock(() => {
      unregisterLab(this.name);
      removeMountpointsIfUnused();
    });
    if (this.claimedOctet !== null) releaseOctet(this.claimedOctet);
    removeRegistryIfEmpty();
    try {
      fs.rmSync(path.join(this.dir, 'lab.json'), { force: true });
    } catch {
      /* ignore */
    }
    this.stopped = true;
    process.removeListener('exit', this.exitHandler);
  }

  /** Synchronous last-resort cleanup on process exit. */
  private emergencyCleanup(): void {
    if (this.stopped) return;
    for (const h of this.hosts) {
      const pids = [h.sshd?.pid ?? 0, ...(h.mntNs ? pidsInMountNs(h.mntNs) : [])];
      for (const pid of pids) {
        try {
          if (pid) process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    spawnSync('nft', ['delete', 'table', 'inet', this.nftTable], { stdio: 'ignore' });
    withRegistryLock(() => {
      unregisterLab(this.name);
      removeMountpointsIfUnused();
    });
    if (this.claimedOctet !== null) releaseOctet(this.claimedOctet);
    removeRegistryIfEmpty();
  }

  /** The lab's `xe` client processes alive on one host (or on all): a hung call still running there. */
  xeClientPids(host?: number | string): number[] {
    const hosts = host === undefined ? this.hosts : [this.hostByArg(host)];
    return hosts
      .flatMap((h) => (h.mntNs ? pidsInMountNs(h.mntNs) : []))
      .filter((pid) => {
        try {
          // bash runs the client script: its path (through PATH's xe link or not) is the second argument.
          return /\/(xe|xe-toolstack-restart)$/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1] ?? '');
        } catch {
          return false;
        }
      });
  }

  /** Every pid that belongs to this lab's hosts right now (for tests: must be empty after stop()). */
  /** Each host's listening sshd (its sessions are its children). */
  sshdPids(): number[] {
    return this.hosts.map((h) => h.sshd?.pid).filter((pid): pid is number => pid !== undefined);
  }

  livePids(): number[] {
    const nss = this.hosts.map((h) => h.mntNs).filter((x): x is string => !!x);
    return nss.flatMap((ns) => pidsInMountNs(ns));
  }
}
