import type { SrSummary, VmSummary } from '../xe/operations';
import type { XeCallRecord } from './hostAccess';
import type { PoolMember } from './model';
import type { PoolLockHeldError } from './poolLock';
import { blockingRefusals, type RecoveryPlan, type RecoveryStep } from './plan';

/*
 * What a recovery run leaves behind, in data and in words: the report with every step's record, the outcome line,
 * and the next steps an admin must still take.
 */

export type StepStatus = 'done' | 'failed' | 'not-run';

/** The audit record of one step: what ran where, how long, what it printed. */
export interface StepRecord {
  readonly step: RecoveryStep;
  readonly status: StepStatus;
  readonly startedAt?: string;
  readonly durationMs?: number;
  readonly calls: readonly XeCallRecord[];
  readonly detail: readonly string[];
  readonly error?: string;
}

export interface DefaultSrCheck {
  readonly uuid: string | null;
  readonly name: string | undefined;
  readonly valid: boolean;
  readonly problems: readonly string[];
  /** A better default SR the admin may set (pool-param-set default-SR=…); never set automatically. */
  readonly proposal: SrSummary | undefined;
}

export interface RecoveryReport {
  /**
   * `unknown`: a state-changing step ended uncleanly (timeout, lost connection, cancel, an answer that
   * cannot be read): it may have taken effect on the host, or may still do so.
   */
  readonly outcome: 'succeeded' | 'failed' | 'cancelled' | 'refused' | 'unknown';
  readonly plan: RecoveryPlan;
  readonly newMaster: PoolMember | undefined;
  readonly steps: readonly StepRecord[];
  readonly recoveredSlaves: readonly PoolMember[];
  readonly stragglers: readonly PoolMember[];
  readonly defaultSr: DefaultSrCheck | undefined;
  readonly staleVms: readonly VmSummary[];
  /** Why the VMs still marked running on the old master could not be listed (staleVms is then empty, not "none"). */
  readonly staleVmsUnread?: string;
  /** A host whose transition to master has an unknown outcome: it may be becoming master. */
  readonly pendingMaster: PoolMember | undefined;
  /** HA elected this host while we waited: nothing was done by hand. */
  readonly haElected?: PoolMember;
  /** Another client held the pool's lock: nothing ran. */
  readonly lockConflict?: PoolLockHeldError;
  /** The old master still ran as master at the end (a forced recovery): the pool has two masters. */
  readonly oldMasterStillMaster: boolean;
  /** What the admin must still do, in order. */
  readonly nextSteps: readonly string[];
}

/** The outcome in words, first line of every report and notification. */
export function describeOutcome(report: RecoveryReport): string {
  const newMaster = report.newMaster ? `; new master ${report.newMaster.name} (${report.newMaster.address})` : '';
  if (report.oldMasterStillMaster && report.plan.oldMaster) return `completed — ${report.plan.oldMaster.name} is STILL a running master (two masters)${newMaster}`;
  if (report.outcome === 'unknown') {
    return report.pendingMaster ? `outcome unknown: ${report.pendingMaster.name} may be becoming master — do not promote another host` : 'outcome unknown: a step did not end cleanly';
  }
  return `${report.outcome}${newMaster}`;
}

export function describeStep(step: RecoveryStep): string {
  const on = `on ${step.host.name} (${step.host.address})`;
  switch (step.kind) {
    case 'wait-for-ha':
      return 'wait for HA to elect a new master by itself';
    case 'disable-ha':
      return `xe host-emergency-ha-disable --force ${on}`;
    case 'restart-toolstack':
      return `xe-toolstack-restart ${on}, then wait for emergency mode`;
    case 'transition-to-master':
      return `xe pool-emergency-transition-to-master ${on}`;
    case 'wait-for-master':
      return `wait until ${step.host.name} is master (pool.conf and pool-list)`;
    case 'recover-slaves':
      return `xe pool-recover-slaves ${on}`;
    case 'reset-master':
      return `xe pool-emergency-reset-master master-address=${step.master.address} ${on}`;
    case 'verify-slaves':
      return 'check that every reachable slave follows the new master';
    case 'check-default-sr':
      return `check the pool's default SR ${on}`;
  }
}

