/* What the lab reads from /proc: the processes of a host's mount namespace, and whether a waiting xe client's SSH
 * session is gone. */
import * as fs from 'node:fs';

export function pidsInMountNs(ns: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (fs.readlinkSync(`/proc/${e}/ns/mnt`) === ns) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

export function isAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function procStat(pid: number): { comm: string; ppid: number; state: string } | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const rest = s.slice(close + 2).split(' ');
    return { comm, ppid: Number(rest[1]), state: rest[0] ?? '' };
  } catch {
    return null;
  }
}

/** True when no sshd process is among the ancestors of pid any more (the session's connection is gone). Clients
 * that were not started through sshd (none in the lab) count as orphaned only when re-parented to init. */
export function isOrphaned(pid: number): boolean {
  let p = pid;
  for (let depth = 0; depth < 64; depth++) {
    const st = procStat(p);
    if (!st) return true;
    if (st.comm.startsWith('sshd')) return false;
    if (st.ppid <= 1) return true;
    p = st.ppid;
  }
  return false;
}

function fdTargets(pid: number): Set<string> {
  const out = new Set<string>();
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        out.add(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        /* closed meanwhile */
      }
    }
  } catch {
    /* gone */
  }
  return out;
}

/**
 * True when the SSH channel of the session that runs pid was closed while the connection stays open: the session's
 * shell (the child of the per-connection sshd) still has its stdout/stderr pipes, but sshd no longer holds the other
 * ends. Sessions with a pty (stdout is a terminal) get SIGHUP from sshd instead and are not checked.
 */
export function channelClosed(pid: number): boolean {
  let child = pid;
  let p = pid;
  for (let depth = 0; depth < 64; depth++) {
    const st = procStat(p);
    if (!st) return false;
    if (st.comm.startsWith('sshd')) break;
    child = p;
    p = st.ppid;
    if (p <= 1) return false;
  }
  if (child === p) return false;
  let out: string;
  let err: string;
  try {
    out = fs.readlinkSync(`/proc/${child}/fd/1`);
    err = fs.readlinkSync(`/proc/${child}/fd/2`);
  } catch {
    return false;
  }
  if (!out.startsWith('pipe:') || !err.startsWith('pipe:')) return false;
  const held = fdTargets(p);
  return !held.has(out) && !held.has(err);
}
