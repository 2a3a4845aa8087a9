import { xeOperations, type SrSummary, type VmSummary, type XeRunner } from '../xe/operations';
import type { HostRunner, XeCallRecord } from './hostAccess';
import type { PoolInventory, PoolMember } from './model';
import { blockingRefusals, type PlanOptions, type RecoveryPlan, type RecoveryStep } from './plan';
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
}

export const DEFAULT_EXECUTOR_TIMING: ExecutorTiming = {
  masterReadyTimeoutMs: 180_000,
  toolstackTimeoutMs: 180_000,
  pollIntervalMs: 500,
  recoverRetries: 2,
  recoverRetryDelayMs: 30_000,
  commandTimeoutMs: 60_000,
};

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
  readonly outcome: 'succeeded' | 'failed' | 'cancelled' | 'refused';
  readonly plan: RecoveryPlan;
  readonly newMaster: PoolMember | undefined;
  readonly steps: readonly StepRecord[];
  readonly recoveredSlaves: readonly PoolMember[];
  readonly stragglers: readonly PoolMember[];
  readonly defaultSr: DefaultSrCheck | undefined;
  readonly staleVms: readonly VmSummary[];
  /** What the admin must still do, in order. */
  readonly nextSteps: readonly string[];
}

export type RecoveryEvent =
  | { readonly kind: 'step-started'; readonly step: RecoveryStep; readonly index: number; readonly total: number }
  | { readonly kind: 'output'; readonly step: RecoveryStep; readonly line: string }
  | { readonly kind: 'step-finished'; readonly record: StepRecord }
  | { readonly kind: 'step-failed'; readonly record: StepRecord };

export class RecoveryCancelledError extends Error {
  constructor() {
    super('recovery cancelled');
    this.name = 'RecoveryCancelledError';
  }
}

export function describeStep(step: RecoveryStep): string {
  const on = `on ${step.host.name} (${step.host.address})`;
  switch (step.kind) {
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
    case 'verify-slaves':
      return 'check that every reachable slave follows the new master';
    case 'check-default-sr':
      return `check the pool's default SR ${on}`;
  }
}

interface StepContext {
  readonly log: (line: string) => void;
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

  constructor(
    private readonly runner: HostRunner,
    private readonly inventory: PoolInventory,
    timing: Partial<ExecutorTiming> = {},
  ) {
    this.timing = { ...DEFAULT_EXECUTOR_TIMING, ...timing };
  }

