/**
 * Typed `xe` operations: build the command, run it through whatever carries it (SSH in the
 * product), and turn the output into a typed value or a typed failure. Callers never see raw text.
 */
import { xe, type XeCommand } from './command';
import { isXeSuccess, XeCommandError, XeParseError, type XeProcessOutput } from './errors';
import { parseXeRecord, parseXeRecords, type XeRecord } from './records';
import { parseEmergencyModeFlag, parseFreeTextValue, parseMinimal, parseRecoveredSlaves, parseRoleChangeNotice, parseSingleValue, type RoleChangeNotice } from './results';

/** Runs one `xe` command on one host and reports what it printed. */
export type XeRunner = (command: XeCommand) => Promise<XeProcessOutput>;

async function runChecked(run: XeRunner, command: XeCommand): Promise<string> {
  const output = await run(command);
  if (!isXeSuccess(output)) throw new XeCommandError(output);
  return output.stdout;
}

export interface PoolSummary {
  readonly uuid: string;
  readonly name: string;
  readonly masterUuid: string | null;
  readonly defaultSrUuid: string | null;
}

export interface HostSummary {
  readonly uuid: string;
  readonly name: string;
  readonly address: string;
}

export interface SrSummary {
  readonly uuid: string;
  readonly name: string;
  readonly type: string;
  readonly shared: boolean;
  readonly contentType: string;
}

export interface PbdSummary {
  readonly uuid: string;
  readonly hostUuid: string | null;
  readonly srUuid: string | null;
  readonly attached: boolean;
}

/** A field we asked for with params= must be there; its absence means the output is not what we asked for. */
function required(record: XeRecord, field: string): string {
  const value = record.text(field);
  if (value === undefined) throw new XeParseError('xe record', 1, record.text('uuid') ?? '', `field "${field}" is missing`);
  return value;
}

export interface VmPlacement {
  readonly uuid: string;
  readonly residentOn: string | null;
}

export interface VmSummary extends VmPlacement {
  readonly name: string;
}

/** power-state as xe prints it; anything else xapi may grow is kept as printed. */
export type VmPowerState = 'running' | 'halted' | 'paused' | 'suspended' | (string & {});

/** A guest VM as the master's database has it: where it runs, what it needs to start, where its disks are. */
export interface GuestVm {
  readonly uuid: string;
  readonly name: string;
  readonly powerState: VmPowerState;
  readonly residentOn: string | null;
  /** memory-static-max: what a start needs on the host, plus xapi's overhead for the VM. */
  readonly memoryBytes: number | undefined;
  readonly memoryOverheadBytes: number | undefined;
  /** The SRs of its disks (VBDs of type Disk), each once. */
  readonly diskSrUuids: readonly string[];
}

export interface HostMemory {
  readonly uuid: string;
  readonly freeBytes: number | undefined;
  readonly live: boolean;
}

type NamedClass = 'host' | 'SR' | 'VM';

type Filters = Readonly<Record<string, string | undefined>>;

const NAME_QUERIES: Readonly<Record<NamedClass, { readonly list: (filters: Filters) => XeCommand; readonly get: (uuid: string) => XeCommand; readonly what: string }>> = {
  host: { list: () => xe.hostList({ params: ['uuid', 'name-label'] }), get: (uuid) => xe.hostParamGet({ uuid, paramName: 'name-label' }), what: 'host-list output' },
  SR: { list: () => xe.srList({ params: ['uuid', 'name-label'] }), get: (uuid) => xe.srParamGet({ uuid, paramName: 'name-label' }), what: 'sr-list output' },
  VM: { list: (filters) => xe.vmList({ params: ['uuid', 'name-label'], filters }), get: (uuid) => xe.vmParamGet({ uuid, paramName: 'name-label' }), what: 'vm-list output' },
};

/**
 * The name-labels of objects whose UUIDs were read before (with the same filters). Names are the one
 * free text we read: anyone with the rights sets them (a VM operator renames its VM), newlines and
 * record look-alikes included, and xe prints them raw. So the fields that matter are read in a query
 * without names, and the names apart: the list of names counts only when it parses strictly, no UUID
 * appears twice and each UUID read before is there. A record forged inside a name then either repeats
 * a real UUID (every real record is printed whole) or invents one that nobody asks for; the name it
 * cuts short is one its owner could have set anyway. Otherwise each name is read by itself with
 * param-get, which prints it whole.
 */
