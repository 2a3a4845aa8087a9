/**
 * The pool simulator core: one in-memory model of every simulated host and of their pool-database copies, and the
 * server-side semantics of `xe` (notes sections A–D, checklist G). It is the single writer of the lab state: every
 * `xe` call from every host is serialized through this object in one Node event loop, so concurrent calls cannot lose
 * updates (the event loop is the lock); the lab persists snapshots with write-to-temp + rename.
 *
 * Time: every duration below is in "real" seconds and is multiplied by `timeScale` (tests use e.g. 0.02).
 */
import { EventEmitter } from 'node:events';
import { FORWARDED_COMMANDS, LOCAL_COMMANDS, Parsed, XeFail, fail, mangle, ok, parseArgs } from './commands';
import { PoolDb, RecordContext, cloneDb, createPoolDb } from './db';
import { MASTER_UNREACHABLE_EXCEPTION, MSG, XapiError, XapiVersion, renderError, xapiError } from './texts';

export type EmergencyModel = 'code' | 'docs';
export type XapiState = 'running' | 'restarting' | 'stopped';
export type OutputFault = 'garbage' | 'truncate' | null;

export interface Durations {
  /** Fuse before a role-changing restart (`in 10. seconds...`). */
  fuse: number;
  /** xapi start-up time after it was stopped (added to the fuse for role changes). */
  startup: number;
  /** docs model: a slave enters emergency mode this long after losing its master (D.1, "sixty seconds"). */
  docsEmergency: number;
  /** HA: automatic master election after the master has been lost this long (D.5, 60 s). */
  haTimeout: number;
  /** An emergency-mode slave retries Pool.hello this often (D.1: 5 s on a temporary error). */
  helloRetry: number;
  /** How long the `xe-toolstack-restart` script itself runs before printing "done.". */
  toolstackRestart: number;
  /** The master pushes its DB to one slave at a time, this far apart (D.1, pool_db_sync_interval 300 s). */
  dbSync: number;
  /**
   * check_no_other_masters runs late in a master's start-up, after its DB is up and pool-list already names it
   * (xapi.ml server_init order): this long after xapi answers. Unconfirmed figure; a longer window is harsher.
   */
  masterCheckDelay: number;
  /** What each unreachable host costs check_no_other_masters (and recover-slaves): one connect attempt. Unconfirmed. */
  connectAttempt: number;
}

export const DEFAULT_DURATIONS: Durations = {
  fuse: 10,
  startup: 5,
  docsEmergency: 60,
  haTimeout: 60,
  helloRetry: 5,
  toolstackRestart: 3,
  dbSync: 300,
  masterCheckDelay: 5,
  connectAttempt: 10,
};

export interface SimOptions {
  name: string;
  addresses: string[];
  model: EmergencyModel;
  ha: boolean;
  timeScale: number;
  version: XapiVersion;
  password: string;
  durations?: Partial<Durations>;
  vmsPerHost?: number;
  poolName?: string;
  /** Tick period of the timing loop in ms (default 20). */
  tickMs?: number;
}

export interface HostFaults {
  power: 'on' | 'off';
  blackhole: boolean;
  xapiDown: boolean;
  /** Every `xe` call on the host is delayed by this (fault `slow-xapi`). */
  slowMs: number;
  /** Every SSH command on the host is delayed by this (fault `slow`; applied by the lab through root's shell). */
  sessionDelayMs: number;
  output: OutputFault;
  hostKeyChanged: boolean;
  wrongPassword: boolean;
}

