/**
 * The pool simulator's model of hosts and time: every simulated host, its reachability, xapi's life cycle and roles
 * (fuse, start-up, check_no_other_masters), and the timing loop (emergency mode, HA election, DB sync). Commands and
 * faults are added on top in sim.ts.
 *
 * Time: every duration is in "real" seconds and is multiplied by `timeScale` (tests use e.g. 0.02).
 */
import { EventEmitter } from 'node:events';
import { RecordContext, cloneDb, createPoolDb } from './db';
import { PendingCalls } from './pendingCalls';
import { DEFAULT_DURATIONS, type Durations, type SimEvent, type SimHost, type SimOptions } from './simTypes';
import { MASTER_UNREACHABLE_EXCEPTION, MSG, XapiError, xapiError } from './texts';

/** Hosts, reachability, xapi's life cycle and roles, and the timing loop (emergency mode, HA election, DB sync). */
export class SimCore extends EventEmitter {
  readonly opts: Required<Omit<SimOptions, 'durations' | 'hostMemory'>> & Pick<SimOptions, 'hostMemory'> & { durations: Durations };
  readonly hosts: SimHost[];
  readonly partitions = new Set<string>();
  readonly events: SimEvent[] = [];
  /** The calls that hang until the lab's state lets them finish. */
  protected readonly pending: PendingCalls;
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
    this.pending = new PendingCalls(options.version);
    const db = createPoolDb({ seed: options.name, poolName: this.opts.poolName, addresses: options.addresses, ha: options.ha, vmsPerHost: this.opts.vmsPerHost, ...(options.hostMemory ? { hostMemory: options.hostMemory } : {}) });
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
      faults: { power: 'on', blackhole: false, xapiDown: false, slowMs: 0, sessionDelayMs: 0, output: null, outputOnly: null, hostKeyChanged: false, wrongPassword: false },
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
    this.pending.dropAll();
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

  protected log(host: number, what: string): void {
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
    this.pending.reevaluate();
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
    return !this.partitions.has(SimCore.pairKey(a.index, b.index));
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

  protected recordContext(m: SimHost): RecordContext {
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
    this.pending.dropOf(h.index, { stdout: '', stderr: MSG.lostConnection, code: 1 });
  }

  /** A stopped or restarting xapi reads pool.conf when it starts: a change waiting for its fuse takes effect. */
  protected applyPoolConf(h: SimHost): void {
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
    this.pending.reevaluate();
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
}