  async run(plan: RecoveryPlan, options: PlanOptions & { signal?: AbortSignal; onEvent?: (event: RecoveryEvent) => void } = {}): Promise<RecoveryReport> {
    const emit = options.onEvent ?? (() => undefined);
    const records: StepRecord[] = plan.steps.map((step) => ({ step, status: 'not-run', calls: [], detail: [] }));
    if (blockingRefusals(plan, options).length) return this.report('refused', plan, records);

    let outcome: RecoveryReport['outcome'] = 'succeeded';
    for (const [index, step] of plan.steps.entries()) {
      if (options.signal?.aborted) {
        outcome = 'cancelled';
        break;
      }
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
      };
      try {
        await this.runStep(step, plan, context);
        records[index] = { step, status: 'done', startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, calls, detail };
        emit({ kind: 'step-finished', record: records[index] });
      } catch (error) {
        const cancelled = error instanceof RecoveryCancelledError || options.signal?.aborted === true;
        records[index] = { step, status: 'failed', startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, calls, detail, error: (error as Error).message };
        emit({ kind: 'step-failed', record: records[index] });
        outcome = cancelled ? 'cancelled' : 'failed';
        break;
      } finally {
        stopListening();
      }
    }
    return this.report(outcome, plan, records);
  }

  private async runStep(step: RecoveryStep, plan: RecoveryPlan, context: StepContext): Promise<void> {
    const run = this.runner.xe(step.host.address, { timeoutMs: this.timing.commandTimeoutMs, signal: context.signal });
    switch (step.kind) {
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
        const notice = await xeOperations.emergencyTransitionToMaster(run);
        if (notice.kind !== 'transition-to-master') throw new Error(`${step.host.name} answered "${notice.kind}" instead of starting the transition`);
        return context.log(`Host agent will restart and transition to master in ${notice.delaySeconds} seconds`);
      }
      case 'wait-for-master':
        await this.waitFor(step.host, this.timing.masterReadyTimeoutMs, context, (f) => f.role?.role === 'master' && f.xapi === 'running', 'to run as master');
        await this.waitUntil(this.timing.masterReadyTimeoutMs, context, async () => (await xeOperations.masterUuid(run)) === step.host.uuid, `${step.host.name} to report itself as master in pool-list`);
        return context.log(`${step.host.name} is the master (pool.conf and pool-list agree)`);
      case 'recover-slaves':
        return this.recoverSlaves(run, context);
      case 'verify-slaves':
        return this.verifySlaves(step.host, plan, run, context);
      case 'check-default-sr':
        return this.checkDefaultSr(step.host, plan, run, context);
    }
  }

  private async recoverSlaves(run: XeRunner, context: StepContext): Promise<void> {
    const uuids = await xeOperations.recoverSlaves(run);
    for (const uuid of uuids) this.recovered.add(uuid);
    const names = uuids.map((uuid) => this.inventory.members.find((m) => m.uuid === uuid)?.name ?? uuid);
    context.log(names.length ? `recovered: ${names.join(', ')}` : 'recover-slaves reset no host');
  }

  /**
   * Every member except the new master (and the dead one) should end up `slave:<new master>`,
   * with xapi running and out of emergency mode. A recovered slave restarts its xapi after the
   * fuse, so this waits for that; slaves that still do not follow get recover-slaves again.
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
        pending = [];
        for (const { member, status } of results) {
          if (status.health.kind === 'unreachable') {
            unreachable.push(member);
            context.log(`${member.name} is unreachable (${status.health.message}); it cannot follow until it is back`);
          } else if (status.health.kind === 'probed' && follows(status.health.facts)) context.log(`${member.name} follows ${newMaster.name}`);
          else pending.push(member);
        }
        if (!pending.length || Date.now() >= deadline) break;
        await this.sleep(this.timing.pollIntervalMs, context);
      }
      if (pending.length === 0 || attempt >= this.timing.recoverRetries) break;
      context.log(`not following yet: ${pending.map((m) => m.name).join(', ')}; running recover-slaves again`);
      await this.recoverSlaves(run, context);
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
    if (plan.oldMaster) {
      this.staleVms = await xeOperations.runningVms(run, plan.oldMaster.uuid);
      if (this.staleVms.length) context.log(`VMs still marked running on the dead master ${plan.oldMaster.name}: ${this.staleVms.map((v) => v.name).join(', ')}`);
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
      const timer = setTimeout(resolve, ms);
      context.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new RecoveryCancelledError());
      }, { once: true });
    });
  }

  private report(outcome: RecoveryReport['outcome'], plan: RecoveryPlan, steps: StepRecord[]): RecoveryReport {
    const transitioned = steps.some((s) => s.step.kind === 'transition-to-master' && s.status === 'done');
    const recoveredSlaves = this.inventory.members.filter((m) => this.recovered.has(m.uuid));
    return {
      outcome,
      plan,
      newMaster: transitioned ? plan.candidate : undefined,
      steps,
      recoveredSlaves,
      stragglers: this.stragglers,
      defaultSr: this.defaultSr,
      staleVms: this.staleVms,
      nextSteps: nextSteps(outcome, plan, steps, this.stragglers, this.defaultSr, this.staleVms),
    };
  }
}

function nextSteps(outcome: RecoveryReport['outcome'], plan: RecoveryPlan, steps: readonly StepRecord[], stragglers: readonly PoolMember[], defaultSr: DefaultSrCheck | undefined, staleVms: readonly VmSummary[]): string[] {
  const result: string[] = [];
  const done = (kind: RecoveryStep['kind']) => steps.some((s) => s.step.kind === kind && s.status === 'done');
  if (outcome === 'refused') result.push(...blockingRefusals(plan).map((r) => `Resolve first: ${r.reason}.`));
  if (done('transition-to-master') && !done('recover-slaves') && plan.candidate) {
    result.push(`${plan.candidate.name} was told to become master, but the slaves were not recovered yet: once it answers as master, run "Recover Slaves" on it.`);
  }
  if (stragglers.length) result.push(`Run "Recover Slaves" again once these hosts are reachable: ${stragglers.map((m) => m.name).join(', ')}.`);
  if (defaultSr?.proposal) result.push(`Set the default SR to "${defaultSr.proposal.name}" (${defaultSr.proposal.uuid}): xe pool-param-set uuid=${plan.poolUuid} default-SR=${defaultSr.proposal.uuid}.`);
  else if (defaultSr && !defaultSr.valid) result.push(`Fix the default SR: ${defaultSr.problems.join('; ')}.`);
  if (staleVms.length && plan.oldMaster) {
    result.push(
      `${staleVms.length} VM(s) are still marked Running on the dead master ${plan.oldMaster.name} (${staleVms.map((v) => v.name).join(', ')}). ` +
        'Only when that host is certainly powered off, reset each with xe vm-reset-powerstate uuid=<vm> --force, then start it elsewhere. This is never done automatically.',
    );
  }
  if (plan.oldMaster && done('transition-to-master')) {
    result.push(`Keep ${plan.oldMaster.name} off the network until it is reinstalled or demoted (xe pool-emergency-reset-master master-address=${plan.candidate?.address ?? '<new master>'}): if it comes back unable to reach the new master it starts as a second master.`);
  }
  return result;
}
