import { setMaxListeners } from 'node:events';
import { XeCommandError } from '../xe/errors';
import { xeOperations, type VmSummary, type XeRunner } from '../xe/operations';
import type { HostRunner, XeCallRecord } from './hostAccess';
import { describeStep, nextSteps, type DefaultSrCheck, type RecoveryReport, type StepRecord } from './report';
import type { PoolInventory, PoolMember } from './model';
import { blockingRefusals, planAgeRefusal, planRecovery, type PlanOptions, type PlanRefusal, type RecoveryPlan, type RecoveryStep } from './plan';
import { judgePool } from './verdict';
import { acquirePoolLock, PoolLockHeldError, type HeldPoolLock } from './poolLock';
import { probeHost } from './prober';
import type { HostProbeFacts } from './probe';

export interface ExecutorTiming {
  /** How long to wait for the new master to be ready (xapi's fuse is 10 s, then it restarts). */
  readonly masterReadyTimeoutMs: number;
  /** How long a toolstack restart may take until the host answers in emergency mode. */
  readonly toolstackTimeoutMs: number;
  readonly pollIntervalMs: number;
  /** recover-slaves again for slaves that did not follow, this many times, this far apart (XenRT does 2 × 30 s). */
  readonly recoverRetries: number;
  readonly recoverRetryDelayMs: number;
  readonly commandTimeoutMs: number;
  /**
   * How long to wait for HA's own election: xapi's default HA timeout (60 s), then the winner's fuse and start-up.
   * Counted from the start of the wait, since we cannot know when the master was lost (the harsher choice).
   */
  readonly haElectionTimeoutMs: number;
}

export const DEFAULT_EXECUTOR_TIMING: ExecutorTiming = {
  masterReadyTimeoutMs: 180_000,
  toolstackTimeoutMs: 180_000,
  pollIntervalMs: 500,
  recoverRetries: 2,
  recoverRetryDelayMs: 30_000,
  commandTimeoutMs: 60_000,
  haElectionTimeoutMs: 90_000,
};

export type RecoveryEvent =
  | { readonly kind: 'step-started'; readonly step: RecoveryStep; readonly index: number; readonly total: number }
  | { readonly kind: 'output'; readonly step: RecoveryStep; readonly line: string }
  | { readonly kind: 'step-finished'; readonly record: StepRecord }
  | { readonly kind: 'step-failed'; readonly record: StepRecord }
  /** A wait with a known bound, once a second: what it waits for and how long at most. */
  | { readonly kind: 'countdown'; readonly step: RecoveryStep; readonly what: string; readonly secondsLeft: number }
  /** Cancel was asked for while the transition ran: it cannot be stopped once the host received it. */
  | { readonly kind: 'cancel-refused'; readonly step: RecoveryStep; readonly reason: string };

/** What each member that does not answer adds to pool-recover-slaves' time bound. */
const RECOVER_COST_PER_SILENT_HOST_MS = 30_000;

/** The steps that change a host: their unclean end leaves its state unknown. */
const STATE_CHANGING_STEPS: ReadonlySet<RecoveryStep['kind']> = new Set(['disable-ha', 'restart-toolstack', 'transition-to-master', 'recover-slaves', 'reset-master']);

/**
 * Whether a failed step's effect is known: xapi (or the xe client) answered with a failure it names and
 * the command ended by itself. Anything else (our timeout, a lost connection, a cancel, an exit by a
 * signal, an answer we cannot read, a lost connection between xe and xapi) may have taken effect.
 */
function failureIsClean(error: unknown): boolean {
  if (!(error instanceof XeCommandError)) return false;
  const exitCode = error.output.exitCode;
  return exitCode !== null && exitCode < 128 && error.failure.code !== 'UNRECOGNISED' && error.failure.code !== 'CONNECTION_LOST';
}

/** The re-check right before a step found a reason not to run it; nothing was started. */
export class RecheckRefusedError extends Error {
  constructor(
    readonly step: RecoveryStep,
    readonly refusals: readonly PlanRefusal[],
  ) {
    super(`not started: the re-check before "${describeStep(step)}" found: ${refusals.map((r) => r.reason).join('; ')}`);
    this.name = 'RecheckRefusedError';
  }
}

