/**
 * Pools declared in the `xenPools.pools` setting (see package.json for the schema). The setting is what a user
 * typed, so every entry is checked here: a bad one is skipped with one problem naming the entry and the field, and
 * the others load. Nothing in here throws on any input. No `vscode` import, so it is unit-tested as is.
 */
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import type { PoolInventory, PoolMember } from './core/pool/model';
import { hostAddressProblem, isUuid, unbracketedAddress } from './core/xe/validate';
import type { PoolLogin, StoredPool } from './poolRegistry';

/** A pool as `xenPools.pools` declares it, once checked. */
export interface DeclaredPool {
  readonly name: string;
  readonly uuid?: string;
  readonly user?: string;
  readonly port?: number;
  readonly auth?: PoolLogin['auth'];
  readonly keyFile?: string;
  readonly master?: string;
  readonly members: readonly { readonly address: string; readonly name?: string; readonly uuid?: string }[];
}

const AUTH_KINDS: readonly PoolLogin['auth'][] = ['key', 'password', 'agent'];
const POOL_KEYS = new Set(['name', 'uuid', 'user', 'port', 'auth', 'keyFile', 'master', 'members']);
const MEMBER_KEYS = new Set(['address', 'name', 'uuid']);

/** A stable stand-in UUID for a name or address the settings gave without one. */
function derivedUuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

