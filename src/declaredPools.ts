import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as vscode from 'vscode';
import type { PoolInventory } from './core/pool/model';
import type { PoolLogin, StoredPool } from './poolRegistry';

/** A pool as `xenPools.pools` declares it (see package.json for the schema). */
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

/** A stable stand-in UUID for a name or address the settings gave without one. */
function derivedUuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function declaredToStored(declared: DeclaredPool): StoredPool {
  const poolUuid = declared.uuid ?? derivedUuid(`pool:${declared.name}`);
  const members = declared.members.map((m) => ({ address: m.address, name: m.name ?? m.address, uuid: m.uuid ?? derivedUuid(`host:${poolUuid}:${m.address}`) }));
  const master = members.find((m) => m.uuid === declared.master || m.address === declared.master);
  const inventory: PoolInventory = {
    poolUuid,
    poolName: declared.name,
    members,
    masterUuid: master?.uuid,
    defaultSrUuid: undefined,
    haEnabled: false,
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

export function readDeclaredPools(): StoredPool[] {
  return vscode.workspace.getConfiguration('xenPools').get<DeclaredPool[]>('pools', []).map(declaredToStored);
}