export class RecoveryCancelledError extends Error {
  constructor() {
    super('recovery cancelled');
    this.name = 'RecoveryCancelledError';
  }
}

interface StepContext {
  readonly log: (line: string) => void;
  readonly countdown: (what: string, secondsLeft: number) => void;
  readonly cancelRefused: (reason: string) => void;
  readonly signal: AbortSignal | undefined;
}

/**
 * Runs a recovery plan step by step, with events for the UI and an audit record per step. It
 * stops at the first failed step (later steps depend on it) and can be cancelled between steps
 * and during its waits; the report then says exactly which steps ran.
 */
export class RecoveryExecutor {
  private readonly timing: ExecutorTiming;
  private recovered = new Set<string>();
  private stragglers: PoolMember[] = [];
  private defaultSr: DefaultSrCheck | undefined;
  private staleVms: VmSummary[] = [];
  private staleVmsUnread: string | undefined;
  private pendingMaster: PoolMember | undefined;
  private haElected: PoolMember | undefined;

  constructor(
    private readonly runner: HostRunner,
    private readonly inventory: PoolInventory,
    timing: Partial<ExecutorTiming> = {},
  ) {
    this.timing = { ...DEFAULT_EXECUTOR_TIMING, ...timing };
  }

  async run(planned: RecoveryPlan, options: PlanOptions & { signal?: AbortSignal; onEvent?: (event: RecoveryEvent) => void; lockOwner?: string } = {}): Promise<RecoveryReport> {
    const emit = options.onEvent ?? (() => undefined);
    // Every member is probed at once on this signal (one abort listener per command while it runs): a pool of
    // 16 or 64 hosts is no listener leak.
    if (options.signal) setMaxListeners(Math.max(10, 2 * this.inventory.members.length + 10), options.signal);
    const plan = planned;
    const records: StepRecord[] = plan.steps.map((step) => ({ step, status: 'not-run', calls: [], detail: [] }));
    const tooOld = planAgeRefusal(plan);
    if (tooOld) return this.report('refused', { ...plan, refusals: [...plan.refusals, tooOld] }, records);
    if (blockingRefusals(plan, options).length) return this.report('refused', plan, records);
    // The lock every client sees, on every host that answered: a second window or admin is refused, with our name.
    let lock: HeldPoolLock;
    try {
      lock = await acquirePoolLock(this.runner, this.inventory, plan.verified, `${plan.steps.map((s) => s.kind).join(', ')} with ${plan.candidate?.name ?? '?'}`, options.lockOwner);
    } catch (error) {
      const refused = { ...plan, refusals: [...plan.refusals, { reason: (error as Error).message, forceable: false }] };
      return { ...this.report('refused', refused, records), ...(error instanceof PoolLockHeldError ? { lockConflict: error } : {}) };
    }
    try {
      return await this.runLocked(plan, records, options, emit, lock);
    } finally {
      await lock.release();
    }
  }

