/** The lab's status table, as `lab status` prints it: one row per host with role, xapi, reachability and faults. */
import type { Simulator } from './sim';

export function statusTable(sim: Simulator, sshPort: number): string {
  const rows = [['host', 'address', 'port', 'role', 'emergency', 'xapi', 'reachability', 'faults']];
  for (const s of sim.hosts) {
    const reach = s.faults.power === 'off' ? 'powered off' : s.faults.blackhole ? 'black-holed' : 'up';
    const parts = [...sim.partitions].filter((k) => k.split('|').includes(String(s.index))).map((k) => `partition:${k.replace('|', '-')}`);
    const faults = [
      s.faults.xapiDown ? 'xapi-down' : '',
      s.faults.sessionDelayMs ? `slow:${s.faults.sessionDelayMs}ms` : '',
      s.faults.slowMs ? `slow-xapi:${s.faults.slowMs}ms` : '',
      s.faults.output ?? '',
      s.faults.hostKeyChanged ? 'hostkey' : '',
      s.faults.wrongPassword ? 'password' : '',
      ...parts,
    ].filter(Boolean);
    rows.push([s.name, s.address, String(sshPort), s.role, String(s.role !== 'master' && s.emergency), s.xapi, reach, faults.join(',') || '-']);
  }
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}
