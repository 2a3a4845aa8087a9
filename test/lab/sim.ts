/**
 * The pool simulator: the model of hosts and time (simCore.ts) plus the server side of `xe` (notes sections A–D,
 * checklist G) and the faults the lab injects. It is the single writer of the lab state: every `xe` call from every
 * host is serialized through this object in one Node event loop, so concurrent calls cannot lose updates (the event
 * loop is the lock); the lab persists snapshots with write-to-temp + rename.
 */
import { FORWARDED_COMMANDS, LOCAL_COMMANDS, Parsed, XeFail, fail, mangle, ok, parseArgs } from './commands';
import { RecordContext } from './db';
import { type Attempt, tryAttempt } from './pendingCalls';
import { SimCore } from './simCore';
import type { ExecOptions, LabStateSnapshot, OutputFault, SimHost, XeResult } from './simTypes';
import { MSG, XapiError, renderError, xapiError } from './texts';

export * from './simTypes';

export class Simulator extends SimCore {
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
    this.pending.dropOf(h.index, null);
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
      this.pending.dropOf(h.index, { stdout: '', stderr: MSG.lostConnection, code: 1 });
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
    const k = SimCore.pairKey(a.index, b.index);
    if (on) this.partitions.add(k);
    else this.partitions.delete(k);
    this.log(a.index, `${on ? 'partitioned from' : 'partition healed with'} ${b.name}`);
  }

  setSlow(h: SimHost, ms: number): void {
    h.faults.slowMs = ms;
    this.log(h.index, `slow ${ms} ms`);
  }

  setOutputFault(h: SimHost, f: OutputFault, only: string | null = null): void {
    h.faults.output = f;
    h.faults.outputOnly = f ? only : null;
    this.log(h.index, `output fault ${f ?? 'none'}${only ? ` (${only} only)` : ''}`);
  }

  /** How many calls hang now. */
  pendingCount(): number {
    return this.pending.count;
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
    if (!r || !h.faults.output || (h.faults.outputOnly !== null && argv.find((a) => !a.startsWith('-')) !== h.faults.outputOnly)) return r;
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

  private runOrPark(h: SimHost, attempt: Attempt, signal?: AbortSignal): Promise<XeResult | null> {
    const first = tryAttempt(attempt, this.opts.version);
    if (first) {
      this.markChanged();
      return Promise.resolve(first);
    }
    return this.pending.park(h.index, attempt, signal);
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
      pendingCalls: this.pending.count,
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