  private async runLocked(
    planned: RecoveryPlan,
    records: StepRecord[],
    options: PlanOptions & { signal?: AbortSignal },
    emit: (event: RecoveryEvent) => void,
    lock: HeldPoolLock,
  ): Promise<RecoveryReport> {
    let plan = planned;
    let recheckedForHa = false;

    let outcome: RecoveryReport['outcome'] = 'succeeded';
    this.pendingMaster = undefined;
    this.haElected = undefined;
    for (const [index, step] of plan.steps.entries()) {
      if (options.signal?.aborted) {
        outcome = 'cancelled';
        break;
      }
      await lock.renew();
      emit({ kind: 'step-started', step, index, total: plan.steps.length });
      const calls: XeCallRecord[] = [];
      const detail: string[] = [];
      const stopListening = this.runner.onXeCall((call) => calls.push(call));
      const started = Date.now();
      const context: StepContext = {
        signal: options.signal,
        log: (line) => {
          detail.push(line);
          emit({ kind: 'output', step, line });
        },
        countdown: (what, secondsLeft) => emit({ kind: 'countdown', step, what, secondsLeft }),
        cancelRefused: (reason) => {
          detail.push(`cancel refused: ${reason}`);
          emit({ kind: 'cancel-refused', step, reason });
        },
      };
      try {
        // Right before a step that can make (or unblock) a master: the world may have changed since the plan.
        if (step.kind === 'transition-to-master' || step.kind === 'recover-slaves' || step.kind === 'reset-master' || (step.kind === 'disable-ha' && !recheckedForHa)) {
          recheckedForHa ||= step.kind === 'disable-ha';
          await this.recheck(step, plan, options, context);
        }
        // A cancel that came before the step's command was sent is a clean stop: nothing of this step ran.
        if (options.signal?.aborted) throw new RecoveryCancelledError();
        await this.runStep(step, plan, context);
        records[index] = { step, status: 'done', startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, calls, detail };
        emit({ kind: 'step-finished', record: records[index] });
        if (this.haElected) break; // HA did the recovery: the remaining steps are not needed
      } catch (error) {
        const cancelled = error instanceof RecoveryCancelledError || options.signal?.aborted === true;
        const refused = error instanceof RecheckRefusedError;
        const unknown = !refused && STATE_CHANGING_STEPS.has(step.kind) && !failureIsClean(error) && !(error instanceof RecoveryCancelledError);
        if (unknown) await this.settleUnknown(step, context);
        records[index] = { step, status: 'failed', startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, calls, detail, error: (error as Error).message };
        emit({ kind: 'step-failed', record: records[index] });
        outcome = refused ? 'refused' : unknown ? 'unknown' : cancelled ? 'cancelled' : 'failed';
        if (refused) plan = { ...plan, refusals: [...plan.refusals, ...error.refusals] };
        break;
      } finally {
        stopListening();
      }
    }
    const oldMasterStillMaster = await this.oldMasterStillRunsAsMaster(plan, records, options);
    return this.report(outcome, plan, records, oldMasterStillMaster);
  }

  /**
   * Probes every member again and re-evaluates the refusals with the plan's own choices. A forceable refusal
   * passes only if the admin overrode exactly it when confirming; a new one (or any non-forceable one) stops the
   * recovery before the step. Recover Slaves needs its host to be the one running master.
   */
  private async recheck(step: RecoveryStep, plan: RecoveryPlan, options: PlanOptions, context: StepContext): Promise<void> {
    const statuses = await Promise.all(this.inventory.members.map((member) => probeHost(this.runner, member, { commandTimeoutMs: this.timing.commandTimeoutMs, signal: context.signal })));
    if (context.signal?.aborted) throw new RecoveryCancelledError();
    const refusals: PlanRefusal[] = [];
    if (step.kind === 'reset-master') {
      const runs = (uuid: string) => statuses.some((s) => s.member.uuid === uuid && s.health.kind === 'probed' && s.health.facts.role?.role === 'master' && s.health.facts.xapi === 'running');
      if (!runs(step.master.uuid)) refusals.push({ reason: `${step.master.name}, the master to keep, does not run as master now: demoting ${step.host.name} could leave the pool with none`, forceable: false });
      if (!statuses.some((s) => s.member.uuid === step.host.uuid && s.health.kind === 'probed')) refusals.push({ reason: `${step.host.name} does not answer now`, forceable: false });
    } else if (step.kind === 'recover-slaves') {
      for (const s of statuses) {
        const facts = s.health.kind === 'probed' ? s.health.facts : undefined;
        const runsAsMaster = facts?.role?.role === 'master' && facts.xapi === 'running';
        if (s.member.uuid === step.host.uuid && !runsAsMaster) refusals.push({ reason: `${step.host.name} is not a running master now (pool-recover-slaves must run on the master)`, forceable: false });
        // A forced recovery went past "the old master may be alive": it being master is what the admin accepted.
        const acceptedOldMaster = options.force === true && s.member.uuid === plan.oldMaster?.uuid && plan.refusals.some((r) => r.forceable);
        if (s.member.uuid !== step.host.uuid && runsAsMaster && !acceptedOldMaster) refusals.push({ reason: `${s.member.name} also runs as master (split-brain): recover-slaves on ${step.host.name} would make it a slave and drop its database. Decide which master holds the newer state first (Demote Old Master)`, forceable: false });
      }
      if (options.pendingMaster && options.pendingMaster.uuid !== step.host.uuid) refusals.push({ reason: `${options.pendingMaster.name} may be becoming master (transition with an unknown outcome)`, forceable: false });
    } else {
      const fresh = planRecovery(this.inventory, judgePool(this.inventory, statuses), statuses, { candidateUuid: plan.candidate?.uuid, pendingMaster: options.pendingMaster });
      const accepted = new Set(options.force ? plan.refusals.filter((r) => r.forceable).map((r) => r.reason) : []);
      refusals.push(...fresh.refusals.filter((r) => !accepted.has(r.reason)));
    }
    if (refusals.length) throw new RecheckRefusedError(step, refusals);
    context.log(`re-checked every member before "${describeStep(step)}": nothing changed that stops it`);
  }

