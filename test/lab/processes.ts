/* What the lab reads from /proc: the processes of a host's mount namespace and whether a process lives. */
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
