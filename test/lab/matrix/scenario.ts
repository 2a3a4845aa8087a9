/*
 * The fault matrix's machinery: a scenario is a lab pool, faults before the plan, the product's plan and run
 * (with faults between the plan and the run, or at a step), and what must come out. After every scenario the
 * invariants of README "Safety" are checked against the lab's own state, not against what the product says.
 */
import { strict as assert } from 'node:assert';
import { discoverPool } from '../../../src/core/pool/discovery';
import { RecoveryExecutor, describeOutcome, type ExecutorTiming, type RecoveryEvent, type RecoveryReport } from '../../../src/core/pool/executor';
import type { XeCallRecord } from '../../../src/core/pool/hostAccess';
import type { HostStatus, PoolInventory, PoolVerdict } from '../../../src/core/pool/model';
import { answeringMembers, planDemotion, planRecovery, type PlanOptions, type RecoveryPlan } from '../../../src/core/pool/plan';
import { probeMembers } from '../../../src/core/pool/prober';
import { judgePool } from '../../../src/core/pool/verdict';
import type { Lab, LabOptions } from '../lab';
import { address, engineFor, waitUntilSettled, withLabEngine, type Engine } from '../engine/harness';

export const MATRIX_SCALE = 0.02; // fuse 10 s → 0.2 s; docs model's 60 s → 1.2 s
export const MATRIX_TIMING: Partial<ExecutorTiming> = {
  masterReadyTimeoutMs: 10_000,
  toolstackTimeoutMs: 10_000,
  pollIntervalMs: 100,
  recoverRetries: 1,
  recoverRetryDelayMs: 300,
  commandTimeoutMs: 3_000,
  // HA's timeout (60 s) and the winner's start-up (5 s), scaled, with room for a loaded machine.
  haElectionTimeoutMs: 4_000,
};

export interface Scene {
  readonly lab: Lab;
  readonly engine: Engine;
  readonly inventory: PoolInventory;
  /** A host's UUID by its lab index. */
  uuid(host: number): string;
}

export type RunOptions = PlanOptions & { signal?: AbortSignal; onEvent?: (event: RecoveryEvent) => void };

export interface Expectation {
  readonly verdict?: PoolVerdict['kind'];
  readonly outcome: RecoveryReport['outcome'];
  /** Matched against every refusal of the report's plan (joined). */
  readonly refusal?: RegExp;
  /** Matched against the outcome line and the next steps (joined). */
  readonly said?: RegExp;
  /** Matched against every step's detail lines (joined), e.g. a refused cancel. */
  readonly detail?: RegExp;
  /** The final pool.conf of every host, as `name=role`, after the lab settled; 'unchanged': as before the act. */
  readonly roles?: ((scene: Scene) => readonly string[]) | 'unchanged';
  /** Nothing of ours changed any host (e.g. HA recovered the pool by itself). */
  readonly noStateChanges?: boolean;
  /** A forced recovery may leave two masters: the admin overrode that refusal; the report must say it. */
  readonly twoMastersByForce?: boolean;
}

export interface Scenario {
  readonly name: string;
  readonly lab: Omit<LabOptions, 'name' | 'baseAddress'>;
  /** Faults before the probe and the plan. */
  readonly arrange?: (scene: Scene) => Promise<void>;
  readonly options?: (scene: Scene) => RunOptions;
  /** Between the plan and the run: what happens while the confirmation dialog is open. */
  readonly between?: (scene: Scene, plan: RecoveryPlan) => Promise<RecoveryPlan | void>;
  /** Events of the run (e.g. a fault at a step); may abort through the controller. */
  readonly during?: (scene: Scene, event: RecoveryEvent, cancel: AbortController) => void | Promise<void>;
  /**
   * A second client (its own engine, own SSH connections, own lock owner) runs its plan from the same probe at the
   * same moment: exactly one of the two may act, the other is refused naming the first.
   */
  readonly rival?: (scene: Scene) => RunOptions;
  /** A second act after the first report (e.g. the natural retry), with its own expectation. */
  /** What the act plans: a recovery (default) or the demotion of a second master (Demote Old Master). */
  readonly planner?: 'recovery' | 'demotion';
  readonly then?: {
    readonly planner?: 'recovery' | 'demotion';
    readonly arrange?: (scene: Scene) => Promise<void>;
    readonly options: (scene: Scene, first: RecoveryReport) => RunOptions;
    readonly expect: Expectation;
  };
  readonly expect: Expectation;
}

interface Snapshot {
  readonly roles: Map<string, string>;
  readonly runningMasters: Set<string>;
}