  /**
   * After an unclean end of a state-changing step: one look at the host, said in the report. A transition
   * with an unknown outcome keeps its host as the pending master whatever the look says: xapi restarts
   * into the new role after its fuse, seconds after it answered (or did not).
   */
  private async settleUnknown(step: RecoveryStep, context: StepContext): Promise<void> {
    if (step.kind === 'transition-to-master') this.pendingMaster = step.host;
    const status = await probeHost(this.runner, step.host, { commandTimeoutMs: this.timing.commandTimeoutMs });
    const facts = status.health.kind === 'probed' ? status.health.facts : undefined;
    const now = facts?.role ? (facts.role.role === 'slave' ? `slave of ${facts.role.masterAddress}` : facts.role.role) : 'not known';
    context.log(`outcome unknown: ${step.host.name} did not answer cleanly; its pool.conf says ${now} now (xapi ${facts?.xapi ?? status.health.kind})`);
  }

  /**
   * A forced recovery ran although the old master answered: if it still runs as master at the end, the pool
   * has two masters, and the report must say so rather than "succeeded".
   */
  private async oldMasterStillRunsAsMaster(plan: RecoveryPlan, records: readonly StepRecord[], options: PlanOptions): Promise<boolean> {
    if (!plan.oldMaster || !records.some((r) => r.step.kind === 'transition-to-master' && r.status !== 'not-run')) return false;
    if (!options.force && !plan.refusals.some((r) => r.forceable)) return false;
    const status = await probeHost(this.runner, plan.oldMaster, { commandTimeoutMs: this.timing.commandTimeoutMs });
    return status.health.kind === 'probed' && status.health.facts.role?.role === 'master' && status.health.facts.xapi === 'running';
  }

