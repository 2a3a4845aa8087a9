/**
 * How pools and hosts look in the tree: labels, descriptions, icons, colours, context values.
 * No `vscode` import, so this is unit-tested with plain mocha; the node classes only map it
 * onto TreeItems. Icons are codicon ids and colours are theme colour ids (never hex).
 */
import type { HostStatus, PoolInventory, PoolVerdict } from '../core/pool/model';

/** former-master: the master at discovery, not answering, while another host runs the pool. */
export type HostRole = 'master' | 'slave' | 'broken' | 'former-master' | 'unknown';
/** login-failed: the host answers SSH but refuses our login; its own state, with Update Credentials… (issue 13). */
export type HostState = 'online' | 'emergency' | 'unreachable' | 'login-failed' | 'xapi-down' | 'probing' | 'transition-pending' | 'unknown';
export type PoolState = PoolVerdict['kind'] | 'probing';

export interface Look {
  readonly description: string;
  readonly icon: string;
  readonly color: string | undefined;
  readonly contextValue: string;
}

/**
 * The role a host has now, or last had: a dead master is still shown as the master — until another
 * host is the pool's working master, when the dead one is its former master.
 */
export function hostRole(status: HostStatus, inventory: PoolInventory, lastKnown?: HostStatus, currentMasterUuid?: string): HostRole {
  if (status.health.kind === 'probed' && status.health.facts.role) return status.health.facts.role.role;
  const remembered = lastKnown?.health.kind === 'probed' ? lastKnown.health.facts.role?.role : status.member.uuid === inventory.masterUuid ? 'master' : undefined;
  if (status.health.kind === 'invalid') return 'unknown';
  if (remembered === 'master' && currentMasterUuid && currentMasterUuid !== status.member.uuid) return 'former-master';
  return remembered ?? (status.health.kind === 'probing' || status.health.kind === 'unreachable' ? 'slave' : 'unknown');
}

/** `transitionPending`: this host was told to become master and the outcome is not known yet. */
export function hostState(status: HostStatus, transitionPending = false): HostState {
  if (transitionPending) return 'transition-pending';
  const health = status.health;
  switch (health.kind) {
    case 'probing':
      return 'probing';
    case 'unreachable':
      return health.failure === 'auth' ? 'login-failed' : 'unreachable';
    case 'invalid':
      return 'unknown';
    case 'probed':
      if (health.facts.xapi !== 'running') return 'xapi-down';
      if (health.facts.emergency) return 'emergency';
      return health.facts.role ? 'online' : 'unknown';
  }
}

/** `host:<role>:<state>`, matched in package.json by anchored regexes such as /^host:slave:(online|emergency)$/. */
export function hostContextValue(role: HostRole, state: HostState): string {
  return `host:${role}:${state}`;
}

export function poolContextValue(state: PoolState): string {
  return `pool:${state}`;
}

const HOST_ICONS: Record<HostState, { icon: string; color: string | undefined }> = {
  online: { icon: 'server', color: 'testing.iconPassed' },
  emergency: { icon: 'warning', color: 'problemsWarningIcon.foreground' },
  unreachable: { icon: 'debug-disconnect', color: 'problemsErrorIcon.foreground' },
  'login-failed': { icon: 'key', color: 'problemsErrorIcon.foreground' },
  'xapi-down': { icon: 'circle-slash', color: 'problemsErrorIcon.foreground' },
  probing: { icon: 'loading~spin', color: undefined },
  'transition-pending': { icon: 'sync~spin', color: 'problemsWarningIcon.foreground' },
  unknown: { icon: 'question', color: 'disabledForeground' },
};

const STATE_WORDS: Record<HostState, string | undefined> = {
  online: undefined,
  emergency: 'emergency',
  unreachable: 'unreachable',
  'login-failed': 'login failed',
  'xapi-down': 'xapi down',
  probing: 'probing…',
  'transition-pending': 'transition pending',
  unknown: 'unknown state',
};

