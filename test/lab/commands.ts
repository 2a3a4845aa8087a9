/**
 * The simulator's `xe` commands: argument parsing as the CLI does it (A.0, F), the output faults, and the command
 * table: the commands that always run on the host you are logged into, and those forwarded to its master.
 */
import { ClassName, DEFAULT_LIST_FIELDS, cloneDb, recordsOf } from './db';
import { EXPENSIVE, Field, formatRecord, minimalJoin } from './printer';
import type { OutputFault, SimHost, Simulator, XeResult } from './sim';
import { MSG, xapiError } from './texts';
import { LIFECYCLE_COMMANDS } from './vmCommands';

export interface Parsed {
  cmd: string;
  params: Map<string, string>;
  switches: Set<string>;
  server?: string;
  user?: string;
  password?: string;
}

export class XeFail extends Error {
  constructor(readonly result: XeResult) {
    super('xe failure');
  }
}

export const ok = (stdout = ''): XeResult => ({ stdout, stderr: '', code: 0 });
export const fail = (stderr: string, code = 1): XeResult => ({ stdout: '', stderr, code });

/** Parameters that `*-list` ignores as filters (A.0). */
const STANDARD_PARAMS = new Set(['server', 'username', 'password', 'port', 'minimal', 'force', 'multiple', 'all', 'params', 'database', 'host-username', 'host-password']);
const KNOWN_SWITCHES = new Set(['--minimal', '--force', '--debug', '--debug-on-fail', '--trace', '--nossl', '--multiple', '--all', '--traceback']);

// -----------------------------------------------------------------------------------------------------------------
// argument parsing (A.0, F)

export function parseArgs(argv: string[]): Parsed {
  const p: Parsed = { cmd: '', params: new Map(), switches: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const next = (): string => {
      const n = argv[++i];
      if (n === undefined) throw new XeFail(fail(`Syntax error: ${a} needs an argument\n${MSG.usageLine}`));
      return n;
    };
    if (a === '-s' || a === '-h') p.server = next();
    else if (a === '-u') p.user = next();
    else if (a === '-pw') p.password = next();
    else if (a === '-p' || a === '-pwf') next();
    else if (a.startsWith('--')) {
      // xe's CLI sends `--x` as the parameter x=true (and takes force=true as --force): one thing, two spellings.
      if (!KNOWN_SWITCHES.has(a)) throw new XeFail(fail(MSG.unknownSwitch(a)));
      p.params.set(a.slice(2), 'true');
    } else if (!p.cmd && !a.includes('=')) p.cmd = a;
    else {
      const eq = a.indexOf('=');
      if (eq < 0) continue; // stray word: ignored
      p.params.set(a.slice(0, eq), a.slice(eq + 1));
    }
  }
  if (!p.cmd) throw new XeFail({ stdout: '', stderr: MSG.usage, code: 0 });
  for (const [name, value] of p.params) if (value === 'true' && KNOWN_SWITCHES.has(`--${name}`)) p.switches.add(name);
  return p;
}

/** When this call first reached the command table: a call the lab re-tries keeps its start. */
const callStarts = new WeakMap<Parsed, number>();
export function callStarted(p: Parsed): number {
  let started = callStarts.get(p);
  if (started === undefined) callStarts.set(p, (started = Date.now()));
  return started;
}

export function need(p: Parsed, name: string): string {
  const v = p.params.get(name);
  if (v === undefined) throw new XeFail(fail(MSG.requiredParam(name)));
  return v;
}

// -----------------------------------------------------------------------------------------------------------------
// output faults

export function mangle(r: XeResult, f: Exclude<OutputFault, null>): XeResult {
  if (f === 'truncate') {
    // Output cut off in the middle of a line (no trailing newline), as if the connection dropped.
    let cut = r.stdout.length > 1 ? Math.max(1, Math.floor(r.stdout.length / 2)) : 0;
    while (cut > 1 && r.stdout[cut - 1] === '\n') cut--;
    return { stdout: r.stdout.slice(0, cut), stderr: r.stderr.slice(0, Math.floor(r.stderr.length / 2)), code: r.code };
  }
  const junk = 'uuid ( RO\u0007\u001b[2J\u00ff\u00fe%*@!# : \tmaster; ;:;';
  let s = '';
  const n = Math.max(24, r.stdout.length);
  for (let i = 0; i < n; i++) s += junk[(i * 7 + r.stdout.length) % junk.length];
  return { stdout: s + '\n', stderr: r.stderr, code: r.code };
}