export function nextSteps(
  outcome: RecoveryReport['outcome'],
  plan: RecoveryPlan,
  steps: readonly StepRecord[],
  found: Pick<RecoveryReport, 'stragglers' | 'defaultSr' | 'staleVms' | 'staleVmsUnread' | 'pendingMaster' | 'oldMasterStillMaster' | 'haElected'>,
): string[] {
  const { stragglers, defaultSr, staleVms, pendingMaster } = found;
  const result: string[] = [];
  const done = (kind: RecoveryStep['kind']) => steps.some((s) => s.step.kind === kind && s.status === 'done');
  if (found.haElected) result.push(`HA elected ${found.haElected.name} as the new master by itself: nothing was done by hand. Check the VMs of the lost master and the default SR.`);
  const haWait = steps.find((s) => s.step.kind === 'wait-for-ha' && s.status === 'failed');
  if (haWait && outcome === 'failed') {
    result.push('HA elected no new master in time: recover by hand (Guided Recovery again offers it). That path disables HA on every survivor first (host-emergency-ha-disable --force).');
  }
  if (found.oldMasterStillMaster && plan.oldMaster) {
    result.push(
      `${plan.oldMaster.name} is STILL a running master (two masters): demote it first (Demote Old Master, or xe pool-emergency-reset-master ` +
        `master-address=${plan.candidate?.address ?? '<new master>'} on it), before anything else writes to the pool.`,
    );
  }
  if (pendingMaster) {
    result.push(
      `Outcome unknown: ${pendingMaster.name} may be becoming master — do not promote another host. Wait until it answers as master ` +
        `(refresh it), then run "Recover Slaves" on it.`,
    );
  } else if (outcome === 'unknown') {
    const failed = steps.find((s) => s.status === 'failed');
    if (failed) result.push(`Outcome unknown: "${describeStep(failed.step)}" did not end cleanly; refresh the pool and check ${failed.step.host.name} before going on.`);
  }
  if (outcome === 'refused') result.push(...blockingRefusals(plan).map((r) => `Resolve first: ${r.reason}.`));
  if (done('transition-to-master') && !done('recover-slaves') && plan.candidate && !pendingMaster) {
    result.push(`${plan.candidate.name} was told to become master, but the slaves were not recovered yet: once it answers as master, run "Recover Slaves" on it.`);
  }
  for (const demoted of steps.filter((s) => s.step.kind === 'reset-master' && s.status === 'done')) {
    if (demoted.step.kind !== 'reset-master') continue;
    const { host, master } = demoted.step;
    result.push(`${host.name} was demoted to a slave of ${master.name}: once it reaches ${master.name} it joins by itself (refresh to check it; Recover Slaves on ${master.name} if it does not).`);
  }
  // The dead old master is no straggler to wait for: it is kept off the network (the step below says how it may return).
  const waitFor = stragglers.filter((m) => m.uuid !== plan.oldMaster?.uuid || !done('transition-to-master'));
  if (waitFor.length) result.push(`Run "Recover Slaves" again once these hosts are reachable: ${waitFor.map((m) => m.name).join(', ')}.`);
  if (defaultSr?.proposal) result.push(`Set the default SR to "${defaultSr.proposal.name}" (${defaultSr.proposal.uuid}): xe pool-param-set uuid=${plan.poolUuid} default-SR=${defaultSr.proposal.uuid}.`);
  else if (defaultSr && !defaultSr.valid) result.push(`Fix the default SR: ${defaultSr.problems.join('; ')}.`);
  if (found.staleVmsUnread && plan.oldMaster) {
    result.push(
      `The VMs still marked Running on the dead master ${plan.oldMaster.name} could not be listed (${found.staleVmsUnread}): ` +
        `check them on the new master with xe vm-list resident-on=${plan.oldMaster.uuid} power-state=running is-control-domain=false.`,
    );
  }
  if (staleVms.length && plan.oldMaster) {
    result.push(
      `${staleVms.length} VM(s) are still marked Running on the dead master ${plan.oldMaster.name} (${staleVms.map((v) => v.name).join(', ')}). ` +
        'Only when that host is certainly powered off or fenced: Reset Power State… (under Needs attention in the tree; xe vm-reset-powerstate uuid=<vm> --force), then Start on… a surviving host. This is never done automatically.',
    );
  }
  if (plan.oldMaster && done('transition-to-master')) {
    result.push(`Keep ${plan.oldMaster.name} off the network until it is reinstalled or demoted (xe pool-emergency-reset-master master-address=${plan.candidate?.address ?? '<new master>'}): if it comes back unable to reach the new master it starts as a second master.`);
  }
  return result;
}

/** The plan in words: what the confirmation dialog, the log and the incident report show. */
export function planText(plan: RecoveryPlan): string {
  return [
    `Pool ${plan.poolName}: ${plan.verdict}.`,
    plan.candidate ? `New master: ${plan.candidate.name} (${plan.candidate.address}), because ${plan.candidateReasons.join('; ')}.` : 'No candidate for new master.',
    ...(plan.oldMaster ? [`Old master: ${plan.oldMaster.name} (${plan.oldMaster.address}).`] : []),
    ...plan.refusals.map((r) => `${r.forceable ? 'WARNING' : 'BLOCKED'}: ${r.reason}.`),
    ...plan.notes,
    '',
    'Steps:',
    ...plan.steps.map((step, i) => `${i + 1}. ${describeStep(step)}`),
  ].join('\n');
}

export function reportText(report: RecoveryReport): string {
  const sr = report.defaultSr;
  return [
    `Outcome: ${describeOutcome(report)}.`,
    ...report.steps.map((s) => `  [${s.status}] ${describeStep(s.step)}${s.durationMs !== undefined ? ` (${(s.durationMs / 1000).toFixed(1)} s)` : ''}${s.error ? `: ${s.error}` : ''}`),
    ...(report.recoveredSlaves.length ? [`Recovered slaves: ${report.recoveredSlaves.map((m) => m.name).join(', ')}.`] : []),
    ...(sr ? [`default-SR: ${sr.uuid ?? '<not in database>'}${sr.name ? ` (${sr.name})` : ''}: ${sr.valid ? 'valid' : `NOT valid (${sr.problems.join('; ')})`}.`] : []),
    ...(report.nextSteps.length ? ['Next steps:', ...report.nextSteps.map((s) => `  - ${s}`)] : []),
  ].join('\n');
}
