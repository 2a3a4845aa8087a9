import type { HostStatus, PoolInventory, PoolMember, PoolVerdict } from './model';
import type { HostProbeFacts } from './probe';

/** One step of a recovery, in the order it runs. Every step names the host it runs on. */
export type RecoveryStep =
  /**
   * HA elects a new master by itself once its timeout has passed: wait for that first (any survivor answering as
   * master ends the wait); act by hand only when it did not happen.
   */
  | { readonly kind: 'wait-for-ha'; readonly host: PoolMember }
  /** HA blocks the emergency commands (HA_IS_ENABLED) until it is disabled on each survivor. */
  | { readonly kind: 'disable-ha'; readonly host: PoolMember }
  /** Modern xapi enters emergency mode only when its toolstack restarts (xapi-behaviour D.1). */
  | { readonly kind: 'restart-toolstack'; readonly host: PoolMember }
  | { readonly kind: 'transition-to-master'; readonly host: PoolMember }
  /** Wait until pool.conf says master and xapi answers `pool-list params=master` with its own UUID. */
  | { readonly kind: 'wait-for-master'; readonly host: PoolMember }
  | { readonly kind: 'recover-slaves'; readonly host: PoolMember }
  /** Demote a second master: `pool-emergency-reset-master master-address=<the master to keep>` on it. */
  | { readonly kind: 'reset-master'; readonly host: PoolMember; readonly master: PoolMember }
  /** Check every reachable slave now points to the new master; re-run recover-slaves for stragglers. */
  | { readonly kind: 'verify-slaves'; readonly host: PoolMember }
  | { readonly kind: 'check-default-sr'; readonly host: PoolMember };

/** A condition that stops the plan unless the admin overrides it knowingly. */
export interface PlanRefusal {
  readonly reason: string;
  /** Whether `force` may override it; some refusals (no candidate) cannot be forced. */
  readonly forceable: boolean;
}

export interface RecoveryPlan {
  /** When the probe it is built on was made (its oldest host, ms since the epoch): an old plan is not run (MAX_PLAN_AGE_MS). */
  readonly createdAt: number;
  readonly poolUuid: string;
  readonly poolName: string;
  readonly verdict: PoolVerdict['kind'];
  readonly candidate: PoolMember | undefined;
  /** Why this candidate, in words. */
  readonly candidateReasons: readonly string[];
  readonly oldMaster: PoolMember | undefined;
  /** Members that answered the probe: the only ones any step may act on, and where the pool lock is taken. */
  readonly verified: readonly PoolMember[];
  /** Members that cannot take part (unreachable, xapi down): left as they are, listed in the report. */
  readonly leftOut: readonly PoolMember[];
  readonly refusals: readonly PlanRefusal[];
  readonly notes: readonly string[];
  readonly steps: readonly RecoveryStep[];
}

export interface PlanOptions {
  /** The admin's choice of new master; otherwise the best candidate is chosen. */
  readonly candidateUuid?: string;
  /**
   * What to do when the candidate is not in emergency mode: restart its toolstack first (it then
   * comes up in emergency mode, since its master is unreachable), or transition it directly
   * (xapi does not check emergency mode; xapi-behaviour A.2). Default: restart-toolstack, which
   * follows the runbook; the admin may choose the faster direct path.
   */
  readonly notInEmergency?: 'restart-toolstack' | 'transition-directly';
  /** Override forceable refusals (e.g. the master still answers). */
  readonly force?: boolean;
  /**
   * HA's own election was waited for and did not happen: the manual path (disable HA on each survivor, then the
   * runbook) may be planned. Until then an HA pool's plan is the wait alone.
   */
  readonly haElectionWaited?: boolean;
  /** A host whose transition to master has an unknown outcome: no other host may be promoted meanwhile. */
  readonly pendingMaster?: PoolMember;
}

/** A plan older than this is refused and rebuilt: what it was built on may have changed while a dialog was open. */
export const MAX_PLAN_AGE_MS = 60_000;

/** The refusal for a plan that is too old to act on, if it is. */
export function planAgeRefusal(plan: RecoveryPlan, now = Date.now()): PlanRefusal | undefined {
  const age = now - plan.createdAt;
  if (age <= MAX_PLAN_AGE_MS) return undefined;
  return { reason: `the plan was made ${Math.round(age / 1000)} s ago, from a probe that may no longer hold: probe again and confirm the fresh plan`, forceable: false };
}

