import * as vscode from 'vscode';
import { describeOutcome, describeStep, RecoveryExecutor, type RecoveryReport } from '../core/pool/executor';
import { planText, reportText } from '../core/pool/report';
import type { PoolMonitor } from '../core/pool/monitor';
import { blockingRefusals, planAgeRefusal, planDemotion, planRecovery, type PlanOptions, type RecoveryPlan, type RecoveryStep } from '../core/pool/plan';
import type { XenNode } from '../tree/nodes';
import { notify, ui } from '../ui';
import { lockOwner, offerToBreak, orCancel, resolvePool, type CommandContext } from './context';
import { writeIncidentReport } from './incident';

/** Probes every member now (a plan is only as good as its probe) and plans. */
export async function freshPlan(monitor: PoolMonitor, options: PlanOptions): Promise<RecoveryPlan> {
  await monitor.refresh();
  const verdict = monitor.verdict;
  if (!verdict) throw new Error(`${monitor.inventory.poolName}: the probe did not finish`);
  return planRecovery(monitor.inventory, verdict, monitor.allStatuses(), { ...options, pendingMaster: monitor.pendingTransition?.member });
}

/**
 * Builds a plan from a fresh probe and asks for confirmation; a plan that grew too old while the dialog was open
 * (MAX_PLAN_AGE_MS) is built again from a new probe and shown again, so nothing runs on a stale picture.
 */
export async function confirmFreshPlan(
  monitor: PoolMonitor,
  build: () => Promise<RecoveryPlan>,
  confirm: (plan: RecoveryPlan) => Promise<PlanOptions | undefined>,
): Promise<{ plan: RecoveryPlan; options: PlanOptions } | undefined> {
  for (;;) {
    const plan = await build();
    const options = await confirm(plan);
    if (!options) return undefined;
    const tooOld = planAgeRefusal(plan);
    if (!tooOld) return { plan, options };
    void notify('info', `${monitor.inventory.poolName}: ${tooOld.reason}. Probing again…`);
  }
}

/**
 * Runs a plan under the pool lock with a cancellable progress notification, logs every step
 * and the final report, and tells the user the outcome with the next steps.
 */
export async function executePlan(context: CommandContext, monitor: PoolMonitor, plan: RecoveryPlan, options: PlanOptions, title: string): Promise<RecoveryReport> {
  const startedAt = Date.now();
  const first = await runPlan(context, monitor, plan, options, title);
  // Another client's lock that expired: offered to break, then the plan runs once more (re-checked as always).
  const report = first.lockConflict && (await offerToBreak(monitor, first.lockConflict)) ? await runPlan(context, monitor, plan, options, title) : first;
  if (report.pendingMaster) monitor.markTransitionPending(report.pendingMaster);
  context.log.info(`[recovery] ${title}\n${reportText(report)}`);
  const clean = report.outcome === 'succeeded' && !report.oldMasterStillMaster;
  const summary = clean ? `${title}: done.` : `${title}: ${describeOutcome(report)}.`;
  const next = report.nextSteps[0] ? ` Next: ${report.nextSteps[0]}` : '';
  void notify(clean ? 'info' : 'warning', `${summary}${next}`, 'Show Log').then((choice) => choice && context.log.show(true));
  // The report stays when the notification is gone: written under the extension's storage and opened.
  await monitor.refresh().catch(() => undefined);
  await writeIncidentReport(context, monitor, title, { since: startedAt, recovery: report }).catch((error: Error) => context.log.error(`[report] cannot write the incident report: ${error.message}`));
  return report;
}