  private async runStep(step: RecoveryStep, plan: RecoveryPlan, context: StepContext): Promise<void> {
    const run = this.runner.xe(step.host.address, { timeoutMs: this.timing.commandTimeoutMs, signal: context.signal });
    switch (step.kind) {
      case 'wait-for-ha':
        return this.waitForHa(plan, context);
      case 'disable-ha':
        // HA_NOT_ENABLED: this host's HA is disarmed already (by an earlier run, or by the admin following the
        // XCP-ng HA guide), which is what this step is for.
        if ((await xeOperations.emergencyHaDisable(run)) === 'already-disabled') return context.log(`HA was already disabled on ${step.host.name}`);
        return context.log(`HA disabled on ${step.host.name}`);
      case 'restart-toolstack':
        await this.runner.restartToolstack(step.host.address, { timeoutMs: this.timing.commandTimeoutMs, signal: context.signal });
        context.log(`toolstack restarting on ${step.host.name}; waiting for it to come back in emergency mode`);
        await this.waitFor(step.host, this.timing.toolstackTimeoutMs, context, (f) => f.xapi === 'running' && f.emergency === true, 'to come back in emergency mode');
        return context.log(`${step.host.name} is in emergency mode`);
      case 'transition-to-master': {
        // Not cancellable: once xapi has the call it lights its fuse, and the host becomes master seconds later
        // whatever we do to the command. A cancel asked for now takes effect after it.
        const refuseCancel = () =>
          context.cancelRefused(`${step.host.name} has received pool-emergency-transition-to-master; it cannot be stopped, the recovery stops after this step`);
        context.signal?.addEventListener('abort', refuseCancel, { once: true });
        const uncancellable = this.runner.xe(step.host.address, { timeoutMs: this.timing.commandTimeoutMs });
        const notice = await xeOperations.emergencyTransitionToMaster(uncancellable).finally(() => context.signal?.removeEventListener('abort', refuseCancel));
        if (notice.kind !== 'transition-to-master') throw new Error(`${step.host.name} answered "${notice.kind}" instead of starting the transition`);
        return context.log(`Host agent will restart and transition to master in ${notice.delaySeconds} seconds`);
      }
      case 'wait-for-master':
        await this.waitFor(step.host, this.timing.masterReadyTimeoutMs, context, (f) => f.role?.role === 'master' && f.xapi === 'running', 'to run as master');
        {
          // During the fuse pool.conf says master while xapi still serves as the slave it was, and a forwarded
          // pool-list hangs: poll with a short bound rather than the command timeout.
          const poll = this.runner.xe(step.host.address, { timeoutMs: Math.min(this.timing.commandTimeoutMs, 10_000), signal: context.signal });
          await this.waitUntil(this.timing.masterReadyTimeoutMs, context, async () => (await xeOperations.masterUuid(poll)) === step.host.uuid, `${step.host.name} to report itself as master in pool-list`);
        }
        return context.log(`${step.host.name} is the master (pool.conf and pool-list agree)`);
      case 'recover-slaves':
        return this.recoverSlaves(this.recoverRunner(step.host, plan, context), context);
      case 'reset-master': {
        const notice = await xeOperations.emergencyResetMaster(run, step.master.address);
        const after = notice.kind === 'become-slave' ? ` in ${notice.delaySeconds} s` : '';
        return context.log(`${step.host.name} demoted: it restarts as slave of ${step.master.name}${after}`);
      }
      case 'verify-slaves':
        return this.verifySlaves(step.host, plan, run, context);
      case 'check-default-sr':
        return this.checkDefaultSr(step.host, plan, run, context);
    }
  }

  /**
   * Watches every survivor until one answers as master with xapi running (HA elected it) or the bound passes. An
   * election ends the recovery: nothing is done by hand. No election fails the step, so the admin is asked again
   * before the manual path (which disables HA on every survivor).
   */
  private async waitForHa(plan: RecoveryPlan, context: StepContext): Promise<void> {
    const survivors = plan.verified.filter((m) => m.uuid !== plan.oldMaster?.uuid);
    const deadline = Date.now() + this.timing.haElectionTimeoutMs;
    let lastTick = 0;
    while (Date.now() < deadline) {
      const statuses = await Promise.all(survivors.map((member) => probeHost(this.runner, member, { commandTimeoutMs: this.timing.commandTimeoutMs, signal: context.signal })));
      const elected = statuses.find((s) => s.health.kind === 'probed' && s.health.facts.role?.role === 'master' && s.health.facts.xapi === 'running');
      if (elected) {
        this.haElected = elected.member;
        return context.log(`HA elected ${elected.member.name} as the new master: nothing to do by hand`);
      }
      const secondsLeft = Math.ceil((deadline - Date.now()) / 1000);
      if (Date.now() - lastTick >= 1000) {
        lastTick = Date.now();
        context.countdown(`HA to elect a new master among ${survivors.map((m) => m.name).join(', ')}`, secondsLeft);
      }
      await this.sleep(this.timing.pollIntervalMs, context);
    }
    throw new Error(`HA did not elect a new master within ${Math.round(this.timing.haElectionTimeoutMs / 1000)} s (HA's own timeout, then the winner's start-up)`);
  }

  /**
   * pool-recover-slaves works host by host and spends a connect attempt on each member it cannot reach, so its time
   * bound grows with the members that did not answer us (30 s each: xapi's connect attempt, rounded up).
   */
  private recoverRunner(master: PoolMember, plan: RecoveryPlan, context: StepContext): XeRunner {
    const silent = this.inventory.members.filter((m) => !plan.verified.some((v) => v.uuid === m.uuid)).length;
    return this.runner.xe(master.address, { timeoutMs: this.timing.commandTimeoutMs + silent * RECOVER_COST_PER_SILENT_HOST_MS, signal: context.signal });
  }