interface Survivor {
  readonly member: PoolMember;
  readonly facts: HostProbeFacts;
}

/** Members whose probe answered: the only ones a step may act on, and where the pool lock is taken. */
export function answeringMembers(statuses: readonly HostStatus[]): PoolMember[] {
  return statuses.flatMap((s) => (s.health.kind === 'probed' ? [s.member] : []));
}

/** A plan is as old as its oldest probe: a plan built later from the same probe is no fresher. */
function probedAt(statuses: readonly HostStatus[]): number {
  return Math.min(Date.now(), ...statuses.map((s) => (s.probedAt ? Date.parse(s.probedAt) : Date.now())));
}

function survivors(statuses: readonly HostStatus[]): Survivor[] {
  return statuses.flatMap((s) => (s.health.kind === 'probed' && s.health.facts.xapi === 'running' ? [{ member: s.member, facts: s.health.facts }] : []));
}

/** Higher is better. The order of the terms is the order of preference. */
function score(s: Survivor, inventory: PoolInventory): number[] {
  const stats = inventory.hostStats?.[s.member.uuid];
  return [s.facts.role?.role === 'slave' ? 1 : 0, stats?.sharedSrAttached ? 1 : 0, stats?.runningVms ?? 0, s.facts.emergency ? 1 : 0];
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (b[i] ?? 0) - (a[i] ?? 0);
  return 0;
}

function candidateReasons(s: Survivor, inventory: PoolInventory): string[] {
  const stats = inventory.hostStats?.[s.member.uuid];
  return [
    `${s.member.name} answers over SSH and its xapi runs`,
    ...(stats?.sharedSrAttached ? ['it has the shared storage attached'] : []),
    ...(stats ? [`it ran ${stats.runningVms} VM(s) at the last discovery`] : []),
    s.facts.emergency ? 'it is in emergency mode already' : 'it is not in emergency mode yet',
  ];
}

function masterStillAlive(statuses: readonly HostStatus[], oldMaster: PoolMember | undefined): string[] {
  const masterStatus = statuses.find((s) => s.member.address === oldMaster?.address);
  const facts = masterStatus?.health.kind === 'probed' ? masterStatus.health.facts : undefined;
  if (masterStatus && facts?.role?.role === 'master') {
    // We see the old master ourselves: that says more than the slaves' port check, which only reaches its stunnel
    // (port 443 stays open while the host runs, whatever xapi does).
    if (facts.xapi === 'running') return [`the master ${masterStatus.member.name} still answers us over SSH and its xapi runs`];
    return [
      `the master ${masterStatus.member.name} answers us over SSH but its xapi is down: restart its toolstack there ` +
        `(Restart Toolstack on ${masterStatus.member.name}) rather than promote another host; its xapi comes back as master`,
    ];
  }
  // Only a slave that still points at the old master says something about it: one that follows another
  // (a new) master and reaches that one is no sign that the old master lives.
  const reasons: string[] = [];
  for (const s of survivors(statuses)) {
    if (s.facts.role?.role === 'slave' && s.facts.role.masterAddress === oldMaster?.address && s.facts.masterPortOpen) {
      reasons.push(`${s.member.name} can still reach its master ${oldMaster.name} on port 443`);
    }
  }
  return reasons;
}

/**
 * The invariant: never make a second master while another member runs as one. A survivor that answers
 * as master with xapi running (e.g. promoted by an earlier recovery) blocks every plan, forced or not;
 * the way on is Recover Slaves on that master, so the hosts still pointing at the dead one follow it.
 */
function runningMasterRefusals(alive: readonly Survivor[], candidate: Survivor | undefined, oldMaster: PoolMember | undefined): PlanRefusal[] {
  const stragglersOf = oldMaster ? `, so the hosts that still point at ${oldMaster.name} follow it` : '';
  return alive
    .filter((s) => s.facts.role?.role === 'master')
    .map((master) => ({
      reason:
        master === candidate
          ? `${master.member.name} already runs as master: run Recover Slaves on ${master.member.name} instead${stragglersOf}`
          : `${master.member.name} already runs as master (its xapi runs): promoting ${candidate?.member.name ?? 'another host'} would make a second master. Run Recover Slaves on ${master.member.name} instead${stragglersOf}`,
      forceable: false,
    }));
}