/** The word for a host's state, as the tree and the log say it ("online" where the tree says nothing). */
export function stateWord(state: HostState): string {
  return STATE_WORDS[state] ?? 'online';
}

export function hostLook(role: HostRole, state: HostState): Look {
  const icon = role === 'master' && state === 'online' ? { icon: 'star-full', color: 'testing.iconPassed' } : HOST_ICONS[state];
  // State first and short: the side bar cuts the rest (the address and every fact are in the tooltip).
  const roleWord = role === 'unknown' ? undefined : role.replace('-', ' ');
  const description = [STATE_WORDS[state], roleWord].filter(Boolean).join(' · ') || 'unknown';
  return { description, icon: icon.icon, color: icon.color, contextValue: hostContextValue(role, state) };
}

const POOL_LOOKS: Record<PoolState, { words: string; icon: string; color: string | undefined }> = {
  healthy: { words: 'healthy', icon: 'pass', color: 'testing.iconPassed' },
  'hosts-down': { words: 'hosts down', icon: 'warning', color: 'problemsWarningIcon.foreground' },
  'master-unreachable': { words: 'master unreachable', icon: 'error', color: 'problemsErrorIcon.foreground' },
  emergency: { words: 'emergency, no master', icon: 'warning', color: 'problemsWarningIcon.foreground' },
  recovered: { words: 'recovered, stragglers', icon: 'warning', color: 'problemsWarningIcon.foreground' },
  'split-brain': { words: 'split-brain, 2 masters', icon: 'error', color: 'problemsErrorIcon.foreground' },
  ha: { words: 'HA is electing a master', icon: 'shield', color: 'problemsInfoIcon.foreground' },
  unknown: { words: 'unknown', icon: 'question', color: 'disabledForeground' },
  probing: { words: 'probing…', icon: 'loading~spin', color: undefined },
};

export function poolLook(verdict: PoolVerdict | undefined): Look {
  const state: PoolState = verdict?.kind ?? 'probing';
  const look = POOL_LOOKS[state];
  return { description: poolWords(verdict) ?? look.words, icon: look.icon, color: look.color, contextValue: poolContextValue(state) };
}

/** Words that depend on more than the verdict's kind. */
function poolWords(verdict: PoolVerdict | undefined): string | undefined {
  if (verdict?.kind !== 'hosts-down') return undefined;
  // After a recovery; the side bar's default width shows about 20 characters next to a pool's name.
  if (verdict.formerMasterUuid) return verdict.downUuids.length === 1 ? 'old master down' : `old master +${verdict.downUuids.length - 1} down`;
  return `${verdict.downUuids.length} host${verdict.downUuids.length === 1 ? '' : 's'} down`;
}

/** The tooltip's facts, one `label: value` pair each; the node renders them as Markdown. */
export function hostFacts(status: HostStatus, role: HostRole): [string, string][] {
  const facts: [string, string][] = [
    ['UUID', status.member.uuid],
    ['Address', status.member.address],
    ['Role', role],
  ];
  const health = status.health;
  if (health.kind === 'probed') {
    const f = health.facts;
    if (f.role?.role === 'slave') facts.push(['Master it points to', f.role.masterAddress]);
    if (f.masterPortOpen !== undefined) facts.push(['Reaches its master (TCP 443)', f.masterPortOpen ? 'yes' : 'no']);
    facts.push(['xapi', f.xapi], ['Emergency mode', f.emergency === undefined ? 'unknown' : f.emergency ? 'yes' : 'no']);
    if (f.emergencyFailure) facts.push(['Last error', f.emergencyFailure.code]);
    if (f.roleProblem) facts.push(['Last error', f.roleProblem]);
  }
  if (health.kind === 'unreachable' || health.kind === 'invalid') facts.push(['Last error', health.message]);
  if (status.probedAt) facts.push(['Last probe', `${new Date(status.probedAt).toLocaleString()} (${status.durationMs ?? '?'} ms)`]);
  return facts;
}