  private async recoverSlaves(run: XeRunner, context: StepContext): Promise<void> {
    const uuids = await xeOperations.recoverSlaves(run);
    for (const uuid of uuids) this.recovered.add(uuid);
    const names = uuids.map((uuid) => this.inventory.members.find((m) => m.uuid === uuid)?.name ?? uuid);
    context.log(names.length ? `recovered: ${names.join(', ')}` : 'recover-slaves reset no host');
  }

  /**
   * Every member except the new master (and the dead one) should end up `slave:<new master>`,
   * with xapi running, out of emergency mode and live in the new master's host list. A recovered
   * slave restarts its xapi after the fuse, so this waits for that; slaves that still do not
   * follow get recover-slaves again.
   */
  private async verifySlaves(newMaster: PoolMember, plan: RecoveryPlan, run: XeRunner, context: StepContext): Promise<void> {
    let pending = this.inventory.members.filter((m) => m.uuid !== newMaster.uuid && m.uuid !== plan.oldMaster?.uuid);
    // A host we cannot reach over SSH cannot follow now either: report it at once instead of waiting for it.
    const unreachable: PoolMember[] = [];
    const follows = (facts: HostProbeFacts) => facts.role?.role === 'slave' && facts.role.masterAddress === newMaster.address && facts.xapi === 'running' && facts.emergency === false;
    for (let attempt = 0; ; attempt++) {
      const deadline = Date.now() + Math.max(this.timing.recoverRetryDelayMs, this.timing.masterReadyTimeoutMs / (this.timing.recoverRetries + 1));
      while (pending.length) {
        const results = await Promise.all(pending.map(async (member) => ({ member, status: await probeHost(this.runner, member, { commandTimeoutMs: this.timing.commandTimeoutMs, signal: context.signal }) })));
        // pool.conf alone says nothing: during its fuse a slave's pool.conf already names the new master while its
        // xapi still serves in the old role. It follows once the new master counts it live (restarted and joined).
        const live = await xeOperations.liveHostUuids(run).catch(() => new Set<string>());
        pending = [];
        for (const { member, status } of results) {
          if (status.health.kind === 'unreachable') {
            unreachable.push(member);
            context.log(`${member.name} is unreachable (${status.health.message}); it cannot follow until it is back`);
          } else if (status.health.kind === 'probed' && follows(status.health.facts) && live.has(member.uuid)) context.log(`${member.name} follows ${newMaster.name} (live in its host list)`);
          else pending.push(member);
        }
        if (!pending.length || Date.now() >= deadline) break;
        await this.sleep(this.timing.pollIntervalMs, context);
      }
      if (pending.length === 0 || attempt >= this.timing.recoverRetries) break;
      context.log(`not following yet: ${pending.map((m) => m.name).join(', ')}; running recover-slaves again`);
      await this.recoverSlaves(this.recoverRunner(newMaster, plan, context), context);
    }
    this.stragglers = [...pending, ...unreachable];
    if (this.stragglers.length) context.log(`still not following ${newMaster.name}: ${this.stragglers.map((m) => m.name).join(', ')}`);
  }

  private async checkDefaultSr(newMaster: PoolMember, plan: RecoveryPlan, run: XeRunner, context: StepContext): Promise<void> {
    const [uuid, srs, pbds] = [await xeOperations.defaultSr(run, this.inventory.poolUuid), await xeOperations.srs(run), await xeOperations.pbds(run)];
    const sr = srs.find((s) => s.uuid === uuid);
    const problems: string[] = [];
    const attachedOnMaster = (srUuid: string) => pbds.some((p) => p.srUuid === srUuid && p.hostUuid === newMaster.uuid && p.attached);
    if (uuid === null) problems.push('the pool has no default SR');
    else if (!sr) problems.push(`the default SR ${uuid} does not exist`);
    else {
      if (!sr.shared && plan.oldMaster && pbds.some((p) => p.srUuid === sr.uuid && p.hostUuid === plan.oldMaster?.uuid)) problems.push(`"${sr.name}" is local storage of the dead master ${plan.oldMaster.name}`);
      if (!attachedOnMaster(sr.uuid)) problems.push(`"${sr.name}" is not plugged on the new master ${newMaster.name}`);
    }
    const usable = srs.filter((s) => s.contentType === 'user' && attachedOnMaster(s.uuid));
    const proposal = problems.length ? (usable.find((s) => s.shared) ?? usable[0]) : undefined;
    this.defaultSr = { uuid, name: sr?.name, valid: problems.length === 0, problems, proposal };
    context.log(`default-SR: ${uuid ?? '<not in database>'}${sr ? ` (${sr.name})` : ''}: ${problems.length ? `NOT valid: ${problems.join('; ')}` : 'valid'}`);
    if (proposal) context.log(`proposed default SR: ${proposal.uuid} (${proposal.name}); set it with xe pool-param-set uuid=${this.inventory.poolUuid} default-SR=${proposal.uuid}`);
    if (plan.oldMaster) await this.listStaleVms(plan.oldMaster, run, context);
  }