/**
 * Computes the recovery plan from a fresh probe, before anything runs, so the admin sees exactly
 * what will happen on which host, and why. Pure: it decides, the executor acts.
 */
export function planRecovery(inventory: PoolInventory, verdict: PoolVerdict, statuses: readonly HostStatus[], options: PlanOptions = {}): RecoveryPlan {
  const refusals: PlanRefusal[] = [];
  const notes: string[] = [];
  const oldMaster = inventory.members.find((m) => verdict.kind !== 'healthy' && 'masterAddress' in verdict && m.address === verdict.masterAddress) ?? inventory.members.find((m) => m.uuid === inventory.masterUuid);
  const alive = survivors(statuses).filter((s) => s.member.address !== oldMaster?.address);
  const leftOut = statuses.filter((s) => !alive.some((a) => a.member.uuid === s.member.uuid) && s.member.uuid !== oldMaster?.uuid).map((s) => s.member);

  if (verdict.kind === 'healthy') refusals.push({ reason: 'the pool is healthy: its master answers and every slave reaches it', forceable: false });
  if (verdict.kind === 'hosts-down') {
    const down = inventory.members.filter((m) => verdict.downUuids.includes(m.uuid)).map((m) => m.name).join(', ');
    refusals.push({ reason: `the pool's master runs and every member that answers follows it; only ${down} do${verdict.downUuids.length === 1 ? 'es' : ''} not answer, which no new master would change`, forceable: false });
  }
  if (verdict.kind === 'unknown') refusals.push({ reason: `the pool's state is not known (${verdict.evidence[0] ?? 'no member answered'}): nothing may be promoted until it is`, forceable: false });
  if (verdict.kind === 'split-brain') {
    refusals.push({ reason: 'two hosts claim to be master (split-brain): demote one with pool-emergency-reset-master first; a recovery would make it worse', forceable: false });
  }
  const aliveReasons = masterStillAlive(statuses, oldMaster);
  if (aliveReasons.length) {
    refusals.push({ reason: `the master may not be dead: ${aliveReasons.join('; ')}. Promoting another host now creates two masters writing to the same storage`, forceable: true });
  }

  const ranked = [...alive].sort((a, b) => compareScores(score(a, inventory), score(b, inventory)) || a.member.name.localeCompare(b.member.name));
  const chosen = options.candidateUuid ? alive.find((s) => s.member.uuid === options.candidateUuid) : ranked[0];
  if (options.candidateUuid && !chosen) refusals.push({ reason: 'the chosen host is not a reachable survivor with xapi running', forceable: false });
  if (!chosen && !options.candidateUuid) refusals.push({ reason: 'no surviving member answers over SSH with xapi running', forceable: false });
  refusals.push(...runningMasterRefusals(alive, chosen, oldMaster));
  const pending = options.pendingMaster;
  if (pending && pending.uuid !== chosen?.member.uuid) {
    refusals.push({
      reason: `${pending.name} may be becoming master (its transition had an unknown outcome): promoting ${chosen?.member.name ?? 'another host'} could make a second master. Wait until ${pending.name} answers as master and run Recover Slaves on it`,
      forceable: false,
    });
  }

  const steps: RecoveryStep[] = [];
  if (chosen && verdict.kind === 'ha' && !options.haElectionWaited) {
    notes.push('HA is enabled: it elects a new master by itself once its timeout has passed. The recovery waits for that first; only if no master appears does it offer to recover by hand.');
    steps.push({ kind: 'wait-for-ha', host: chosen.member });
  } else if (chosen) {
    const haOn = verdict.kind === 'ha' || inventory.haEnabled || alive.some((s) => s.facts.emergencyFailure?.code.startsWith('HA_'));
    if (!haOn && inventory.haUnknown) {
      notes.push('HA state unknown (the pool is declared in settings and no master has answered since): HA is disarmed on each survivor first (host-emergency-ha-disable --force); where HA is off, that changes nothing.');
      for (const s of alive) steps.push({ kind: 'disable-ha', host: s.member });
    }
    if (haOn) {
      notes.push('HA is enabled: its emergency commands are refused (HA_IS_ENABLED) until HA is disabled on each survivor with host-emergency-ha-disable --force. Its own election did not bring a new master; this is the manual path.');
      for (const s of alive) steps.push({ kind: 'disable-ha', host: s.member });
    }
    if (!chosen.facts.emergency) {
      notes.push(
        `${chosen.member.name} is not in emergency mode. Older documentation says slaves enter it 60 s after losing the master; ` +
          'current xapi keeps retrying forever and enters it only when its toolstack restarts. ' +
          'pool-emergency-transition-to-master works either way; restarting the toolstack first follows the runbook.',
      );
      if ((options.notInEmergency ?? 'restart-toolstack') === 'restart-toolstack') steps.push({ kind: 'restart-toolstack', host: chosen.member });
    }
    steps.push(
      { kind: 'transition-to-master', host: chosen.member },
      { kind: 'wait-for-master', host: chosen.member },
      { kind: 'recover-slaves', host: chosen.member },
      { kind: 'verify-slaves', host: chosen.member },
      { kind: 'check-default-sr', host: chosen.member },
    );
  }
  if (leftOut.length) notes.push(`Left as they are (not reachable with xapi running): ${leftOut.map((m) => m.name).join(', ')}. Run recover-slaves again once they are back.`);

  return {
    createdAt: probedAt(statuses),
    poolUuid: inventory.poolUuid,
    poolName: inventory.poolName,
    verdict: verdict.kind,
    candidate: chosen?.member,
    candidateReasons: chosen ? candidateReasons(chosen, inventory) : [],
    oldMaster,
    verified: answeringMembers(statuses),
    leftOut,
    refusals,
    notes,
    steps,
  };
}