// -----------------------------------------------------------------------------------------------------------------
// commands

type Cmd = (sim: Simulator, h: SimHost, p: Parsed) => XeResult | null;

function haCheck(sim: Simulator, h: SimHost): void {
  if (h.haArmed) throw new XeFail(fail(sim.render(xapiError('HA_IS_ENABLED'))));
}

/** Neverforward + local-session commands (A.1, A.2, A.4, C.1): always run on the host you are logged into. */
export const LOCAL_COMMANDS: Record<string, Cmd> = {
  'host-is-in-emergency-mode': (_sim, h, p) => {
    if (p.switches.has('minimal')) return ok('\n'); // PMsg dropped in --minimal mode (A.1 quirk)
    return ok(`${h.role !== 'master' && h.emergency}\n`);
  },
  'pool-emergency-transition-to-master': (sim, h, p) => {
    haCheck(sim, h);
    // xapi does NOT check emergency mode (A.2).
    if (h.role === 'master' && !p.switches.has('force')) return ok(MSG.alreadyMaster);
    sim.becomeMaster(h, 'pool-emergency-transition-to-master');
    return ok(MSG.transitionToMaster);
  },
  'pool-emergency-reset-master': (sim, h, p) => {
    const addr = need(p, 'master-address');
    haCheck(sim, h);
    const ip = sim.resolveAddress(addr);
    // Rendering of an unresolvable address is unconfirmed (A.4); we use the INTERNAL_ERROR block.
    if (!ip) return fail(sim.render(xapiError('INTERNAL_ERROR', `Couldn't resolve hostname: ${addr}`)));
    sim.resetMaster(h, ip); // a no-op when already slave of that IP, but the message is printed anyway
    return ok(MSG.becomeSlave(addr));
  },
  'host-emergency-ha-disable': (sim, h, p) => {
    if (!p.switches.has('force')) return fail(MSG.mustForce);
    // xapi_ha.ml emergency_ha_disable: HA_NOT_ENABLED when the local database says ha_armed=false (newer xapi has a
    // `soft` variant that succeeds; the plain call keeps failing, the harsher choice).
    if (!h.haArmed) return fail(sim.render(xapiError('HA_NOT_ENABLED')));
    h.haArmed = false;
    sim.markChanged();
    return ok('');
  },
  'host-emergency-management-reconfigure': (sim, h, p) => {
    need(p, 'interface');
    if (!h.emergency) return fail(sim.render(xapiError('POOL_NOT_IN_EMERGENCY_MODE')));
    return ok('');
  },
};

function listCmd(cls: ClassName): Cmd {
  return (sim, m, p) => {
    const recs = recordsOf(cls, m.db, sim.ctxFor(m));
    const filters = [...p.params.entries()].filter(([k]) => !STANDARD_PARAMS.has(k));
    let rows = recs;
    for (const [k, val] of filters) {
      const known = recs[0]?.fields.some((f) => f.name === k) ?? true;
      if (!known) return fail(MSG.unknownField(k));
      rows = rows.filter((r) => r.fields.find((f) => f.name === k)?.value === val);
    }
    const paramsArg = p.params.get('params');
    const all = paramsArg === 'all';
    const wanted = all ? null : new Set((paramsArg ?? DEFAULT_LIST_FIELDS[cls].join(',')).split(','));
    const selected = rows.map((r) =>
      r.fields
        .filter((f) => !f.hidden && (wanted === null || wanted.has(f.name)))
        .map((f): Field => (all && f.expensive ? { ...f, value: EXPENSIVE } : f)),
    );
    if (p.switches.has('minimal')) return ok(minimalJoin(selected.map((fs) => fs[0]?.value ?? '')));
    return ok(selected.map(formatRecord).join(''));
  };
}

function findRecord(sim: Simulator, cls: ClassName, m: SimHost, p: Parsed): Field[] {
  const uuid = need(p, 'uuid');
  const rec = recordsOf(cls, m.db, sim.ctxFor(m)).find((r) => r.uuid === uuid);
  if (!rec) throw new XeFail(fail(sim.render(xapiError('UUID_INVALID', cls, uuid))));
  return rec.fields;
}

function paramListCmd(cls: ClassName): Cmd {
  return (sim, m, p) => ok(formatRecord(findRecord(sim, cls, m, p).filter((f) => !f.hidden)));
}

