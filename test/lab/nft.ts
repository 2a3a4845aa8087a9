/* Black holes and partitions: one nftables table per lab (`inet xenlab_<name>`), output hook, drop rules only. */
import { spawnSync } from 'node:child_process';

export interface NftHost {
  readonly index: number;
  readonly address: string;
  /** root's primary group on that host, which marks its outgoing packets. */
  readonly gid: number;
  readonly blackhole: boolean;
}

/** The drop rules for the lab's faults: black-holed hosts, and partitions given as "a|b" host index pairs. */
export function nftRules(baseAddress: string, hosts: readonly NftHost[], partitions: Iterable<string>): string[] {
  const rules: string[] = [];
  const net24 = `${baseAddress}.0/24`;
  for (const h of hosts) {
    if (h.blackhole) {
      rules.push(`ip daddr ${h.address} drop`);
      rules.push(`meta skgid ${h.gid} ip daddr ${net24} ip daddr != ${h.address} drop`);
    }
  }
  for (const key of partitions) {
    const [a, b] = key.split('|').map(Number);
    const ha = hosts.find((h) => h.index === a);
    const hb = hosts.find((h) => h.index === b);
    if (!ha || !hb) continue;
    rules.push(`meta skgid ${ha.gid} ip daddr ${hb.address} drop`);
    rules.push(`meta skgid ${hb.gid} ip daddr ${ha.address} drop`);
  }
  return rules;
}

/**
 * Replaces the lab's table with these rules (no rules: no table). Established connections need nothing more: drop
 * rules hit every packet.
 */
export function applyNftRules(table: string, rules: readonly string[]): void {
  if (rules.length === 0) {
    spawnSync('nft', ['delete', 'table', 'inet', table], { stdio: 'ignore' });
    return;
  }
  const script = [
    `table inet ${table} {}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    '  chain out {',
    '    type filter hook output priority 0; policy accept;',
    ...rules.map((r) => `    ${r}`),
    '  }',
    '}',
    '',
  ].join('\n');
  const r = spawnSync('nft', ['-f', '-'], { input: script, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nft failed: ${r.stderr}`);
}
