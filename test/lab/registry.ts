/*
 * Machine-wide bookkeeping of the labs on this machine: the registry of running labs (/run/xenlab), the bind-mount
 * targets they share (/etc/xensource, /etc/xensource-inventory, /opt/xensource/bin) and the 127.77.X addresses of
 * 'auto' labs, all under one lock so that labs in several processes never step on each other.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HOST_RUN_DIR, LAB_USR_BIN } from './hostView';
import { isAlive } from './processes';

const REGISTRY = '/run/xenlab';
const MOUNTPOINTS: { path: string; kind: 'dir' | 'file' }[] = [
  { path: '/etc/xensource', kind: 'dir' },
  { path: '/etc/xensource-inventory', kind: 'file' },
  { path: '/opt/xensource/bin', kind: 'dir' },
  { path: LAB_USR_BIN, kind: 'dir' },
  { path: HOST_RUN_DIR, kind: 'dir' },
];

export function atomicWrite(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

interface RegEntry {
  name: string;
  base: string;
  pid: number;
}

export function readRegistry(): RegEntry[] {
  const dir = path.join(REGISTRY, 'labs');
  if (!fs.existsSync(dir)) return [];
  const out: RegEntry[] = [];
  for (const f of fs.readdirSync(dir)) {
    try {
      const e = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as RegEntry;
      if (isAlive(e.pid)) out.push(e);
      else {
        // a lab whose process died (SIGKILL): its sshds died with it (pdeathsig); remove its nft table
        spawnSync('nft', ['delete', 'table', 'inet', nftTableName(e.name)], { stdio: 'ignore' });
        fs.rmSync(path.join(dir, f), { force: true });
      }
    } catch {
      /* ignore */
    }
  }
  return out;
}

export function registerLab(name: string, base: string): void {
  fs.mkdirSync(path.join(REGISTRY, 'labs'), { recursive: true });
  atomicWrite(path.join(REGISTRY, 'labs', `${name}.json`), JSON.stringify({ name, base, pid: process.pid }));
}

export function unregisterLab(name: string): void {
  try {
    const f = path.join(REGISTRY, 'labs', `${name}.json`);
    const e = JSON.parse(fs.readFileSync(f, 'utf8')) as RegEntry;
    if (e.pid === process.pid) fs.rmSync(f, { force: true });
  } catch {
    /* ignore */
  }
}

/** Creates the bind-mount targets that do not exist on this machine and remembers which ones the lab created. */
export function ensureMountpoints(): void {
  fs.mkdirSync(REGISTRY, { recursive: true });
  const createdFile = path.join(REGISTRY, 'created-mountpoints.json');
  let created: string[] = [];
  try {
    created = JSON.parse(fs.readFileSync(createdFile, 'utf8')) as string[];
  } catch {
    /* none */
  }
  for (const mp of MOUNTPOINTS) {
    if (fs.existsSync(mp.path)) continue;
    // record the topmost missing ancestor so it can be removed again
    let top = mp.path;
    while (!fs.existsSync(path.dirname(top))) top = path.dirname(top);
    if (mp.kind === 'dir') fs.mkdirSync(mp.path, { recursive: true });
    else {
      fs.mkdirSync(path.dirname(mp.path), { recursive: true });
      fs.writeFileSync(mp.path, '');
    }
    if (!created.includes(top)) created.push(top);
  }
  atomicWrite(createdFile, JSON.stringify(created));
}

export function removeMountpointsIfUnused(): void {
  if (readRegistry().length > 0) return;
  const createdFile = path.join(REGISTRY, 'created-mountpoints.json');
  let created: string[] = [];
  try {
    created = JSON.parse(fs.readFileSync(createdFile, 'utf8')) as string[];
  } catch {
    /* the lab created none */
  }
  const left: string[] = [];
  for (const p of created) {
    try {
      const st = fs.statSync(p);
      // only remove what is still empty (apart from empty directories the lab created itself)
      if (st.isDirectory()) removeEmptyTree(p);
      else if (st.size === 0) fs.rmSync(p);
    } catch {
      /* already gone */
    }
    if (fs.existsSync(p)) left.push(p);
  }
  if (left.length) {
    atomicWrite(createdFile, JSON.stringify([...new Set(left)]));
    return;
  }
  fs.rmSync(createdFile, { force: true });
}

