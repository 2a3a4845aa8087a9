/* A process's SSH connections as the kernel sees them, for the bench and for the tests of the connection cap. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Local ports of the process's TCP connections to port 22 now (open or opening). */
export function sshConnections(pid: number | 'self'): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const line of readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [local, remote, state, inode] = [fields[1], fields[2], fields[3], fields[9]];
    // 01 established, 02 SYN sent
    if (!local || !remote || !inode || !inodes.has(inode) || !remote.endsWith(':0016') || (state !== '01' && state !== '02')) continue;
    ports.push(parseInt(local.split(':')[1] ?? '0', 16));
  }
  return ports;
}