/** The refusals that still block the plan under the given options. */
export function blockingRefusals(plan: RecoveryPlan, options: Pick<PlanOptions, 'force'> = {}): PlanRefusal[] {
  return plan.refusals.filter((r) => !(r.forceable && options.force));
}

/**
 * Two (or more) members run as master: which one to keep, which to demote, and why. The one to keep holds the
 * newer pool state: the one the other members follow (a recovery promoted it and recover-slaves pointed them at
 * it). A tie cannot be decided from here, so it is refused: demoting the wrong one throws away its database.
 */
export function planDemotion(inventory: PoolInventory, verdict: PoolVerdict, statuses: readonly HostStatus[]): RecoveryPlan {
  const alive = survivors(statuses);
  const masters = alive.filter((s) => s.facts.role?.role === 'master');
  const followers = (m: Survivor) => alive.filter((s) => s.facts.role?.role === 'slave' && s.facts.role.masterAddress === m.member.address);
  const ranked = [...masters].sort((a, b) => followers(b).length - followers(a).length);
  const [keep, runnerUp] = ranked;
  const refusals: PlanRefusal[] = [];
  if (masters.length < 2 || !keep) refusals.push({ reason: 'there are no two running masters to choose between: nothing to demote', forceable: false });
  else if (runnerUp && followers(runnerUp).length === followers(keep).length) {
    refusals.push({
      reason: `${keep.member.name} and ${runnerUp.member.name} are each followed by ${followers(keep).length} host(s): which holds the newer pool state cannot be told from here. Compare their VMs and host lists (xe vm-list, xe host-list on each) and demote one by hand`,
      forceable: false,
    });
  }
  const demoted = keep ? ranked.slice(1) : [];
  const steps: RecoveryStep[] = keep && refusals.length === 0 ? [...demoted.map((d) => ({ kind: 'reset-master' as const, host: d.member, master: keep.member })), { kind: 'verify-slaves', host: keep.member }] : [];
  const names = (list: readonly Survivor[]) => (list.length ? list.map((s) => s.member.name).join(', ') : 'none');
  return {
    createdAt: probedAt(statuses),
    poolUuid: inventory.poolUuid,
    poolName: inventory.poolName,
    verdict: verdict.kind,
    candidate: keep?.member,
    candidateReasons: keep
      ? [`the other members follow it (${followers(keep).length}: ${names(followers(keep))})`, ...demoted.map((d) => `${d.member.name} is followed by ${followers(d).length} (${names(followers(d))}): its pool state is the older one`)]
      : [],
    oldMaster: demoted[0]?.member,
    verified: answeringMembers(statuses),
    leftOut: statuses.filter((s) => !alive.some((a) => a.member.uuid === s.member.uuid)).map((s) => s.member),
    refusals,
    notes: demoted.length ? [`${names(demoted)} restart(s) as slave of ${keep?.member.name ?? '?'} after xapi's fuse; one that cannot reach it waits in emergency mode, no longer a master.`] : [],
    steps,
  };
}