function snapshot(lab: Lab): Snapshot {
  const hosts = lab.state().hosts;
  return {
    roles: new Map(hosts.map((h) => [h.uuid, h.role])),
    // A black-holed master is cut off from every host and from us: nothing can tell it from a dead one, which is why
    // the plan's next steps say to keep the old master off the network. It is not counted as a running master here.
    runningMasters: new Set(hosts.filter((h) => h.faults.power === 'on' && !h.faults.blackhole && h.role === 'master').map((h) => h.uuid)),
  };
}

export function roleList(lab: Lab): string[] {
  return lab.state().hosts.map((h) => `${h.name}=${h.role}`);
}

async function assess(scene: Scene): Promise<{ statuses: HostStatus[]; verdict: PoolVerdict }> {
  const statuses = await probeMembers(scene.engine.runner, scene.inventory.members, undefined, { commandTimeoutMs: 3_000 });
  return { statuses, verdict: judgePool(scene.inventory, statuses) };
}

/** One act: probe, plan, the between-fault, run; the invariants that hold for every act. */
async function act(scene: Scene, scenario: Scenario, options: RunOptions, expect: Expectation): Promise<RecoveryReport> {
  const { lab, engine, inventory } = scene;
  const { statuses, verdict } = await assess(scene);
  if (expect.verdict) assert.equal(verdict.kind, expect.verdict, verdict.evidence.join('\n'));
  let plan = scenario.planner === 'demotion' ? planDemotion(inventory, verdict, statuses) : planRecovery(inventory, verdict, statuses, options);
  plan = (await scenario.between?.(scene, plan)) ?? plan;
  const before = snapshot(lab);
  const rolesBefore = roleList(lab);
  const calls: XeCallRecord[] = [];
  const stopListening = engine.runner.onXeCall((call) => calls.push(call));
  const cancel = new AbortController();
  const linked = options.signal;
  linked?.addEventListener('abort', () => cancel.abort(), { once: true });
  const rivalEngine = scenario.rival ? engineFor(lab) : undefined;
  const rivalCalls: XeCallRecord[] = [];
  const stopRival = rivalEngine?.runner.onXeCall((call) => rivalCalls.push(call));
  let report: RecoveryReport;
  try {
    const ours = new RecoveryExecutor(engine.runner, inventory, MATRIX_TIMING).run(plan, {
      lockOwner: 'admin-a (window 1)',
      ...options,
      signal: cancel.signal,
      onEvent: (event) => {
        options.onEvent?.(event);
        void scenario.during?.(scene, event, cancel);
      },
    });
    const theirs =
      rivalEngine && scenario.rival
        ? new RecoveryExecutor(rivalEngine.runner, inventory, MATRIX_TIMING).run(planRecovery(inventory, verdict, statuses, scenario.rival(scene)), { lockOwner: 'admin-b (window 2)', ...scenario.rival(scene) })
        : undefined;
    const [first, second] = await Promise.all([ours, theirs]);
    report = first;
    if (second) {
      // One of the two acted; the other was refused by the lock and names who holds it.
      const refused = [first, second].filter((r) => r.lockConflict);
      assert.equal(refused.length, 1, `expected exactly one client refused by the lock: ${first.outcome} / ${second.outcome}`);
      const loser = refused[0] as RecoveryReport;
      assert.equal(loser.outcome, 'refused');
      assert.match(loser.plan.refusals.map((r) => r.reason).join(' | '), /is being worked on by admin-[ab] \(window [12]\)/);
      assert.ok((loser === first ? calls : rivalCalls).every((c) => !c.changesState), 'the refused client changed something');
      report = loser === first ? second : first;
      calls.push(...rivalCalls);
    }
  } finally {
    stopListening();
    stopRival?.();
    rivalEngine?.dispose();
  }
  await waitUntilSettled(lab, 15_000);
  const after = snapshot(lab);
  const said = [describeOutcome(report), ...report.nextSteps].join('\n');
  const context = `${scenario.name}\noutcome: ${report.outcome}\n${said}\nrefusals: ${report.plan.refusals.map((r) => r.reason).join(' | ')}\nsteps: ${JSON.stringify(report.steps.map((s) => [s.step.kind, s.step.host.name, s.status, s.error]))}\n${lab.statusTable()}`;

  assert.equal(report.outcome, expect.outcome, context);
  if (expect.refusal) assert.match(report.plan.refusals.map((r) => r.reason).join(' | '), expect.refusal, context);
  if (expect.said) assert.match(said, expect.said, context);
  if (expect.detail) assert.match(report.steps.flatMap((s) => s.detail).join('\n'), expect.detail, context);
  if (expect.roles) assert.deepEqual(roleList(lab), expect.roles === 'unchanged' ? rolesBefore : expect.roles(scene), context);
  if (expect.noStateChanges) assert.deepEqual(calls.filter((c) => c.changesState).map((c) => `${c.command} on ${c.host}`), [], context);

  // Invariant 1: never two running masters because of an action we took (unless the admin forced past it, and
  // then the report says so).
  const madeMasters = [...after.runningMasters].filter((uuid) => !before.runningMasters.has(uuid));
  if (after.runningMasters.size > 1 && madeMasters.length > 0) {
    assert.ok(expect.twoMastersByForce, `two masters after our action:\n${context}`);
    assert.match(said, /STILL a running master \(two masters\)/, context);
  }
  // Invariant 2: no state-changing call on a host we could not verify (it answered the probe the plan was made
  // from, or it is the host the plan promoted and we waited for).
  const verified = new Set(answeringMembers(statuses).map((m) => m.address));
  for (const call of calls.filter((c) => c.changesState)) assert.ok(verified.has(call.host), `${call.command} on ${call.host}, which did not answer the probe\n${context}`);
  // Invariant 3: no remote process of ours left after its timeout.
  const deadline = Date.now() + (MATRIX_TIMING.commandTimeoutMs ?? 3_000) + 3_000;
  while (lab.xeClientPids().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(lab.xeClientPids(), [], `xe processes left on the hosts\n${context}`);
  // Invariant 4: every state change is in the audit trail: a host whose pool.conf changed had a state-changing
  // call on it, or recover-slaves ran on its (new) master, or xapi changed it by itself (HA's election, check_no_other_masters).
  const audited = report.steps.flatMap((s) => s.calls).filter((c) => c.changesState);
  for (const call of calls.filter((c) => c.changesState)) assert.ok(audited.includes(call), `${call.command} on ${call.host} is not in the report\n${context}`);
  for (const [uuid, role] of after.roles) {
    if (before.roles.get(uuid) === role) continue;
    const member = inventory.members.find((m) => m.uuid === uuid);
    const explained =
      audited.some((c) => c.host === member?.address) ||
      audited.some((c) => / pool-recover-slaves/.test(` ${c.command}`)) ||
      (role.startsWith('slave:') && before.roles.get(uuid) === 'master') || // xapi demoted itself (check_no_other_masters)
      report.haElected !== undefined; // HA's own election, which the report names
    assert.ok(explained, `${member?.name}: ${before.roles.get(uuid)} → ${role} with no call of ours that explains it\n${context}`);
  }
  // Invariant 5: the report's outcome matches the lab's final state.
  if (report.outcome === 'refused') assert.deepEqual([...after.roles], [...before.roles], `refused, yet roles changed\n${context}`);
  if (report.outcome === 'succeeded' && report.newMaster) assert.equal(after.roles.get(report.newMaster.uuid), 'master', context);
  if (report.oldMasterStillMaster && report.plan.oldMaster) assert.equal(after.roles.get(report.plan.oldMaster.uuid), 'master', context);
  if (report.plan.oldMaster && after.runningMasters.has(report.plan.oldMaster.uuid) && report.newMaster && after.runningMasters.has(report.newMaster.uuid)) {
    assert.ok(report.oldMasterStillMaster, `the old and the new master both run, and the report does not say so\n${context}`);
  }
  return report;
}

export async function runScenario(scenario: Scenario, index: number): Promise<void> {
  await withLabEngine({ hosts: 4, timeScale: MATRIX_SCALE, vmsPerHost: 1, ...scenario.lab, name: `matrix${index}`, baseAddress: 'auto' }, async (lab, engine) => {
    const inventory = await discoverPool(engine.runner, address(lab, 2));
    const uuid = (host: number) => {
      const found = inventory.members.find((m) => m.address === address(lab, host));
      if (!found) throw new Error(`no member at host ${host}`);
      return found.uuid;
    };
    const scene: Scene = { lab, engine, inventory, uuid };
    await scenario.arrange?.(scene);
    const first = await act(scene, scenario, scenario.options?.(scene) ?? {}, scenario.expect);
    await scenario.then?.arrange?.(scene);
    if (scenario.then) await act(scene, { ...scenario, between: undefined, during: undefined, rival: undefined, planner: scenario.then.planner }, scenario.then.options(scene, first), scenario.then.expect);
  });
}