async function namesOf(run: XeRunner, xeClass: NamedClass, uuids: readonly string[], filters: Filters = {}): Promise<Map<string, string>> {
  if (uuids.length === 0) return new Map();
  const query = NAME_QUERIES[xeClass];
  const listed = listedNames(await runChecked(run, query.list(filters)), query.what, uuids);
  if (listed) return listed;
  const names = new Map<string, string>();
  for (const uuid of uuids) names.set(uuid, parseFreeTextValue(await runChecked(run, query.get(uuid)), `${xeClass} name-label of ${uuid}`));
  return names;
}

function listedNames(stdout: string, what: string, uuids: readonly string[]): Map<string, string> | undefined {
  let records: XeRecord[];
  try {
    records = parseXeRecords(stdout, what);
  } catch (error) {
    if (error instanceof XeParseError) return undefined;
    throw error;
  }
  const names = new Map<string, string>();
  for (const record of records) {
    const uuid = record.text('uuid');
    const name = record.text('name-label');
    if (uuid === undefined || name === undefined || record.fields.length !== 2 || names.has(uuid)) return undefined;
    names.set(uuid, name);
  }
  return uuids.every((uuid) => names.has(uuid)) ? names : undefined;
}

/** The name read for a UUID by namesOf; an object created or gone in between has none, which is no pool we know. */
function nameFrom(names: ReadonlyMap<string, string>, uuid: string): string {
  const name = names.get(uuid);
  if (name === undefined) throw new XeParseError('xe name-label', 1, uuid, 'no name read for this object');
  return name;
}