/** One run under the window's lock, with a cancellable progress notification; every step in the log. */
function runPlan(context: CommandContext, monitor: PoolMonitor, plan: RecoveryPlan, options: PlanOptions, title: string): Promise<RecoveryReport> {
  return context.registry.locks.withLock(monitor.inventory, title, async () =>
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      const controller = new AbortController();
      const cancellation = token.onCancellationRequested(() => controller.abort());
      try {
        return await new RecoveryExecutor(monitor.runner, monitor.inventory).run(plan, {
          ...options,
          lockOwner: lockOwner(),
          pendingMaster: monitor.pendingTransition?.member,
          signal: controller.signal,
          onEvent: (event) => {
            if (event.kind === 'countdown') {
              progress.report({ message: `waiting for ${event.what}: at most ${event.secondsLeft} s more` });
            } else if (event.kind === 'step-started') {
              progress.report({ message: `${event.index + 1}/${event.total}: ${describeStep(event.step)}`, increment: 100 / event.total });
              context.log.info(`[recovery] step ${event.index + 1}/${event.total}: ${describeStep(event.step)}`);
            } else if (event.kind === 'output') {
              context.log.info(`[recovery]   ${event.line}`);
            } else if (event.kind === 'cancel-refused') {
              context.log.warn(`[recovery] cancel refused: ${event.reason}`);
              void notify('warning', `Cannot cancel now: ${event.reason}.`);
            } else if (event.kind === 'step-failed') {
              context.log.error(`[recovery] step failed: ${describeStep(event.record.step)}: ${event.record.error ?? ''}`);
            }
            // The tree follows each step as it ends: the host it acted on is probed again (in the background).
            if (event.kind === 'step-finished' || event.kind === 'step-failed') void monitor.refresh([event.record.step.host.uuid], { background: true });
          },
        });
      } finally {
        cancellation.dispose();
      }
    }),
  );
}

/**
 * In an HA pool whose master is lost, HA's own election comes first: the plan is then the wait alone, run here
 * with a countdown. `done` when HA elected a master (or the wait ended otherwise); else `plan` is the manual path
 * from a fresh probe, once the admin agreed to it.
 */
export async function waitForHaFirst(
  context: CommandContext,
  monitor: PoolMonitor,
  plan: RecoveryPlan,
  options: PlanOptions = {},
): Promise<{ done: true; report: RecoveryReport } | { done: false; plan?: RecoveryPlan }> {
  if (!plan.steps.some((s) => s.kind === 'wait-for-ha')) return { done: false };
  const pool = monitor.inventory.poolName;
  const report = await executePlan(context, monitor, onlySteps(plan, ['wait-for-ha']), {}, `Waiting for HA to elect a master of ${pool}`);
  if (report.haElected || report.outcome !== 'failed') return { done: true, report };
  const byHand = await ui.current.confirm(
    `HA elected no new master for ${pool}. Recover by hand?`,
    'The manual path disables HA on every survivor (host-emergency-ha-disable --force), then promotes the host you choose, as the XCP-ng HA guide describes.',
    'Recover by Hand',
  );
  if (!byHand) return { done: true, report };
  return { done: false, plan: await freshPlan(monitor, { ...options, haElectionWaited: true }) };
}

/** Keeps only the steps of these kinds, for the single-step commands (Promote, Recover Slaves). */
export function onlySteps(plan: RecoveryPlan, kinds: readonly RecoveryStep['kind'][]): RecoveryPlan {
  return { ...plan, steps: plan.steps.filter((s) => kinds.includes(s.kind)) };
}

/** Asks for confirmation naming the forceable risks; returns the options to run with, or undefined. */
export async function confirmPlan(plan: RecoveryPlan, action: string, question: string): Promise<PlanOptions | undefined> {
  const blocked = blockingRefusals(plan, { force: true });
  if (blocked.length) throw new Error(`Not possible: ${blocked.map((r) => r.reason).join('; ')}.`);
  const forced = plan.refusals.some((r) => r.forceable);
  const confirmed = await ui.current.confirm(question, planText(plan), forced ? `${action} Anyway` : action);
  return confirmed ? { force: forced } : undefined;
}