export interface SimHost {
  index: number; // 1-based
  uuid: string;
  name: string;
  address: string;
  /**
   * The role xapi runs in (its in-memory Pool_role). pool.conf says the same, except during a role change's fuse:
   * then `poolConf` holds what pool.conf already says, and xapi keeps serving in `role` until the fuse ends
   * (xapi_fuse.ml). The lab's state and the hosts' pool.conf show `poolConf ?? role`.
   */
  role: string;
  poolConf: string | null;
  fuseEndsAt: number | null;
  /** check_no_other_masters in progress: when it asks the next host of its DB, and which one. */
  masterCheck: { at: number; next: number } | null;
  xapi: XapiState;
  xapiUpAt: number | null;
  emergency: boolean;
  emergencyError: XapiError | null;
  /** localdb ha_armed */
  haArmed: boolean;
  /** This host's own copy of the pool database (possibly stale, D.1). */
  db: PoolDb;
  faults: HostFaults;
  lostMasterSince: number | null;
  nextHelloAt: number | null;
  nextSyncAt: number | null;
  syncCursor: number;
  restarts: number;
}

export interface XeResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface ExecOptions {
  signal?: AbortSignal;
  /** 'xe' (default) or the `xe-toolstack-restart` script. */
  program?: 'xe' | 'xe-toolstack-restart';
}

interface Pending {
  origin: number;
  attempt: () => XeResult | null;
  resolve: (r: XeResult | null) => void;
  cleanup: () => void;
}

export interface SimEvent {
  t: number;
  host: number;
  what: string;
}

export class Simulator extends EventEmitter {
  readonly opts: Required<Omit<SimOptions, 'durations'>> & { durations: Durations };
  readonly hosts: SimHost[];
  readonly partitions = new Set<string>();
  readonly events: SimEvent[] = [];
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private changed = false;
  private stopped = false;