  /** Best effort: what the admin must look at next, never a reason to call a finished recovery failed. */
  private async listStaleVms(oldMaster: PoolMember, run: XeRunner, context: StepContext): Promise<void> {
    try {
      this.staleVms = await xeOperations.runningVms(run, oldMaster.uuid);
      if (this.staleVms.length) context.log(`VMs still marked running on the dead master ${oldMaster.name}: ${this.staleVms.map((v) => v.name).join(', ')}`);
    } catch (error) {
      if (context.signal?.aborted) throw error;
      this.staleVmsUnread = (error as Error).message;
      context.log(`could not list the VMs still marked running on ${oldMaster.name}: ${this.staleVmsUnread}`);
    }
  }

  private async waitFor(host: PoolMember, timeoutMs: number, context: StepContext, ready: (facts: HostProbeFacts) => boolean, what: string): Promise<void> {
    await this.waitUntil(timeoutMs, context, async () => {
      const status = await probeHost(this.runner, host, { commandTimeoutMs: this.timing.commandTimeoutMs, signal: context.signal });
      return status.health.kind === 'probed' && ready(status.health.facts);
    }, `${host.name} ${what}`);
  }

  /** Polls instead of sleeping a fixed time: returns as soon as the condition holds, fails at the deadline. */
  private async waitUntil(timeoutMs: number, context: StepContext, condition: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (context.signal?.aborted) throw new RecoveryCancelledError();
      try {
        if (await condition()) return;
      } catch (error) {
        // xapi restarting refuses or drops calls for a while (D.6); only the deadline ends the wait.
        if (context.signal?.aborted) throw new RecoveryCancelledError();
        if (Date.now() >= deadline) throw error;
      }
      if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await this.sleep(this.timing.pollIntervalMs, context);
    }
  }

  private sleep(ms: number, context: StepContext): Promise<void> {
    return new Promise((resolve, reject) => {
      // The listener goes with the sleep: a recovery polls hundreds of times on one signal.
      const onAbort = () => {
        clearTimeout(timer);
        reject(new RecoveryCancelledError());
      };
      const timer = setTimeout(() => {
        context.signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      context.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private report(outcome: RecoveryReport['outcome'], plan: RecoveryPlan, steps: StepRecord[], oldMasterStillMaster = false): RecoveryReport {
    const transitioned = steps.some((s) => s.step.kind === 'transition-to-master' && s.status === 'done');
    const newMaster = this.haElected ?? (transitioned ? plan.candidate : undefined);
    const recoveredSlaves = this.inventory.members.filter((m) => this.recovered.has(m.uuid));
    return {
      outcome,
      plan,
      newMaster,
      ...(this.haElected ? { haElected: this.haElected } : {}),
      steps,
      recoveredSlaves,
      stragglers: this.stragglers,
      defaultSr: this.defaultSr,
      staleVms: this.staleVms,
      ...(this.staleVmsUnread ? { staleVmsUnread: this.staleVmsUnread } : {}),
      pendingMaster: this.pendingMaster,
      oldMasterStillMaster,
      nextSteps: nextSteps(outcome, plan, steps, { stragglers: this.stragglers, defaultSr: this.defaultSr, staleVms: this.staleVms, staleVmsUnread: this.staleVmsUnread, pendingMaster: this.pendingMaster, oldMasterStillMaster, haElected: this.haElected }),
    };
  }
}

export { describeOutcome, describeStep } from './report';
export type { DefaultSrCheck, RecoveryReport, StepRecord, StepStatus } from './report';