export async function guidedRecovery(context: CommandContext, node?: XenNode): Promise<RecoveryReport | undefined> {
  const monitor = await resolvePool(context, node);
  let first = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Probing every member of ${monitor.inventory.poolName}…` }, () => freshPlan(monitor, {}));
  const ha = await waitForHaFirst(context, monitor, first);
  if (ha.done) return ha.report;
  first = ha.plan ?? first;
  const haElectionWaited = ha.plan !== undefined;
  context.log.info(`[recovery] plan for ${monitor.inventory.poolName}:\n${planText(first)}`);
  const hardBlock = blockingRefusals(first, { force: true });
  if (hardBlock.length) {
    void notify('warning', `No recovery for ${monitor.inventory.poolName}: ${hardBlock.map((r) => r.reason).join('; ')}.`, 'Show Log').then((c) => c && context.log.show(true));
    return undefined;
  }
  // The admin may choose another survivor than the recommended one.
  const survivors = monitor.allStatuses().filter((s) => s.health.kind === 'probed' && s.health.facts.xapi === 'running' && s.health.facts.role?.role === 'slave');
  const candidateUuid = orCancel(
    await ui.current.pick(
      survivors
        .map((s) => ({
          label: `${s.member.uuid === first.candidate?.uuid ? '$(star-full) ' : ''}${s.member.name}`,
          description: `${s.member.address}${s.health.kind === 'probed' && s.health.facts.emergency ? ' · emergency mode' : ''}`,
          detail: s.member.uuid === first.candidate?.uuid ? `Recommended: ${first.candidateReasons.join('; ')}` : undefined,
          value: s.member.uuid,
        }))
        .sort((a, b) => Number(b.value === first.candidate?.uuid) - Number(a.value === first.candidate?.uuid)),
      { title: `Guided Recovery of ${monitor.inventory.poolName}: new master`, placeHolder: 'The recommended host is first' },
    ),
  );
  let plan = planRecovery(monitor.inventory, monitor.verdict ?? { kind: 'unknown', evidence: [] }, monitor.allStatuses(), { candidateUuid, haElectionWaited, pendingMaster: monitor.pendingTransition?.member });
  let notInEmergency: PlanOptions['notInEmergency'];
  if (plan.steps.some((s) => s.kind === 'restart-toolstack')) {
    notInEmergency = orCancel(
      await ui.current.pick<NonNullable<PlanOptions['notInEmergency']>>(
        [
          { label: 'Restart its toolstack first', detail: 'xe-toolstack-restart; it comes back in emergency mode because its master is gone (the runbook way)', value: 'restart-toolstack' },
          { label: 'Transition directly', detail: 'pool-emergency-transition-to-master works without emergency mode (xapi does not check it)', value: 'transition-directly' },
        ],
        { title: `${plan.candidate?.name ?? 'The new master'} is not in emergency mode` },
      ),
    );
    plan = planRecovery(monitor.inventory, monitor.verdict ?? { kind: 'unknown', evidence: [] }, monitor.allStatuses(), { candidateUuid, notInEmergency, haElectionWaited, pendingMaster: monitor.pendingTransition?.member });
  }
  let chosenPlan: RecoveryPlan | undefined = plan;
  const confirmed = await confirmFreshPlan(
    monitor,
    // The plan from the probe above first; a new probe if that one grew too old while the dialogs were open.
    async () => chosenPlan ?? (await freshPlan(monitor, { candidateUuid, notInEmergency, haElectionWaited })),
    (p) => {
      chosenPlan = undefined;
      return confirmPlan(p, 'Run Recovery', `Recover ${monitor.inventory.poolName} with ${p.candidate?.name ?? '?'} as the new master?`);
    },
  );
  if (!confirmed) return undefined;
  return executePlan(context, monitor, confirmed.plan, { ...confirmed.options, candidateUuid, notInEmergency, haElectionWaited }, `Guided Recovery of ${monitor.inventory.poolName}`);
}

/**
 * Two running masters (the old one came back): keep the one the other members follow, demote the other with
 * pool-emergency-reset-master, after a modal confirmation that says which one and why.
 */
export async function demoteOldMaster(context: CommandContext, node?: XenNode): Promise<RecoveryReport | undefined> {
  const monitor = await resolvePool(context, node);
  const confirmed = await confirmFreshPlan(
    monitor,
    async () => {
      await monitor.refresh();
      return planDemotion(monitor.inventory, monitor.verdict ?? { kind: 'unknown', evidence: [] }, monitor.allStatuses());
    },
    (plan) => {
      const demoted = plan.steps.flatMap((s) => (s.kind === 'reset-master' ? [s.host.name] : []));
      return confirmPlan(plan, 'Demote', `Keep ${plan.candidate?.name ?? '?'} as the master of ${monitor.inventory.poolName} and demote ${demoted.join(', ') || '?'}?`);
    },
  );
  if (!confirmed) return undefined;
  return executePlan(context, monitor, confirmed.plan, confirmed.options, `Demote old master of ${monitor.inventory.poolName}`);
}