/** The registry directory goes too once no lab runs (called outside the lock, which lives inside it). */
export function removeRegistryIfEmpty(): void {
  for (const sub of ['labs', 'claims', '']) {
    try {
      fs.rmdirSync(path.join(REGISTRY, sub));
    } catch {
      /* absent, not empty, or another lab started meanwhile */
    }
  }
}

/**
 * Machine-wide lock (mkdir is atomic) around the registry and the shared mount points, so that a lab stopping in one
 * process never removes a mount point that a lab starting in another process is about to bind over.
 */
export function withRegistryLock<T>(fn: () => T): T {
  fs.mkdirSync(REGISTRY, { recursive: true });
  const lock = path.join(REGISTRY, 'lock');
  const deadline = Date.now() + 15000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      let stale = false;
      try {
        const owner = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
        stale = owner > 0 && !isAlive(owner);
      } catch {
        // no pid yet: stale only if the lock is old (its owner died between mkdir and write)
        try {
          stale = Date.now() - fs.statSync(lock).mtimeMs > 5000;
        } catch {
          /* lock just released */
        }
      }
      if (stale) fs.rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`could not take the lab registry lock ${lock}`);
      else Atomics.wait(pause, 0, 0, 5);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Claims a free third octet for an 'auto' lab: mkdir is atomic across processes; claims of dead processes expire. */
export function claimOctet(): number {
  const dir = path.join(REGISTRY, 'claims');
  fs.mkdirSync(dir, { recursive: true });
  const inUse = new Set(readRegistry().map((r) => r.base));
  for (let octet = 128; octet <= 254; octet++) {
    if (inUse.has(`127.77.${octet}`)) continue;
    const claim = path.join(dir, String(octet));
    try {
      fs.mkdirSync(claim);
    } catch {
      let owner = 0;
      try {
        owner = Number(fs.readFileSync(path.join(claim, 'pid'), 'utf8'));
      } catch {
        /* being written, or written by nobody */
      }
      if (owner && !isAlive(owner)) fs.rmSync(claim, { recursive: true, force: true });
      continue;
    }
    fs.writeFileSync(path.join(claim, 'pid'), String(process.pid));
    return octet;
  }
  throw new Error('no free 127.77.X base address for an auto lab');
}

export function releaseOctet(octet: number): void {
  fs.rmSync(path.join(REGISTRY, 'claims', String(octet)), { recursive: true, force: true });
}

export function nftTableName(labName: string): string {
  return `xenlab_${labName.replace(/-/g, '_')}`;
}

/**
 * Cleans up after labs whose process was killed hard: their nft tables, registry entries and (when no lab runs) the
 * mount points. sshd and sessions of such labs are already gone (pdeathsig; clients lose their simulator socket).
 */
export function cleanupStale(): string[] {
  const running = readRegistry(); // prunes dead entries and their tables
  const keep = new Set(running.map((r) => nftTableName(r.name)));
  const removed: string[] = [];
  const list = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout ?? '';
  for (const m of list.matchAll(/^table inet (xenlab_\w+)$/gm)) {
    const t = m[1] ?? '';
    if (t && !keep.has(t)) {
      spawnSync('nft', ['delete', 'table', 'inet', t], { stdio: 'ignore' });
      removed.push(`nft table ${t}`);
    }
  }
  withRegistryLock(() => removeMountpointsIfUnused());
  removeRegistryIfEmpty();
  return removed;
}

function removeEmptyTree(dir: string): void {
  for (const e of fs.readdirSync(dir)) {
    const p = path.join(dir, e);
    if (fs.statSync(p).isDirectory()) removeEmptyTree(p);
  }
  if (fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
}