  constructor(options: SimOptions) {
    super();
    this.opts = {
      vmsPerHost: 2,
      poolName: 'pool-lab',
      tickMs: 20,
      ...options,
      durations: { ...DEFAULT_DURATIONS, ...(options.durations ?? {}) },
    };
    const db = createPoolDb({ seed: options.name, poolName: this.opts.poolName, addresses: options.addresses, ha: options.ha, vmsPerHost: this.opts.vmsPerHost });
    const masterAddress = options.addresses[0] ?? '';
    this.hosts = db.hosts.map((h, i) => ({
      index: i + 1,
      uuid: h.uuid,
      name: h.nameLabel,
      address: h.address,
      role: i === 0 ? 'master' : `slave:${masterAddress}`,
      poolConf: null,
      fuseEndsAt: null,
      masterCheck: null,
      xapi: 'running',
      xapiUpAt: null,
      emergency: false,
      emergencyError: null,
      haArmed: options.ha,
      db: cloneDb(db),
      faults: { power: 'on', blackhole: false, xapiDown: false, slowMs: 0, sessionDelayMs: 0, output: null, hostKeyChanged: false, wrongPassword: false },
      lostMasterSince: null,
      nextHelloAt: null,
      nextSyncAt: null,
      syncCursor: 0,
      restarts: 0,
    }));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // life cycle

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.tick(), this.opts.tickMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const p of this.pending.splice(0)) {
      p.cleanup();
      p.resolve(null);
    }
  }

  /** ms for a duration in (unscaled) seconds */
  ms(key: keyof Durations): number {
    return this.opts.durations[key] * this.opts.timeScale * 1000;
  }

  host(i: number): SimHost {
    const h = this.hosts[i - 1];
    if (!h) throw new Error(`no host ${i}`);
    return h;
  }

  /** Finds a host by 1-based index, name-label, address or uuid. */
  findHost(id: string | number): SimHost | undefined {
    if (typeof id === 'number') return this.hosts[id - 1];
    if (/^\d+$/.test(id)) return this.hosts[Number(id) - 1];
    return this.hosts.find((h) => h.name === id || h.address === id || h.uuid === id || `h${h.index}` === id);
  }

  private byAddress(ip: string): SimHost | undefined {
    return this.hosts.find((h) => h.address === ip);
  }

  private byUuid(uuid: string): SimHost | undefined {
    return this.hosts.find((h) => h.uuid === uuid);
  }

  private log(host: number, what: string): void {
    this.events.push({ t: Date.now(), host, what });
    if (this.events.length > 500) this.events.splice(0, this.events.length - 500);
    this.markChanged();
  }

  markChanged(): void {
    this.changed = true;
    setImmediate(() => this.flushChange());
  }

  private flushChange(): void {
    if (!this.changed) return;
    this.changed = false;
    this.emit('change');
    this.reevaluatePending();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // reachability

  static pairKey(a: number, b: number): string {
    return a < b ? `${a}|${b}` : `${b}|${a}`;
  }

  /** Can host a open a TCP connection to host b (both directions, network-level faults only)? */
  reachable(a: SimHost, b: SimHost): boolean {
    if (a === b) return a.faults.power === 'on';
    if (a.faults.power !== 'on' || b.faults.power !== 'on') return false;
    if (a.faults.blackhole || b.faults.blackhole) return false;
    return !this.partitions.has(Simulator.pairKey(a.index, b.index));
  }

  masterOf(h: SimHost): SimHost | undefined {
    if (!h.role.startsWith('slave:')) return undefined;
    return this.byAddress(h.role.slice('slave:'.length));
  }

  /** A forwarded call from slave h can reach a working master right now. */
  canForward(h: SimHost): boolean {
    const m = this.masterOf(h);
    return !!m && this.reachable(h, m) && m.xapi === 'running' && m.role === 'master';
  }

  /** Liveness of a host as the master m sees it (host-metrics-live). Real xapi needs up to 10 min to notice a
   * dead host (D.1); the lab reports the current truth (simplification). */
  isLiveFor(m: SimHost, uuid: string): boolean {
    if (uuid === m.uuid) return true;
    const h = this.byUuid(uuid);
    if (!h) return false;
    return h.xapi === 'running' && !h.emergency && h.role === `slave:${m.address}` && this.reachable(m, h);
  }

  private recordContext(m: SimHost): RecordContext {
    return { version: this.opts.version, isLive: (uuid) => this.isLiveFor(m, uuid) };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // xapi life cycle

  /** Stops xapi on h now; it comes back after `seconds` (unscaled) in whatever role pool.conf then says. */
  restartXapi(h: SimHost, seconds: number, why: string): void {
    this.applyPoolConf(h);
    h.masterCheck = null;
    h.xapi = 'restarting';
    h.xapiUpAt = Date.now() + seconds * this.opts.timeScale * 1000;
    // the emergency flag lives in xapi's memory: a stopped xapi has none; boot() decides it again
    h.emergency = false;
    h.emergencyError = null;
    h.lostMasterSince = null;
    h.nextHelloAt = null;
    h.restarts++;
    this.log(h.index, `xapi restart (${why}), back in ${seconds}s×${this.opts.timeScale}`);
    this.dropPendingOf(h.index, { stdout: '', stderr: MSG.lostConnection, code: 1 });
  }

  /** A stopped or restarting xapi reads pool.conf when it starts: a change waiting for its fuse takes effect. */
  private applyPoolConf(h: SimHost): void {
    if (h.poolConf === null) return;
    h.role = h.poolConf;
    h.poolConf = null;
    h.fuseEndsAt = null;
  }

  /**
   * A role change as xapi does it (xapi_pool_transition.ml, xapi_fuse.ml): pool.conf is rewritten at once, then the
   * fuse; xapi keeps serving in its old role until it restarts into the new one.
   */
  changeRole(h: SimHost, role: string, why: string): void {
    h.poolConf = role;
    if (h.fuseEndsAt === null) h.fuseEndsAt = Date.now() + this.ms('fuse');
    this.log(h.index, `pool.conf → ${role} (${why}); xapi serves as ${h.role} until its fuse ends`);
  }

  /** xapi runs, in the role pool.conf says (no role change waiting for its fuse). */
  runsAsConfigured(h: SimHost): boolean {
    return h.xapi === 'running' && h.poolConf === null;
  }

  /** pool.conf as the file says it now. */
  poolConfOf(h: SimHost): string {
    return h.poolConf ?? h.role;
  }

  private hello(h: SimHost, m: SimHost | undefined): XapiError | null {
    if (!m || !this.reachable(h, m) || m.xapi !== 'running') return xapiError('INTERNAL_ERROR', MASTER_UNREACHABLE_EXCEPTION);
    if (m.role !== 'master') {
      // The "master" answers as a slave would to a remote login (C.1): HOST_IS_SLAVE with its own master's address.
      return xapiError('HOST_IS_SLAVE', m.role.startsWith('slave:') ? m.role.slice(6) : '');
    }
    if (!m.db.hosts.some((x) => x.uuid === h.uuid)) return xapiError('HOST_UNKNOWN_TO_MASTER', h.uuid);
    return null;
  }

  /** Why h cannot join m now: Pool.hello's answer, then HA's state resync (a disarmed slave may not join a pool whose HA is on). */
  private joinError(h: SimHost, m: SimHost | undefined): XapiError | null {
    const refused = this.hello(h, m);
    if (refused || !m) return refused;
    return !h.haArmed && m.db.pool.haEnabled ? xapiError('HA_POOL_IS_ENABLED_BUT_HOST_IS_DISABLED') : null;
  }

  private joined(h: SimHost, m: SimHost): void {
    h.emergency = false;
    h.emergencyError = null;
    h.nextHelloAt = null;
    h.lostMasterSince = null;
    h.db = cloneDb(m.db); // the master pushes its DB to a (re)joining slave
    this.log(h.index, `joined master ${m.name}`);
  }

  private boot(h: SimHost): void {
    h.xapi = 'running';
    h.xapiUpAt = null;
    const now = Date.now();
    if (h.role === 'master') {
      h.emergency = false;
      h.emergencyError = null;
      // HA state resync at start-up: a master whose HA is disarmed turns the pool's HA off (issue 11, row 13).
      if (!h.haArmed && h.db.pool.haEnabled) {
        h.db.pool.haEnabled = false;
        h.db.generation++;
        this.log(h.index, 'HA disarmed here: pool ha-enabled set to false');
      }
      if (h.db.pool.master !== h.uuid) {
        h.db.pool.master = h.uuid;
        h.db.generation++;
      }
      h.nextSyncAt = now + this.ms('dbSync');
      this.log(h.index, 'xapi up as master');
      // D.3 / G.6: check_no_other_masters, late in start-up (pool-list names us already), one host after the other.
      h.masterCheck = { at: now + this.ms('masterCheckDelay'), next: 0 };
      return;
    }
    if (h.role.startsWith('slave:')) {
      const ip = h.role.slice(6);
      if (ip === h.address) {
        this.enterEmergency(h, xapiError('HOST_ITS_OWN_SLAVE'));
        return;
      }
      const m = this.byAddress(ip);
      const err = this.joinError(h, m);
      if (!err && m) {
        this.joined(h, m);
        this.log(h.index, `xapi up as slave of ${ip}`);
      } else {
        // A slave that (re)starts while its master is unreachable comes back in emergency mode (D.1, G.4).
        this.enterEmergency(h, err ?? xapiError('HOST_STILL_BOOTING'));
      }
      return;
    }
    this.enterEmergency(h, xapiError('HOST_BROKEN'));
  }

  private enterEmergency(h: SimHost, err: XapiError): void {
    h.emergency = true;
    h.emergencyError = err;
    h.nextHelloAt = Date.now() + this.ms('helloRetry');
    this.log(h.index, `emergency mode (${err.code})`);
  }

  /**
   * One step of check_no_other_masters: ask the next host of our DB whether it is master. An unreachable one costs a
   * connect attempt and is skipped ("carry on regardless": split-brain under a partition); a reachable master makes
   * us its slave.
   */
  private checkNextMaster(h: SimHost, now: number): void {
    const check = h.masterCheck;
    if (!check) return;
    const entry = h.db.hosts.filter((x) => x.uuid !== h.uuid)[check.next];
    if (!entry) {
      h.masterCheck = null;
      return;
    }
    check.next++;
    const o = this.byUuid(entry.uuid);
    if (!o || o.faults.power !== 'on' || !this.reachable(h, o)) {
      check.at = now + this.ms('connectAttempt');
      return;
    }
    if (o.xapi === 'running' && o.role === 'master') {
      h.masterCheck = null;
      this.log(h.index, `found other master ${o.name}: demoting itself`);
      this.changeRole(h, `slave:${o.address}`, 'check_no_other_masters');
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // timing loop

  tick(): void {
    if (this.stopped) return;
    const now = Date.now();
    for (const h of this.hosts) {
      if (h.faults.power !== 'on') continue;
      if (h.fuseEndsAt !== null && now >= h.fuseEndsAt && h.poolConf !== null) this.restartXapi(h, this.opts.durations.startup, `fuse ended: restart as ${h.poolConf}`);
      if (h.masterCheck && h.xapi === 'running' && h.role === 'master' && now >= h.masterCheck.at) this.checkNextMaster(h, now);
      if (h.xapi === 'restarting' && h.xapiUpAt !== null && now >= h.xapiUpAt) {
        if (h.faults.xapiDown) {
          h.xapi = 'stopped';
          h.xapiUpAt = null;
          this.markChanged();
        } else this.boot(h);
      }
    }
    for (const h of this.hosts) {
      if (h.faults.power !== 'on' || h.xapi !== 'running' || !h.role.startsWith('slave:')) continue;
      if (h.emergency) {
        if (h.nextHelloAt !== null && now >= h.nextHelloAt) {
          const m = this.masterOf(h);
          const err = h.role.slice(6) === h.address ? xapiError('HOST_ITS_OWN_SLAVE') : this.joinError(h, m);
          if (!err && m) this.joined(h, m);
          else {
            if (err && JSON.stringify(err) !== JSON.stringify(h.emergencyError)) {
              h.emergencyError = err;
              this.markChanged();
            }
            h.nextHelloAt = now + this.ms('helloRetry');
          }
        }
        continue;
      }
      if (this.canForward(h)) {
        if (h.lostMasterSince !== null) {
          h.lostMasterSince = null;
          this.markChanged();
        }
        continue;
      }
      if (h.lostMasterSince === null) {
        h.lostMasterSince = now;
        this.log(h.index, 'lost its master');
      }
      const lostFor = now - h.lostMasterSince;
      if (h.haArmed) {
        if (lostFor >= this.ms('haTimeout')) this.haElection(h);
      } else if (this.opts.model === 'docs' && lostFor >= this.ms('docsEmergency')) {
        this.enterEmergency(h, this.hello(h, this.masterOf(h)) ?? xapiError('HOST_STILL_BOOTING'));
      }
    }
    // periodic DB push, one slave at a time (D.1)
    for (const m of this.hosts) {
      if (m.role !== 'master' || m.xapi !== 'running' || m.faults.power !== 'on' || m.nextSyncAt === null || now < m.nextSyncAt) continue;
      m.nextSyncAt = now + this.ms('dbSync');
      const slaves = this.hosts.filter((s) => s !== m && this.isLiveFor(m, s.uuid));
      if (slaves.length === 0) continue;
      const s = slaves[m.syncCursor % slaves.length];
      m.syncCursor++;
      if (s && s.db.generation !== m.db.generation) {
        s.db = cloneDb(m.db);
        this.log(s.index, `db synced from ${m.name}`);
      }
    }
    this.reevaluatePending();
  }

  /** D.5: HA master election among the survivors h can reach; the lowest index wins. (Simplification: no quorum
   * arithmetic and no self-fencing of an isolated old master — it would reboot in real HA.) */
  private haElection(h: SimHost): void {
    const lost = this.masterOf(h);
    const group = this.hosts.filter((x) => x !== lost && x.faults.power === 'on' && x.xapi === 'running' && x.haArmed && this.reachable(h, x) && x.role !== 'master');
    const winner = group.sort((a, b) => a.index - b.index)[0];
    if (!winner) return;
    this.log(winner.index, 'HA: elected new master');
    winner.role = 'master';
    this.restartXapi(winner, this.opts.durations.startup, 'HA failover: become master');
    for (const x of group) {
      if (x === winner) continue;
      x.role = `slave:${winner.address}`;
      this.restartXapi(x, this.opts.durations.startup, 'HA failover: new master');
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // faults (the lab layer adds the real-world side: sshd, nftables, listeners)

  powerOff(h: SimHost): void {
    this.applyPoolConf(h);
    h.masterCheck = null;
    h.faults.power = 'off';
    h.xapi = 'stopped';
    h.xapiUpAt = null;
    h.emergency = false;
    h.emergencyError = null;
    this.dropPendingOf(h.index, null);
    this.log(h.index, 'powered off');
  }

  powerOn(h: SimHost): void {
    if (h.faults.power === 'on') return;
    h.faults.power = 'on';
    this.log(h.index, 'powered on');
    this.restartXapi(h, this.opts.durations.startup, 'boot');
  }

  setXapiDown(h: SimHost, down: boolean): void {
    h.faults.xapiDown = down;
    if (down) {
      h.xapi = 'stopped';
      h.xapiUpAt = null;
      h.emergency = false;
      h.emergencyError = null;
      this.dropPendingOf(h.index, { stdout: '', stderr: MSG.lostConnection, code: 1 });
      this.log(h.index, 'xapi stopped');
    } else if (h.xapi === 'stopped' && h.faults.power === 'on') {
      this.restartXapi(h, this.opts.durations.startup, 'xapi started');
    }
  }

  setBlackhole(h: SimHost, on: boolean): void {
    h.faults.blackhole = on;
    this.log(h.index, on ? 'black-holed' : 'black hole removed');
  }

  setPartition(a: SimHost, b: SimHost, on: boolean): void {
    const k = Simulator.pairKey(a.index, b.index);
    if (on) this.partitions.add(k);
    else this.partitions.delete(k);
    this.log(a.index, `${on ? 'partitioned from' : 'partition healed with'} ${b.name}`);
  }

  setSlow(h: SimHost, ms: number): void {
    h.faults.slowMs = ms;
    this.log(h.index, `slow ${ms} ms`);
  }

  setOutputFault(h: SimHost, f: OutputFault): void {
    h.faults.output = f;
    this.log(h.index, `output fault ${f ?? 'none'}`);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // pending (hanging) calls

  private dropPendingOf(origin: number, result: XeResult | null): void {
    const keep: Pending[] = [];
    for (const p of this.pending) {
      if (p.origin === origin) {
        p.cleanup();
        p.resolve(result);
      } else keep.push(p);
    }
    this.pending = keep;
  }

  pendingCount(): number {
    return this.pending.length;
  }

  private reevaluatePending(): void {
    if (this.pending.length === 0) return;
    const keep: Pending[] = [];
    for (const p of this.pending) {
      let r: XeResult | null;
      try {
        r = p.attempt();
      } catch (e) {
        r = e instanceof XeFail ? e.result : fail(renderError(xapiError('INTERNAL_ERROR', String(e)), this.opts.version));
      }
      if (r) {
        p.cleanup();
        p.resolve(r);
      } else keep.push(p);
    }
    this.pending = keep;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // xe entry point

  /**
   * Runs one `xe` (or `xe-toolstack-restart`) invocation on host `index`. Resolves with the output, or with null if
   * the call was abandoned (caller aborted, host powered off, lab stopped) — the client then just loses its
   * connection. A forwarded call whose master is unreachable stays pending (C.1).
   */
  async exec(index: number, argv: string[], options: ExecOptions = {}): Promise<XeResult | null> {
    const h = this.host(index);
    if (h.faults.slowMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, h.faults.slowMs);
        options.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
      if (options.signal?.aborted) return null;
    }
    const r = await this.execInner(h, argv, options);
    if (!r || !h.faults.output) return r;
    return mangle(r, h.faults.output);
  }

  private execInner(h: SimHost, argv: string[], options: ExecOptions): Promise<XeResult | null> {
    if (h.faults.power !== 'on') return Promise.resolve(null);
    if (options.program === 'xe-toolstack-restart') return this.toolstackRestart(h, options.signal);
    if (argv.length === 0) return Promise.resolve({ stdout: '', stderr: MSG.usage, code: 0 });
    if (h.xapi !== 'running') return Promise.resolve(fail(MSG.connectionRefused));
    let attempt: () => XeResult | null;
    try {
      const p = parseArgs(argv);
      attempt = this.plan(h, p);
    } catch (e) {
      if (e instanceof XeFail) return Promise.resolve(e.result);
      throw e;
    }
    return this.runOrPark(h, attempt, options.signal);
  }

  private runOrPark(h: SimHost, attempt: () => XeResult | null, signal?: AbortSignal): Promise<XeResult | null> {
    const first = this.safeAttempt(attempt);
    if (first) return Promise.resolve(first);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.pending = this.pending.filter((x) => x !== entry);
        resolve(null);
      };
      const entry: Pending = {
        origin: h.index,
        attempt,
        resolve,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      if (signal?.aborted) return resolve(null);
      signal?.addEventListener('abort', onAbort);
      this.pending.push(entry);
    });
  }

  private safeAttempt(attempt: () => XeResult | null): XeResult | null {
    try {
      const r = attempt();
      if (r) this.markChanged();
      return r;
    } catch (e) {
      if (e instanceof XeFail) return e.result;
      return fail(renderError(xapiError('INTERNAL_ERROR', String(e)), this.opts.version));
    }
  }

  private async toolstackRestart(h: SimHost, signal?: AbortSignal): Promise<XeResult | null> {
    // The script stops xapi and starts it again (it also brings back a crashed xapi).
    h.faults.xapiDown = false;
    this.restartXapi(h, this.opts.durations.startup, 'xe-toolstack-restart');
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, this.ms('toolstackRestart'));
      signal?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
    return signal?.aborted ? null : ok(MSG.toolstackRestart);
  }

  /** Decides how a parsed call runs; returns an attempt function (null result = hang, retried on every change). */
  private plan(h: SimHost, p: Parsed): () => XeResult | null {
    const v = this.opts.version;
    if (p.server !== undefined) return this.planRemote(h, p);
    const local = LOCAL_COMMANDS[p.cmd];
    if (local) return () => local(this, h, p);
    const fwd = FORWARDED_COMMANDS[p.cmd];
    if (!fwd) throw new XeFail(fail(MSG.unknownCommand(p.cmd)));
    return () => {
      if (h.faults.power !== 'on') return null;
      if (h.xapi !== 'running') return fail(MSG.lostConnection);
      if (h.role === 'master') return fwd(this, h, p);
      if (h.emergency && h.emergencyError) return fail(renderError(h.emergencyError, v));
      if (h.role === 'broken') return fail(renderError(xapiError('HOST_BROKEN'), v));
      // C.1: forwarded to the master; while it cannot be reached the call blocks (master_connection retries forever).
      const m = this.masterOf(h);
      if (m && this.canForward(h)) return fwd(this, m, p);
      return null;
    };
  }

  /** `xe -s <addr> -u root -pw …`: a remote API login over TLS (C.1, F). */
  private planRemote(h: SimHost, p: Parsed): () => XeResult | null {
    const v = this.opts.version;
    const server = p.server ?? '';
    const t = server === 'localhost' || server === '127.0.0.1' ? h : this.hosts.find((x) => x.address === server || x.name === server);
    if (!t) throw new XeFail(fail(MSG.connectionRefused));
    const cmdLocal = LOCAL_COMMANDS[p.cmd];
    const cmdFwd = FORWARDED_COMMANDS[p.cmd];
    if (!cmdLocal && !cmdFwd) throw new XeFail(fail(MSG.unknownCommand(p.cmd)));
    return () => {
      if (t.faults.power !== 'on') return fail(MSG.connectionRefused);
      if (!this.reachable(h, t)) return null; // black hole / partition: the TLS connect hangs
      if (t.xapi !== 'running') return fail(MSG.connectionRefused);
      if (p.password === undefined) return fail(MSG.credentialsNeeded);
      if (p.password !== this.opts.password || t.faults.wrongPassword) return fail(MSG.authFailed);
      // Remote logins to a slave fail at once with HOST_IS_SLAVE, even when its master is dead (C.1).
      if (t.role !== 'master') return fail(renderError(xapiError('HOST_IS_SLAVE', t.role.startsWith('slave:') ? t.role.slice(6) : ''), v));
      if (cmdLocal) return cmdLocal(this, t, p);
      return cmdFwd ? cmdFwd(this, t, p) : null;
    };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // operations used by the command table

  ctxFor(m: SimHost): RecordContext {
    return this.recordContext(m);
  }

  resolveAddress(addr: string): string | null {
    const hit = this.hosts.find((x) => x.address === addr || x.name === addr || x.db.hosts.some((d) => d.hostname === addr && d.address === x.address));
    if (hit) return hit.address;
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(addr)) return addr;
    return null;
  }

  /** Pool.emergency_reset_master on host t (A.4). Returns false if it was a no-op. */
  resetMaster(t: SimHost, ip: string): boolean {
    if (t.haArmed) throw new XeFail(fail(renderError(xapiError('HA_IS_ENABLED'), this.opts.version)));
    if (this.poolConfOf(t) === `slave:${ip}`) return false;
    this.changeRole(t, `slave:${ip}`, `become slave of ${ip}`);
    return true;
  }

  becomeMaster(t: SimHost, why: string): void {
    this.changeRole(t, 'master', why);
  }

  render(err: XapiError): string {
    return renderError(err, this.opts.version);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // snapshot

  snapshot(): LabStateSnapshot {
    return {
      name: this.opts.name,
      version: this.opts.version,
      model: this.opts.model,
      ha: this.opts.ha,
      timeScale: this.opts.timeScale,
      durations: this.opts.durations,
      partitions: [...this.partitions],
      pendingCalls: this.pending.length,
      updatedAt: new Date().toISOString(),
      hosts: this.hosts.map((h) => ({
        index: h.index,
        uuid: h.uuid,
        name: h.name,
        address: h.address,
        role: this.poolConfOf(h),
        xapi: h.xapi,
        emergency: h.emergency,
        emergencyError: h.emergencyError,
        haArmed: h.haArmed,
        faults: { ...h.faults },
        restarts: h.restarts,
        db: h.db,
      })),
    };
  }
}

export interface LabStateSnapshot {
  name: string;
  version: XapiVersion;
  model: EmergencyModel;
  ha: boolean;
  timeScale: number;
  durations: Durations;
  partitions: string[];
  pendingCalls: number;
  updatedAt: string;
  hosts: {
    index: number;
    uuid: string;
    name: string;
    address: string;
    role: string;
    xapi: XapiState;
    emergency: boolean;
    emergencyError: XapiError | null;
    haArmed: boolean;
    faults: HostFaults;
    restarts: number;
    db: PoolDb;
  }[];
}
