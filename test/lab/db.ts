/**
 * The simulated pool database (one copy per host, D.1) and the CLI record definitions built from it
 * (pool B.4, host A.7/B.4, SR A.8, VM, PBD).
 */
import { createHash } from 'node:crypto';
import { Field, NOT_IN_DATABASE, joinMap, joinSet } from './printer';
import { XapiVersion } from './texts';

export interface DbPool {
  uuid: string;
  nameLabel: string;
  nameDescription: string;
  master: string; // host uuid
  defaultSR: string; // '' = null ref
  crashDumpSR: string;
  suspendImageSR: string;
  haEnabled: boolean;
  otherConfig: Record<string, string>;
}
export interface DbHost {
  uuid: string;
  nameLabel: string;
  nameDescription: string;
  address: string;
  hostname: string;
  enabled: boolean;
  controlDomainUuid: string;
  iscsiIqn: string;
  /** Physical memory (host_metrics memory_total), bytes. */
  memoryTotal: number;
}
export interface DbPbd {
  uuid: string;
  host: string;
  attached: boolean;
}
export interface DbSr {
  uuid: string;
  nameLabel: string;
  nameDescription: string;
  type: string;
  contentType: string;
  shared: boolean;
  physicalSize: number;
  pbds: DbPbd[];
}
export interface DbVm {
  uuid: string;
  nameLabel: string;
  powerState: 'Running' | 'Halted' | 'Paused' | 'Suspended';
  residentOn: string; // host uuid or ''
  isControlDomain: boolean;
  /** memory-static-max, bytes: what a start needs on the host (with MEMORY_OVERHEAD), ballooning not modelled. */
  memory: number;
}
/** A disk. `attached` is the VDI's sm-config `host_<ref>` keys: the hosts whose tapdisk holds it, and how. */
export interface DbVdi {
  uuid: string;
  nameLabel: string;
  sr: string;
  virtualSize: number;
  attached: Record<string, 'RW' | 'RO'>;
}
export interface DbVbd {
  uuid: string;
  vm: string;
  vdi: string;
  userdevice: string;
}
export interface PoolDb {
  /** Bumped on every change by the master; a slave's copy with a lower number is stale. */
  generation: number;
  pool: DbPool;
  hosts: DbHost[];
  srs: DbSr[];
  vms: DbVm[];
  vdis: DbVdi[];
  vbds: DbVbd[];
}

export const GIB = 1024 ** 3;
/** What xapi adds to each running VM's footprint (shadow and device model; the real figure depends on the VM). */
export const VM_MEMORY_OVERHEAD = 16 * 1024 ** 2;
/** Xen and its heap on a host: host memory-overhead. */
export const HOST_MEMORY_OVERHEAD = 1119879168;
export const DEFAULT_HOST_MEMORY = 137402605568;