function paramGetCmd(cls: ClassName): Cmd {
  return (sim, m, p) => {
    const fields = findRecord(sim, cls, m, p);
    const name = need(p, 'param-name');
    const f = fields.find((x) => x.name === name);
    if (!f) return fail(MSG.missingParamCode(name)); // CLI_failed_to_find_param rendering (A.0, unconfirmed)
    const key = p.params.get('param-key');
    if (key !== undefined) {
      const v = f.map?.[key];
      if (v === undefined) return fail(MSG.keyNotFound(key));
      return ok(`${v}\n`);
    }
    return ok(`${f.value}\n`);
  };
}

const POOL_SR_FIELDS: Record<string, 'defaultSR' | 'crashDumpSR' | 'suspendImageSR'> = {
  'default-SR': 'defaultSR',
  'crash-dump-SR': 'crashDumpSR',
  'suspend-image-SR': 'suspendImageSR',
};

const poolParamSet: Cmd = (sim, m, p) => {
  const uuid = need(p, 'uuid');
  const db = m.db;
  if (uuid !== db.pool.uuid) return fail(sim.render(xapiError('UUID_INVALID', 'pool', uuid)));
  const fields = recordsOf('pool', db, sim.ctxFor(m))[0]?.fields ?? [];
  for (const [k, val] of p.params) {
    if (k === 'uuid' || STANDARD_PARAMS.has(k)) continue;
    const colon = k.indexOf(':');
    if (colon > 0) {
      const base = k.slice(0, colon);
      const f = fields.find((x) => x.name === base);
      if (!f) return fail(MSG.unknownField(base));
      if (f.marker !== 'MRW') return fail(MSG.readOnly(base));
      if (base === 'other-config') db.pool.otherConfig[k.slice(colon + 1)] = val;
      db.generation++;
      continue;
    }
    const srKey = POOL_SR_FIELDS[k];
    if (srKey) {
      if (val !== '' && !db.srs.some((s) => s.uuid === val)) return fail(sim.render(xapiError('UUID_INVALID', 'SR', val)));
      db.pool[srKey] = val;
      db.generation++;
      continue;
    }
    if (k === 'name-label' || k === 'name-description') {
      if (k === 'name-label') db.pool.nameLabel = val;
      else db.pool.nameDescription = val;
      db.generation++;
      continue;
    }
    const f = fields.find((x) => x.name === k);
    if (!f) return fail(MSG.unknownField(k));
    if (f.marker !== ' RW') return fail(MSG.readOnly(k));
    // other RW fields are accepted but not modelled
  }
  sim.markChanged();
  return ok('');
};

/**
 * `<class>-param-set` for the names any operator with the rights can change (a VM operator renames its
 * VM). xapi stores a name as given, newlines and all, and prints it raw in records and param-get.
 */
function nameParamSet(cls: 'host' | 'SR' | 'VM'): Cmd {
  return (sim, m, p) => {
    const uuid = need(p, 'uuid');
    const db = m.db;
    const target = cls === 'host' ? db.hosts.find((h) => h.uuid === uuid) : cls === 'SR' ? db.srs.find((s) => s.uuid === uuid) : db.vms.find((v) => v.uuid === uuid);
    if (!target) return fail(sim.render(xapiError('UUID_INVALID', cls, uuid)));
    const fields = findRecord(sim, cls, m, p);
    for (const [k, val] of p.params) {
      if (k === 'uuid' || STANDARD_PARAMS.has(k)) continue;
      if (k === 'name-label') target.nameLabel = val;
      else if (k === 'name-description' && 'nameDescription' in target) target.nameDescription = val;
      else {
        const f = fields.find((x) => x.name === k);
        if (!f) return fail(MSG.unknownField(k));
        if (f.marker !== ' RW') return fail(MSG.readOnly(k));
        // other RW fields are accepted but not modelled
      }
      db.generation++;
    }
    sim.markChanged();
    return ok('');
  };
}