class EntryProblem extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(entry: Record<string, unknown>, key: string, check?: (value: string) => string | undefined): string | undefined {
  const value = entry[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new EntryProblem(`${key}: must be a string`);
  const problem = check?.(value);
  if (problem) throw new EntryProblem(`${key}: ${JSON.stringify(value)} ${problem}`);
  return value;
}

const uuidCheck = (value: string) => (isUuid(value) ? undefined : 'is not a UUID');

function checkMember(raw: unknown, index: number): DeclaredPool['members'][number] {
  const at = `members[${index}]`;
  if (!isObject(raw)) throw new EntryProblem(`${at}: must be an object with an address`);
  const unknown = Object.keys(raw).find((key) => !MEMBER_KEYS.has(key));
  if (unknown) throw new EntryProblem(`${at}.${unknown}: is not a member field (address, name, uuid)`);
  const address = raw.address;
  if (typeof address !== 'string') throw new EntryProblem(`${at}.address: must be a string (an IPv4 or IPv6 address or a DNS name)`);
  const problem = hostAddressProblem(address);
  if (problem) throw new EntryProblem(`${at}.address: ${problem}`);
  try {
    const name = optionalString(raw, 'name', (v) => (v.trim() ? undefined : 'is empty'));
    const uuid = optionalString(raw, 'uuid', uuidCheck);
    return { address: unbracketedAddress(address), ...(name ? { name } : {}), ...(uuid ? { uuid } : {}) };
  } catch (error) {
    throw new EntryProblem(`${at}.${(error as Error).message}`);
  }
}

function checkPool(raw: unknown): DeclaredPool {
  if (!isObject(raw)) throw new EntryProblem('must be an object with a name and members');
  const name = raw.name;
  if (typeof name !== 'string' || !name.trim()) throw new EntryProblem('name: must be a non-empty string');
  const unknown = Object.keys(raw).find((key) => !POOL_KEYS.has(key));
  if (unknown) throw new EntryProblem(`${unknown}: is not a pool field (${[...POOL_KEYS].join(', ')})`);
  const uuid = optionalString(raw, 'uuid', uuidCheck);
  const user = optionalString(raw, 'user', (v) => (/^[A-Za-z0-9._][A-Za-z0-9._-]*$/.test(v) ? undefined : 'is not a user name'));
  const keyFile = optionalString(raw, 'keyFile', (v) => (v.trim() ? undefined : 'is empty'));
  const master = optionalString(raw, 'master');
  const auth = raw.auth;
  if (auth !== undefined && !AUTH_KINDS.includes(auth as PoolLogin['auth'])) throw new EntryProblem(`auth: must be one of ${AUTH_KINDS.join(', ')}`);
  const port = raw.port;
  if (port !== undefined && !(typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535)) throw new EntryProblem('port: must be an integer from 1 to 65535');
  if (!Array.isArray(raw.members)) throw new EntryProblem('members: must be a list of {address, name?, uuid?}');
  if (raw.members.length === 0) throw new EntryProblem('members: must name at least one host');
  const members = raw.members.map(checkMember);
  return {
    name,
    members,
    ...(uuid ? { uuid } : {}),
    ...(user ? { user } : {}),
    ...(keyFile ? { keyFile } : {}),
    ...(master ? { master } : {}),
    ...(auth ? { auth: auth as PoolLogin['auth'] } : {}),
    ...(port ? { port } : {}),
  };
}

function declaredToStored(declared: DeclaredPool): StoredPool {
  const poolUuid = declared.uuid ?? derivedUuid(`pool:${declared.name}`);
  const members: PoolMember[] = declared.members.map((m) => ({
    address: m.address,
    name: m.name ?? m.address,
    // Without a UUID the member's identity is learnt from its first probe (its INSTALLATION_UUID).
    ...(m.uuid ? { uuid: m.uuid } : { uuid: derivedUuid(`host:${poolUuid}:${m.address}`), provisionalUuid: true as const }),
  }));
  const master = members.find((m) => m.uuid === declared.master || m.address === declared.master);
  const inventory: PoolInventory = {
    poolUuid,
    poolName: declared.name,
    members,
    masterUuid: master?.uuid,
    defaultSrUuid: undefined,
    haEnabled: false,
    haUnknown: true,
    discoveredAt: new Date(0).toISOString(),
    discoveredFrom: 'settings (xenPools.pools)',
  };
  const keyFile = declared.keyFile?.replace(/^~(?=\/|$)/, os.homedir());
  return {
    inventory,
    login: { user: declared.user ?? 'root', auth: declared.auth ?? 'key', ...(declared.port ? { port: declared.port } : {}), ...(keyFile ? { keyFile } : {}) },
    declared: true,
  };
}

/** The pools the setting declares that are valid, and one line per entry that is not (the entry skipped). */
export function parseDeclaredPools(raw: unknown): { pools: StoredPool[]; problems: string[] } {
  if (raw === undefined || raw === null) return { pools: [], problems: [] };
  if (!Array.isArray(raw)) return { pools: [], problems: ['xenPools.pools: must be a list of pools'] };
  const pools: StoredPool[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  raw.forEach((entry: unknown, index) => {
    const label = `xenPools.pools[${index}]${isObject(entry) && typeof entry.name === 'string' ? ` (${JSON.stringify(entry.name)})` : ''}`;
    try {
      const stored = declaredToStored(checkPool(entry));
      const same = seen.get(stored.inventory.poolUuid) ?? seen.get(`name:${stored.inventory.poolName}`);
      if (same !== undefined) throw new EntryProblem(`is the same pool as xenPools.pools[${same}] (same name or UUID)`);
      seen.set(stored.inventory.poolUuid, index);
      seen.set(`name:${stored.inventory.poolName}`, index);
      pools.push(stored);
    } catch (error) {
      if (!(error instanceof EntryProblem)) throw error;
      problems.push(`${label}: ${error.message}; this pool is skipped`);
    }
  });
  return { pools, problems };
}

/** What a declared pool's probes taught, kept across restarts: each member's host UUID by address, HA's state. */
export interface LearntFacts {
  readonly members: Readonly<Record<string, string>>;
  readonly haEnabled?: boolean;
}

export function learntFrom(inventory: PoolInventory): LearntFacts {
  const members = Object.fromEntries(inventory.members.filter((m) => !m.provisionalUuid).map((m) => [m.address, m.uuid]));
  return { members, ...(inventory.haUnknown ? {} : { haEnabled: inventory.haEnabled }) };
}

/**
 * A declared pool's inventory with what earlier probes taught: a member the settings give no UUID takes the one its
 * host answered with (so the identity check holds it to that host from the first probe on, as for an added pool),
 * and HA's state is known. What the settings say themselves always wins.
 */
export function withLearnt(inventory: PoolInventory, learnt: LearntFacts | undefined): PoolInventory {
  if (!learnt) return inventory;
  const taken = new Set(inventory.members.filter((m) => !m.provisionalUuid).map((m) => m.uuid.toLowerCase()));
  let masterUuid = inventory.masterUuid;
  const members = inventory.members.map((member): PoolMember => {
    const uuid = member.provisionalUuid ? learnt.members[member.address] : undefined;
    if (!uuid || !isUuid(uuid) || taken.has(uuid.toLowerCase())) return member;
    taken.add(uuid.toLowerCase());
    if (masterUuid === member.uuid) masterUuid = uuid;
    return { uuid, name: member.name, address: member.address };
  });
  const { haUnknown, ...known } = inventory;
  const ha = learnt.haEnabled === undefined ? { ...(haUnknown ? { haUnknown } : {}), haEnabled: inventory.haEnabled } : { haEnabled: learnt.haEnabled };
  return { ...known, ...ha, members, masterUuid };
}