/** A byte count as xe prints it; anything else is unknown, never a guess. */
function bytes(record: XeRecord, field: string): number | undefined {
  const text = record.text(field);
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

function runningVmFilters(residentOn: string | undefined): Filters {
  return { ...(residentOn ? { 'resident-on': residentOn } : {}), 'power-state': 'running', 'is-control-domain': 'false' };
}

export const xeOperations = {
  async isInEmergencyMode(run: XeRunner): Promise<boolean> {
    return parseEmergencyModeFlag(await runChecked(run, xe.hostIsInEmergencyMode()));
  },

  async emergencyTransitionToMaster(run: XeRunner, options: { force?: boolean } = {}): Promise<RoleChangeNotice> {
    return parseRoleChangeNotice(await runChecked(run, xe.poolEmergencyTransitionToMaster(options)));
  },

  async emergencyResetMaster(run: XeRunner, masterAddress: string): Promise<RoleChangeNotice> {
    return parseRoleChangeNotice(await runChecked(run, xe.poolEmergencyResetMaster({ masterAddress })));
  },

  /** UUIDs of the slaves that accepted the new master; unreachable ones are silently missing (A.3). */
  async recoverSlaves(run: XeRunner): Promise<string[]> {
    return parseRecoveredSlaves(await runChecked(run, xe.poolRecoverSlaves()));
  },

  /** `host-emergency-ha-disable --force`; a host whose HA is not armed answers HA_NOT_ENABLED, which is no failure here. */
  async emergencyHaDisable(run: XeRunner): Promise<'disabled' | 'already-disabled'> {
    try {
      await runChecked(run, xe.hostEmergencyHaDisable());
      return 'disabled';
    } catch (error) {
      if (error instanceof XeCommandError && error.failure.code === 'HA_NOT_ENABLED') return 'already-disabled';
      throw error;
    }
  },

  /** The pool's name is read by itself (see namesOf). */
  async pool(run: XeRunner): Promise<PoolSummary> {
    const records = parseXeRecords(await runChecked(run, xe.poolList({ params: ['uuid', 'master', 'default-SR'] })), 'pool-list output');
    const [pool] = records;
    // A host belongs to exactly one pool; anything else is not pool-list output.
    if (!pool || records.length !== 1) throw new XeParseError('pool-list output', 1, '', `expected exactly one pool, got ${records.length}`);
    const uuid = required(pool, 'uuid');
    const name = parseFreeTextValue(await runChecked(run, xe.poolParamGet({ uuid, paramName: 'name-label' })), 'pool name-label');
    return { uuid, name, masterUuid: pool.ref('master') ?? null, defaultSrUuid: pool.ref('default-SR') ?? null };
  },

  /** Every field of the pool record, for display (`pool-param-list`). */
  async poolParameters(run: XeRunner, poolUuid: string): Promise<{ record: XeRecord; text: string }> {
    const text = await runChecked(run, xe.poolParamList({ uuid: poolUuid }));
    return { record: parseXeRecord(text, 'pool-param-list output'), text };
  },

  async defaultSr(run: XeRunner, poolUuid: string): Promise<string | null> {
    return parseSingleValue(await runChecked(run, xe.poolParamGet({ uuid: poolUuid, paramName: 'default-SR' })));
  },

  async haEnabled(run: XeRunner, poolUuid: string): Promise<boolean> {
    const value = parseSingleValue(await runChecked(run, xe.poolParamGet({ uuid: poolUuid, paramName: 'ha-enabled' })));
    if (value !== 'true' && value !== 'false') throw new XeParseError('ha-enabled', 1, value ?? '<not in database>', 'not a boolean');
    return value === 'true';
  },

  /** HA of the pool the host belongs to, without knowing the pool's UUID (a declared pool may not have it). */
  async poolHaEnabled(run: XeRunner): Promise<boolean> {
    const [value, extra] = parseMinimal(await runChecked(run, xe.poolList({ params: ['ha-enabled'], minimal: true })), 'pool-list ha-enabled');
    if (extra !== undefined || (value !== 'true' && value !== 'false')) throw new XeParseError('pool-list ha-enabled', 1, value ?? '', 'not one boolean');
    return value === 'true';
  },

  async setDefaultSr(run: XeRunner, poolUuid: string, srUuid: string): Promise<void> {
    await runChecked(run, xe.poolParamSet({ uuid: poolUuid, defaultSr: srUuid }));
  },

  async hosts(run: XeRunner): Promise<HostSummary[]> {
    const records = parseXeRecords(await runChecked(run, xe.hostList({ params: ['uuid', 'address'] })), 'host-list output');
    const hosts = records.map((r) => ({ uuid: required(r, 'uuid'), address: required(r, 'address') }));
    const names = await namesOf(run, 'host', hosts.map((h) => h.uuid));
    return hosts.map((h) => ({ ...h, name: nameFrom(names, h.uuid) }));
  },

  /** The hosts the master counts as live (host-metrics-live): a slave that restarted after its fuse and joined. */
  async liveHostUuids(run: XeRunner): Promise<Set<string>> {
    const records = parseXeRecords(await runChecked(run, xe.hostList({ params: ['uuid', 'host-metrics-live'] })), 'host-list output');
    return new Set(records.filter((r) => required(r, 'host-metrics-live') === 'true').map((r) => required(r, 'uuid')));
  },

  async masterUuid(run: XeRunner): Promise<string | undefined> {
    return parseMinimal(await runChecked(run, xe.poolList({ params: ['master'], minimal: true })))[0];
  },

  async srs(run: XeRunner): Promise<SrSummary[]> {
    const records = parseXeRecords(await runChecked(run, xe.srList({ params: ['uuid', 'type', 'content-type', 'shared'] })), 'sr-list output');
    const names = await namesOf(run, 'SR', records.map((r) => required(r, 'uuid')));
    return records.map((r) => ({
      uuid: required(r, 'uuid'),
      name: nameFrom(names, required(r, 'uuid')),
      type: required(r, 'type'),
      contentType: required(r, 'content-type'),
      shared: r.bool('shared') ?? false,
    }));
  },

  /**
   * Guest VMs the database shows running, optionally only those resident on one host. After a
   * master loss, the dead host's VMs stay marked running in the new master's database (D.2).
   */
  async runningVms(run: XeRunner, residentOn?: string): Promise<VmSummary[]> {
    const placements = await xeOperations.runningVmPlacements(run, residentOn);
    const names = await namesOf(run, 'VM', placements.map((vm) => vm.uuid), runningVmFilters(residentOn));
    return placements.map((vm) => ({ ...vm, name: nameFrom(names, vm.uuid) }));
  },

  /** runningVms without the names, for counting. */
  async runningVmPlacements(run: XeRunner, residentOn?: string): Promise<VmPlacement[]> {
    const command = xe.vmList({ params: ['uuid', 'resident-on'], filters: runningVmFilters(residentOn) });
    return parseXeRecords(await runChecked(run, command), 'vm-list output').map((r) => ({ uuid: required(r, 'uuid'), residentOn: r.ref('resident-on') ?? null }));
  },

  /**
   * Every guest VM with its power state, host, memory and the SRs of its disks: four calls on the master, whatever
   * the number of VMs (vm-list, its names, vbd-list, vdi-list).
   */
  async guestVms(run: XeRunner): Promise<GuestVm[]> {
    const filters = { 'is-control-domain': 'false', 'is-a-template': 'false', 'is-a-snapshot': 'false' };
    const records = parseXeRecords(
      await runChecked(run, xe.vmList({ params: ['uuid', 'power-state', 'resident-on', 'memory-overhead', 'memory-static-max'], filters })),
      'vm-list output',
    );
    // Read-only lists, at once (channels of one connection).
    const [names, vbdOutput, vdiOutput] = await Promise.all([
      namesOf(run, 'VM', records.map((r) => required(r, 'uuid')), filters),
      runChecked(run, xe.vbdList({ params: ['vm-uuid', 'vdi-uuid'], filters: { type: 'Disk' } })),
      runChecked(run, xe.vdiList({ params: ['uuid', 'sr-uuid'] })),
    ]);
    const vbds = parseXeRecords(vbdOutput, 'vbd-list output');
    const vdis = parseXeRecords(vdiOutput, 'vdi-list output');
    const srOfVdi = new Map(vdis.map((r) => [required(r, 'uuid'), required(r, 'sr-uuid')]));
    const srsOfVm = new Map<string, Set<string>>();
    for (const vbd of vbds) {
      const sr = srOfVdi.get(vbd.text('vdi-uuid') ?? '');
      const vm = vbd.text('vm-uuid');
      if (sr === undefined || vm === undefined) continue; // an empty drive, or a disk created in between
      srsOfVm.set(vm, (srsOfVm.get(vm) ?? new Set()).add(sr));
    }
    return records.map((r) => {
      const uuid = required(r, 'uuid');
      return {
        uuid,
        name: nameFrom(names, uuid),
        powerState: required(r, 'power-state'),
        residentOn: r.ref('resident-on') ?? null,
        memoryBytes: bytes(r, 'memory-static-max'),
        memoryOverheadBytes: bytes(r, 'memory-overhead'),
        diskSrUuids: [...(srsOfVm.get(uuid) ?? [])],
      };
    });
  },

  /** Free memory of every host as the master computes it, and whether the master counts the host as live. */
  async hostMemory(run: XeRunner): Promise<HostMemory[]> {
    const records = parseXeRecords(await runChecked(run, xe.hostList({ params: ['uuid', 'memory-free', 'host-metrics-live'] })), 'host-list output');
    return records.map((r) => ({ uuid: required(r, 'uuid'), freeBytes: bytes(r, 'memory-free'), live: r.bool('host-metrics-live') ?? false }));
  },

  /** The VM's power state now (vm-param-get), for the re-check at the moment of action. */
  async vmPowerState(run: XeRunner, uuid: string): Promise<{ powerState: VmPowerState; residentOn: string | null }> {
    const powerState = parseSingleValue(await runChecked(run, xe.vmParamGet({ uuid, paramName: 'power-state' })));
    const residentOn = parseSingleValue(await runChecked(run, xe.vmParamGet({ uuid, paramName: 'resident-on' })));
    if (powerState === null) throw new XeParseError('vm power-state', 1, uuid, 'no power state');
    return { powerState, residentOn };
  },

  async resetVmPowerState(run: XeRunner, uuid: string): Promise<void> {
    await runChecked(run, xe.vmResetPowerstate({ uuid }));
  },

  async startVmOn(run: XeRunner, uuid: string, hostUuid: string): Promise<void> {
    await runChecked(run, xe.vmStart({ uuid, onHostUuid: hostUuid }));
  },

  async designateNewMaster(run: XeRunner, hostUuid: string): Promise<void> {
    await runChecked(run, xe.poolDesignateNewMaster({ hostUuid }));
  },

  async forgetHost(run: XeRunner, uuid: string): Promise<void> {
    await runChecked(run, xe.hostForget({ uuid }));
  },

  async pbds(run: XeRunner, filters: { srUuid?: string; hostUuid?: string } = {}): Promise<PbdSummary[]> {
    const command = xe.pbdList({
      params: ['uuid', 'host-uuid', 'sr-uuid', 'currently-attached'],
      filters: { ...(filters.srUuid ? { 'sr-uuid': filters.srUuid } : {}), ...(filters.hostUuid ? { 'host-uuid': filters.hostUuid } : {}) },
    });
    const records = parseXeRecords(await runChecked(run, command), 'pbd-list output');
    return records.map((r) => ({ uuid: required(r, 'uuid'), hostUuid: r.text('host-uuid') ?? null, srUuid: r.text('sr-uuid') ?? null, attached: r.bool('currently-attached') ?? false }));
  },
};