export const FORWARDED_COMMANDS: Record<string, Cmd> = {
  'pool-list': listCmd('pool'),
  'pool-param-list': paramListCmd('pool'),
  'pool-param-get': paramGetCmd('pool'),
  'pool-param-set': poolParamSet,
  'host-list': listCmd('host'),
  'host-param-list': paramListCmd('host'),
  'host-param-get': paramGetCmd('host'),
  'host-param-set': nameParamSet('host'),
  'sr-list': listCmd('SR'),
  'sr-param-list': paramListCmd('SR'),
  'sr-param-get': paramGetCmd('SR'),
  'sr-param-set': nameParamSet('SR'),
  'vm-list': listCmd('VM'),
  'vm-param-list': paramListCmd('VM'),
  'vm-param-get': paramGetCmd('VM'),
  'vm-param-set': nameParamSet('VM'),
  'pbd-list': listCmd('PBD'),
  'vdi-list': listCmd('VDI'),
  'vdi-param-list': paramListCmd('VDI'),
  'vdi-param-get': paramGetCmd('VDI'),
  'vbd-list': listCmd('VBD'),
  'vbd-param-list': paramListCmd('VBD'),
  'pool-recover-slaves': (sim, m, p) => {
    // A.3: for every host in the master's DB except itself, call emergency_reset_master(own address) with no liveness
    // check; ignore every failure (unreachable hosts are silently skipped). Host by host: each unreachable one costs
    // a connect attempt first, so with several dead members the call can outlast a client's timeout (issue 11, 13).
    const unreachable = m.db.hosts.filter((d) => {
      const t = sim.findHost(d.uuid);
      return t && t !== m && (!sim.reachable(m, t) || t.faults.power !== 'on');
    }).length;
    const readyAt = callStarted(p) + unreachable * sim.ms('connectAttempt');
    if (Date.now() < readyAt) return null; // still connecting: the lab re-tries this call on every tick
    const recovered: string[] = [];
    for (const d of m.db.hosts) {
      const t = sim.findHost(d.uuid);
      if (!t || t === m) continue;
      if (!sim.reachable(m, t) || t.xapi !== 'running') continue;
      try {
        sim.resetMaster(t, m.address);
        recovered.push(t.uuid);
      } catch {
        // HA_IS_ENABLED etc.: ignored, host not listed
      }
    }
    recovered.reverse(); // reverse of DB iteration order (inference, A.3)
    if (p.switches.has('minimal')) return ok(minimalJoin(recovered));
    return ok(recovered.map((u) => `${u}\n`).join(''));
  },
  'pool-designate-new-master': (sim, m, p) => {
    const uuid = need(p, 'host-uuid');
    if (m.db.pool.haEnabled || m.haArmed) return fail(sim.render(xapiError('HA_IS_ENABLED')));
    const d = m.db.hosts.find((x) => x.uuid === uuid);
    if (!d) return fail(sim.render(xapiError('UUID_INVALID', 'host', uuid)));
    const t = sim.findHost(uuid);
    if (!t) return fail(sim.render(xapiError('UUID_INVALID', 'host', uuid)));
    if (t === m) return ok('');
    if (!sim.isLiveFor(m, uuid)) return fail(sim.render(xapiError('HOST_OFFLINE', `${uuid} (${d.nameLabel})`)));
    // Every member must be live: the two-phase commit talks to all of them (xapi_pool.ml designate_new_master).
    const dead = m.db.hosts.find((x) => x.uuid !== m.uuid && !sim.isLiveFor(m, x.uuid));
    if (dead) return fail(sim.render(xapiError('HOST_OFFLINE', `${dead.uuid} (${dead.nameLabel})`)));
    // Two-phase commit: the target takes the master's DB and becomes master; every live host becomes its slave.
    const live = sim.hosts.filter((x) => x !== t && sim.isLiveFor(m, x.uuid));
    t.db = cloneDb(m.db);
    sim.becomeMaster(t, 'pool-designate-new-master');
    for (const x of live) sim.changeRole(x, `slave:${t.address}`, `designate-new-master → ${t.name}`);
    return ok('');
  },
  'pool-sync-database': (sim, m) => {
    for (const s of sim.hosts) if (s !== m && sim.isLiveFor(m, s.uuid)) s.db = cloneDb(m.db);
    sim.markChanged();
    return ok('');
  },
  'pool-ha-disable': (sim, m) => {
    m.db.pool.haEnabled = false;
    m.db.generation++;
    m.haArmed = false;
    for (const s of sim.hosts) {
      if (s !== m && sim.isLiveFor(m, s.uuid)) {
        s.haArmed = false;
        s.db = cloneDb(m.db);
      }
    }
    sim.markChanged();
    return ok('');
  },
  ...LIFECYCLE_COMMANDS,
};

export const COMMAND_NAMES = { local: Object.keys(LOCAL_COMMANDS), forwarded: Object.keys(FORWARDED_COMMANDS) };