/** Deterministic UUIDs from a seed string (lab name + role), so fixtures are stable. */
export function makeUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  const v = `4${h.slice(13, 16)}`;
  const variant = ((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16) + h.slice(17, 20);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${v}-${variant}-${h.slice(20, 32)}`;
}

export interface InitialPoolSpec {
  seed: string;
  poolName: string;
  addresses: string[];
  ha: boolean;
  vmsPerHost: number;
  /** memory-total per host, bytes (index 0 = host 1); the rest get DEFAULT_HOST_MEMORY. */
  hostMemory?: number[];
}

export function createPoolDb(spec: InitialPoolSpec): PoolDb {
  const u = (s: string): string => makeUuid(`${spec.seed}/${s}`);
  const hosts: DbHost[] = spec.addresses.map((address, i) => ({
    uuid: u(`host${i + 1}`),
    nameLabel: `xcp-host${i + 1}`,
    nameDescription: 'Default install',
    address,
    hostname: `xcp-host${i + 1}`,
    enabled: true,
    controlDomainUuid: u(`dom0-${i + 1}`),
    iscsiIqn: `iqn.2024-06.lab.xen:${u(`iqn${i + 1}`).slice(0, 8)}`,
    memoryTotal: spec.hostMemory?.[i] ?? DEFAULT_HOST_MEMORY,
  }));
  const shared: DbSr = {
    uuid: u('sr-nfs'),
    nameLabel: 'NFS storage',
    nameDescription: 'NFS SR [192.168.10.5:/export/xcp]',
    type: 'nfs',
    contentType: 'user',
    shared: true,
    physicalSize: 2199023255552,
    pbds: hosts.map((h, i) => ({ uuid: u(`pbd-nfs-${i + 1}`), host: h.uuid, attached: true })),
  };
  const locals: DbSr[] = hosts.map((h, i) => ({
    uuid: u(`sr-local-${i + 1}`),
    nameLabel: 'Local storage',
    nameDescription: '',
    type: 'ext',
    contentType: 'user',
    shared: false,
    physicalSize: 484257562624,
    pbds: [{ uuid: u(`pbd-local-${i + 1}`), host: h.uuid, attached: true }],
  }));
  const vms: DbVm[] = [];
  const vdis: DbVdi[] = [];
  const vbds: DbVbd[] = [];
  hosts.forEach((h, i) => {
    vms.push({ uuid: h.controlDomainUuid, nameLabel: `Control domain on host: ${h.nameLabel}`, powerState: 'Running', residentOn: h.uuid, isControlDomain: true, memory: 4 * GIB });
    for (let k = 1; k <= spec.vmsPerHost; k++) {
      const vm: DbVm = { uuid: u(`vm-${i + 1}-${k}`), nameLabel: `vm${i + 1}-${k}`, powerState: 'Running', residentOn: h.uuid, isControlDomain: false, memory: 2 * GIB };
      vms.push(vm);
      // Every VM's disk lives on the shared SR, except the second VM of each host: its disk is on the host's local
      // storage, so it cannot start anywhere else while that host is gone (VM_REQUIRES_SR).
      const sr = k === 2 ? (locals[i]?.uuid ?? shared.uuid) : shared.uuid;
      const vdi: DbVdi = { uuid: u(`vdi-${i + 1}-${k}`), nameLabel: `${vm.nameLabel} 0`, sr, virtualSize: 20 * GIB, attached: { [h.uuid]: 'RW' } };
      vdis.push(vdi);
      vbds.push({ uuid: u(`vbd-${i + 1}-${k}`), vm: vm.uuid, vdi: vdi.uuid, userdevice: '0' });
    }
  });
  return {
    generation: 1,
    pool: {
      uuid: u('pool'),
      nameLabel: spec.poolName,
      nameDescription: '',
      master: hosts[0]?.uuid ?? '',
      defaultSR: shared.uuid,
      crashDumpSR: shared.uuid,
      suspendImageSR: shared.uuid,
      haEnabled: spec.ha,
      otherConfig: { 'memory-ratio-hvm': '0.25', 'memory-ratio-pv': '0.25', auto_poweron: 'false' },
    },
    hosts,
    srs: [shared, ...locals],
    vms,
    vdis,
    vbds,
  };
}

export function cloneDb(db: PoolDb): PoolDb {
  return JSON.parse(JSON.stringify(db)) as PoolDb;
}

// ---------------------------------------------------------------------------------------------------------------------
// Record definitions

type F = Field;
const ro = (name: string, value: string, extra: Partial<F> = {}): F => ({ name, marker: ' RO', value, ...extra });
const rw = (name: string, value: string, extra: Partial<F> = {}): F => ({ name, marker: ' RW', value, ...extra });
const sro = (name: string, items: string[], extra: Partial<F> = {}): F => ({ name, marker: 'SRO', value: joinSet(items), ...extra });
const srw = (name: string, items: string[], sep = '; '): F => ({ name, marker: 'SRW', value: items.join(sep) });
const mro = (name: string, map: Record<string, string>): F => ({ name, marker: 'MRO', value: joinMap(map), map });
const mrw = (name: string, map: Record<string, string>): F => ({ name, marker: 'MRW', value: joinMap(map), map });
const ref = (uuid: string): string => (uuid ? uuid : NOT_IN_DATABASE);

/** Context a record needs beyond the DB: liveness as seen by the master executing the command. */
export interface RecordContext {
  version: XapiVersion;
  isLive(hostUuid: string): boolean;
}

export function poolFields(db: PoolDb, ctx: RecordContext): F[] {
  const p = db.pool;
  const srRef = (uuid: string): string => (uuid && db.srs.some((s) => s.uuid === uuid) ? uuid : NOT_IN_DATABASE);
  const fields: F[] = [
    ro('uuid', p.uuid),
    rw('name-label', p.nameLabel),
    rw('name-description', p.nameDescription),
    ro('master', ref(p.master)),
    rw('default-SR', srRef(p.defaultSR)),
    rw('crash-dump-SR', srRef(p.crashDumpSR)),
    rw('suspend-image-SR', srRef(p.suspendImageSR)),
    ro('supported-sr-types', 'lvm; iso; nfs; udev; lvmoiscsi; lvmohba; ext; file; smb; dummy', { expensive: true }),
    mrw('other-config', p.otherConfig),
    sro('allowed-operations', p.haEnabled ? ['cluster_create', 'ha_disable'] : ['cluster_create', 'ha_enable']),
    sro('current-operations', []),
    ro('ha-enabled', String(p.haEnabled)),
    ro('ha-configuration', ''),
    ro('ha-statefiles', ''),
    rw('ha-host-failures-to-tolerate', p.haEnabled ? '1' : '0'),
    ro('ha-plan-exists-for', p.haEnabled ? '1' : '0'),
    rw('ha-allow-overcommit', 'false'),
    ro('ha-overcommitted', 'false'),
    ro('blobs', ''),
    ro('wlb-url', ''),
    ro('wlb-username', ''),
    rw('wlb-enabled', 'false'),
    rw('wlb-verify-cert', 'false'),
    rw('igmp-snooping-enabled', 'false'),
    mrw('gui-config', {}),
    mrw('health-check-config', {}),
    ro('vswitch-controller', '<not set>', { hidden: true }),
    ro('restrictions', 'restrict_vswitch_controller: false; restrict_lab: false; enable_xha: true; restrict_corosync: true'),
    srw('tags', []),
    ro('license-state', 'edition: xcp-ng; expiry: never'),
    ro('ha-cluster-stack', 'xhad'),
    mrw('guest-agent-config', {}),
    mro('cpu_info', { cpu_count: '16', socket_count: '2', vendor: 'GenuineIntel' }),
    rw('policy-no-vendor-device', 'false'),
    rw('live-patching-disabled', 'false'),
  ];
  if (ctx.version === '8.3') {
    // Field order after live-patching-disabled taken from a post-1.249 xen-api records.ml (pool_record) in the public
    // index; `https-only` moves after the repository fields there. Markers follow the B.2 rules (setter → RW).
    fields.push(
      ro('uefi-certificates', '', { hidden: true }),
      ro('tls-verification-enabled', 'true'),
      ro('client-certificate-auth-enabled', 'false'),
      ro('client-certificate-auth-name', ''),
      { name: 'repositories', marker: 'SRW', value: '' },
      ro('repository-proxy-url', ''),
      ro('repository-proxy-username', ''),
      rw('https-only', 'false'),
      rw('migration-compression', 'false'),
      rw('coordinator-bias', 'true'),
      ro('telemetry-frequency', 'weekly'),
      ro('telemetry-next-collection', '20261206T00:00:00Z'),
    );
  } else if (ctx.version === '8.2') {
    fields.push(rw('https-only', 'false')); // B.4 example (v1.249.42)
  }
  // pre-2021: the B.4 set without https-only (inference: the field arrived with the 8.2 line).
  return fields;
}

/** What a running VM takes from its host. */
export function vmFootprint(vm: DbVm): number {
  return vm.memory + VM_MEMORY_OVERHEAD;
}

/** memory-free as xapi computes it: total minus Xen's overhead minus what the running VMs (dom0 too) take. */
export function hostMemoryFree(db: PoolDb, h: DbHost): number {
  const used = db.vms.filter((v) => v.residentOn === h.uuid && v.powerState !== 'Halted').reduce((sum, v) => sum + vmFootprint(v), 0);
  return Math.max(0, h.memoryTotal - HOST_MEMORY_OVERHEAD - used);
}

export function hostFields(db: PoolDb, h: DbHost, ctx: RecordContext): F[] {
  const version = ctx.version;
  const product = version === '8.3' ? '8.3.0' : version === '8.2' ? '8.2.1' : '7.6.0';
  const resident = db.vms.filter((v) => v.residentOn === h.uuid && v.powerState === 'Running').map((v) => v.uuid);
  const fields: F[] = [
    ro('uuid', h.uuid),
    rw('name-label', h.nameLabel),
    rw('name-description', h.nameDescription),
    sro('allowed-operations', ['VM.migrate', 'provision', 'VM.resume', 'evacuate', 'VM.start']),
    sro('current-operations', []),
    ro('enabled', String(h.enabled)),
    ro('display', 'enabled'),
    ro('API-version-major', '2'),
    ro('API-version-minor', version === '8.3' ? '21' : '16'),
    ro('API-version-vendor', 'XenSource'),
    mro('API-version-vendor-implementation', {}),
    mrw('logging', {}),
    rw('suspend-image-sr-uuid', NOT_IN_DATABASE),
    rw('crash-dump-sr-uuid', NOT_IN_DATABASE),
    mro('software-version', { product_version: product, product_brand: 'XCP-ng', platform_name: 'XCP', xapi: version === '8.3' ? '24.19' : '1.20', hostname: h.hostname }),
    { name: 'capabilities', marker: 'SRO', value: 'xen-3.0-x86_64; hvm-3.0-x86_32; hvm-3.0-x86_64; ' },
    mrw('other-config', { agent_start_time: '1718000000.', boot_time: '1717990000.', iscsi_iqn: h.iscsiIqn }),
    mro('cpu_info', { cpu_count: '16', socket_count: '2', vendor: 'GenuineIntel' }),
    mro('chipset-info', { iommu: 'true' }),
    ro('hostname', h.hostname),
    ro('address', h.address),
    ro('https-only', 'false'),
    sro('supported-bootloaders', ['pygrub', 'eliloader']),
    ro('blobs', ''),
    ro('memory-overhead', String(HOST_MEMORY_OVERHEAD)),
    ro('memory-total', String(h.memoryTotal)),
    ro('memory-free', String(hostMemoryFree(db, h))),
    ro('memory-free-computed', String(hostMemoryFree(db, h)), { expensive: true }),
    ro('host-metrics-live', String(ctx.isLive(h.uuid))),
    { name: 'patches', marker: 'SRO', value: '', deprecated: true },
    sro('updates', []),
    ro('ha-statefiles', ''),
    ro('ha-network-peers', ''),
    ro('external-auth-type', ''),
    ro('external-auth-service-name', ''),
    mro('external-auth-configuration', {}),
    ro('edition', 'xcp-ng'),
    mro('license-server', { address: 'localhost', port: '27000' }),
    ro('power-on-mode', ''),
    mro('power-on-config', {}),
    ro('local-cache-sr', NOT_IN_DATABASE),
    srw('tags', []),
    rw('ssl-legacy', 'false'),
    mrw('guest_VCPUs_params', {}),
    sro('virtual-hardware-platform-versions', ['0', '1', '2']),
    ro('control-domain-uuid', h.controlDomainUuid),
    sro('resident-vms', resident),
    sro('updates-requiring-reboot', []),
    sro('features', []),
    rw('iscsi_iqn', h.iscsiIqn),
    rw('multipathing', 'false'),
  ];
  if (version === '8.3') {
    // HEAD adds more fields (B.4: ssh-enabled, ssh-auto-mode, tls-verification-enabled, numa-affinity-policy, …).
    // Their exact order is unconfirmed; appended in this order.
    fields.push(
      ro('tls-verification-enabled', 'true'),
      rw('numa-affinity-policy', 'default_policy'),
      ro('ssh-enabled', 'true'),
      ro('ssh-enabled-timeout', '0'),
      ro('ssh-auto-mode', 'false'),
    );
  }
  return fields;
}

export function srFields(db: PoolDb, sr: DbSr): F[] {
  const hostOf = (): string => {
    if (sr.pbds.length > 1) return '<shared>';
    const pbd = sr.pbds[0];
    if (!pbd) return NOT_IN_DATABASE;
    return db.hosts.find((h) => h.uuid === pbd.host)?.nameLabel ?? NOT_IN_DATABASE;
  };
  return [
    ro('uuid', sr.uuid),
    rw('name-label', sr.nameLabel),
    rw('name-description', sr.nameDescription),
    ro('host', hostOf()),
    sro('allowed-operations', ['unplug', 'plug', 'PBD.create', 'update', 'PBD.destroy', 'VDI.create', 'VDI.destroy', 'scan']),
    sro('current-operations', []),
    sro('VDIs', db.vdis.filter((v) => v.sr === sr.uuid).map((v) => v.uuid)),
    sro('PBDs', sr.pbds.map((p) => p.uuid)),
    ro('virtual-allocation', '0'),
    ro('physical-utilisation', String(Math.floor(sr.physicalSize / 10))),
    ro('physical-size', String(sr.physicalSize)),
    ro('type', sr.type),
    ro('content-type', sr.contentType),
    rw('shared', String(sr.shared)),
    ro('introduced-by', NOT_IN_DATABASE),
    ro('is-tools-sr', 'false'),
    mrw('other-config', {}),
    mro('sm-config', {}),
    ro('blobs', ''),
    ro('local-cache-enabled', 'false'),
    srw('tags', []),
    ro('clustered', 'false'),
  ];
}

export function vmFields(db: PoolDb, vm: DbVm): F[] {
  // An abbreviated VM record (the real one has ~100 fields), in the real order of the fields it has.
  const memory = String(vm.memory);
  return [
    ro('uuid', vm.uuid),
    rw('name-label', vm.nameLabel),
    rw('name-description', ''),
    ro('power-state', vm.powerState.toLowerCase()),
    rw('is-a-template', 'false'),
    ro('is-a-snapshot', 'false'),
    ro('memory-overhead', String(VM_MEMORY_OVERHEAD)),
    ro('memory-target', vm.powerState === 'Halted' ? '0' : memory),
    rw('memory-static-max', memory),
    rw('memory-dynamic-max', memory),
    rw('memory-dynamic-min', memory),
    rw('memory-static-min', String(Math.min(vm.memory, 512 * 1024 ** 2))),
    ro('is-control-domain', String(vm.isControlDomain)),
    ro('resident-on', vm.residentOn && db.hosts.some((h) => h.uuid === vm.residentOn) ? vm.residentOn : NOT_IN_DATABASE),
  ];
}

export function vdiFields(db: PoolDb, vdi: DbVdi): F[] {
  const sr = db.srs.find((s) => s.uuid === vdi.sr);
  // sm-config keys name hosts by reference; the lab's references are host UUIDs.
  const smConfig = Object.fromEntries(Object.entries(vdi.attached).map(([host, mode]) => [`host_OpaqueRef:${host}`, mode]));
  return [
    ro('uuid', vdi.uuid),
    rw('name-label', vdi.nameLabel),
    rw('name-description', ''),
    ro('sr-uuid', vdi.sr),
    ro('sr-name-label', sr?.nameLabel ?? NOT_IN_DATABASE),
    sro('vbd-uuids', db.vbds.filter((b) => b.vdi === vdi.uuid).map((b) => b.uuid)),
    ro('virtual-size', String(vdi.virtualSize)),
    ro('type', 'User'),
    ro('sharable', 'false'),
    ro('read-only', 'false'),
    mro('sm-config', smConfig),
  ];
}

export function vbdFields(db: PoolDb, vbd: DbVbd): F[] {
  const vm = db.vms.find((v) => v.uuid === vbd.vm);
  const vdi = db.vdis.find((d) => d.uuid === vbd.vdi);
  return [
    ro('uuid', vbd.uuid),
    ro('vm-uuid', vbd.vm),
    ro('vm-name-label', vm?.nameLabel ?? NOT_IN_DATABASE),
    ro('vdi-uuid', vbd.vdi),
    ro('vdi-name-label', vdi?.nameLabel ?? NOT_IN_DATABASE),
    ro('empty', 'false'),
    ro('device', vm?.powerState === 'Running' ? 'xvda' : ''),
    rw('userdevice', vbd.userdevice),
    rw('bootable', 'true'),
    rw('mode', 'RW'),
    rw('type', 'Disk'),
    ro('currently-attached', String(vm?.powerState === 'Running')),
  ];
}

export function pbdFields(db: PoolDb, sr: DbSr, pbd: DbPbd): F[] {
  void db;
  return [
    ro('uuid', pbd.uuid),
    ro('host-uuid', pbd.host),
    ro('sr-uuid', sr.uuid),
    mro('device-config', sr.type === 'nfs' ? { server: '192.168.10.5', serverpath: '/export/xcp' } : { device: '/dev/sda3' }),
    ro('currently-attached', String(pbd.attached)),
    mrw('other-config', {}),
  ];
}

export type ClassName = 'pool' | 'host' | 'SR' | 'VM' | 'PBD' | 'VDI' | 'VBD';

/** Default `*-list` fields (A.6, A.7, A.8; VM and PBD from the xe defaults). */
export const DEFAULT_LIST_FIELDS: Record<ClassName, string[]> = {
  pool: ['uuid', 'name-label', 'name-description', 'master', 'default-SR'],
  host: ['uuid', 'name-label', 'name-description'],
  SR: ['uuid', 'name-label', 'name-description', 'host', 'type', 'content-type'],
  VM: ['uuid', 'name-label', 'power-state'],
  PBD: ['uuid', 'host-uuid', 'sr-uuid', 'device-config', 'currently-attached'],
  VDI: ['uuid', 'name-label', 'name-description', 'sr-uuid', 'virtual-size', 'sharable', 'read-only'],
  VBD: ['uuid', 'vm-uuid', 'vm-name-label', 'vdi-uuid', 'empty', 'device'],
};

/** All records of a class, with their uuid, in DB order (B.1 rule 7). */
export function recordsOf(cls: ClassName, db: PoolDb, ctx: RecordContext): { uuid: string; fields: F[] }[] {
  switch (cls) {
    case 'pool':
      return [{ uuid: db.pool.uuid, fields: poolFields(db, ctx) }];
    case 'host':
      return db.hosts.map((h) => ({ uuid: h.uuid, fields: hostFields(db, h, ctx) }));
    case 'SR':
      return db.srs.map((s) => ({ uuid: s.uuid, fields: srFields(db, s) }));
    case 'VM':
      return db.vms.map((v) => ({ uuid: v.uuid, fields: vmFields(db, v) }));
    case 'PBD':
      return db.srs.flatMap((s) => s.pbds.map((p) => ({ uuid: p.uuid, fields: pbdFields(db, s, p) })));
    case 'VDI':
      return db.vdis.map((d) => ({ uuid: d.uuid, fields: vdiFields(db, d) }));
    case 'VBD':
      return db.vbds.map((b) => ({ uuid: b.uuid, fields: vbdFields(db, b) }));
  }
}
