/**
 * Live health at a glance (issue 13, part 1): what the status bar and the view's badge say about all pools, when a
 * pool's loss of its master is announced (once per loss), and the log line for a host whose state changed.
 * No `vscode` import, so it is unit-tested as is; src/health/watch.ts maps it onto VS Code.
 */
import type { HostStatus, PoolVerdict } from '../core/pool/model';
import { visibleText } from '../core/visibleText';
import { hostState, stateWord } from '../tree/presentation';

/** healthy; degraded (something needs a look, a master runs); masterless (no running master: recover); probing. */
export type PoolHealth = 'healthy' | 'degraded' | 'masterless' | 'probing';

const MASTERLESS: ReadonlySet<PoolVerdict['kind']> = new Set(['master-unreachable', 'emergency', 'ha']);

export function poolHealth(verdict: PoolVerdict | undefined): PoolHealth {
  if (!verdict) return 'probing';
  if (verdict.kind === 'healthy') return 'healthy';
  return MASTERLESS.has(verdict.kind) ? 'masterless' : 'degraded';
}

export interface WatchedPool {
  readonly uuid: string;
  readonly name: string;
  readonly verdict: PoolVerdict | undefined;
  /** VMs still marked running on lost hosts: nothing runs them until their power state is reset. */
  readonly strandedVms?: number;
}

function attention(count: number | undefined): string {
  return count ? `${count} VM${count === 1 ? ' needs' : 's need'} attention` : '';
}

export interface HealthSummary {
  /** The status bar text, codicon included. */
  readonly text: string;
  /** One line per pool that is not healthy. */
  readonly tooltip: string;
  /** error while any pool has no running master; warning while any is degraded. */
  readonly severity: 'error' | 'warning' | undefined;
  /** Pools that are not healthy (the view's badge); probing ones do not count. */
  readonly notHealthy: number;
}

export function summarize(pools: readonly WatchedPool[]): HealthSummary {
  const healths = pools.map((pool) => ({ pool, health: poolHealth(pool.verdict) }));
  const masterless = healths.filter((h) => h.health === 'masterless');
  const degraded = healths.filter((h) => h.health === 'degraded');
  const notHealthy = masterless.length + degraded.length;
  const stranded = pools.reduce((sum, pool) => sum + (pool.strandedVms ?? 0), 0);
  const of = `of ${pools.length} pool${pools.length === 1 ? '' : 's'}`;
  const text =
    pools.length === 0
      ? '$(server) XenServer: no pools'
      : masterless.length
        ? `$(error) XenServer: ${masterless.length} ${of} without a master`
        : degraded.length
          ? `$(warning) XenServer: ${degraded.length} ${of} degraded${stranded ? `, ${attention(stranded)}` : ''}`
          : healths.some((h) => h.health === 'probing')
            ? `$(sync~spin) XenServer: ${pools.length} pool${pools.length === 1 ? '' : 's'}`
            : `$(server) XenServer: ${pools.length === 1 ? 'pool' : `all ${pools.length} pools`} healthy`;
  const tooltip = [...masterless, ...degraded].map(({ pool }) => `${visibleText(pool.name)}: ${[pool.verdict?.kind ?? 'probing', attention(pool.strandedVms)].filter(Boolean).join(', ')}`).join('\n') || (pools.length ? 'Every pool is healthy.' : 'Add a pool in the XenServer Pools view.');
  return { text, tooltip, severity: masterless.length ? 'error' : degraded.length ? 'warning' : undefined, notHealthy };
}

/**
 * Announces each loss of a pool's master once: when a pool that had a running master (or was never judged) is judged
 * masterless. Nothing again while it stays so; a running master (recovered, healthy) ends the loss.
 */
export class MasterLossNotices {
  private readonly lost = new Set<string>();

  /** The warning to show now, if this verdict begins a loss. */
  observe(pool: WatchedPool): string | undefined {
    const health = poolHealth(pool.verdict);
    if (health === 'probing') return undefined;
    if (health !== 'masterless') {
      this.lost.delete(pool.uuid);
      return undefined;
    }
    if (this.lost.has(pool.uuid)) return undefined;
    this.lost.add(pool.uuid);
    const verdict = pool.verdict;
    const why = verdict?.kind === 'ha' ? 'HA is electing a new master' : verdict?.kind === 'emergency' ? 'its slaves are in emergency mode' : 'its master does not answer';
    return `${pool.name} has no running master: ${why}.`;
  }
}


function describe(status: HostStatus): string {
  const role = status.health.kind === 'probed' ? status.health.facts.role?.role : undefined;
  return `${role ? `${role}, ` : ''}${stateWord(hostState(status))}`;
}

/** `xcp-host1: master, online → unreachable (…why…)`, or undefined when the host's role and state did not change. */
export function hostChangeLine(before: HostStatus | undefined, after: HostStatus): string | undefined {
  if (after.health.kind === 'probing') return undefined;
  const known = before && before.health.kind !== 'probing' ? before : undefined;
  if (known && describe(known) === describe(after)) return undefined;
  const why = after.health.kind === 'unreachable' || after.health.kind === 'invalid' ? ` (${after.health.message})` : '';
  return `${after.member.name}: ${known ? `${describe(known)} → ` : ''}${describe(after)}${why}`;
}
