/*
 * The fault matrix (issue 11): one named row per scenario, each on its own lab pool, with the invariants of
 * README "Safety" checked after every act (test/lab/matrix/scenario.ts). Rows that reproduce a finding of issue 11
 * name it; each of those failed on the code before its fix.
 */
import type { RecoveryEvent } from '../../src/core/pool/executor';
import { LOCK_ROOT } from '../../src/core/pool/poolLock';
import { xe } from '../../src/core/xe/command';
import type { Lab } from './lab';
import { address, waitUntilSettled } from './engine/harness';
import { runScenario, type Scenario, type Scene } from './matrix/scenario';

type MasterFault = 'poweroff' | 'blackhole' | 'xapi-down';
const names = (lab: Lab) => lab.state().hosts.map((h) => h.name);

/** The roles after a clean recovery by `master` with `dead` left as it was (still pointing nowhere new). */
function recoveredRoles(master: number, dead: readonly number[], deadRole = 'master') {
  return (scene: Scene) =>
    names(scene.lab).map((name, i) => {
      const host = i + 1;
      if (dead.includes(host)) return `${name}=${host === 1 ? deadRole : `slave:${address(scene.lab, 1)}`}`;
      return `${name}=${host === master ? 'master' : `slave:${address(scene.lab, master)}`}`;
    });
}

const unchanged = 'unchanged' as const;

/** The old master powered on again after a recovery, optionally cut off from every other member first. */
function oldMasterReturns(cutOff: boolean) {
  return async ({ lab }: Scene) => {
    if (cutOff) for (const other of ['2', '3', '4']) await lab.fault('partition', 1, other);
    await lab.fault('poweron', 1);
    await waitUntilSettled(lab);
  };
}

/** Cancel as soon as the lab has taken the call: the host's pool.conf already says master. */
function cancelWhenReceived(host: number) {
  return (scene: Scene, event: RecoveryEvent, cancel: AbortController) => {
    if (event.kind !== 'step-started' || event.step.kind !== 'transition-to-master') return;
    const onChange = () => {
      if (scene.lab.state().hosts[host - 1]?.role !== 'master') return;
      scene.lab.sim.off('change', onChange);
      cancel.abort();
    };
    scene.lab.sim.on('change', onChange);
  };
}

/**
 * A fault on a host right before the step's own call goes out: when the executor has re-checked the pool for it
 * (its last word before the call). Garbage and slow-xapi take effect at once (the lab runs in this process).
 */
function faultAtCall(command: 'pool-emergency-transition-to-master' | 'pool-recover-slaves', fault: 'garbage' | 'slow-xapi', host: number) {
  return async (scene: Scene, event: RecoveryEvent) => {
    if (event.kind === 'output' && event.line.startsWith(`re-checked every member before "xe ${command}`)) await scene.lab.fault(fault, host, fault === 'slow-xapi' ? '60000' : undefined);
  };
}

function cancelAtStep(kind: string) {
  return (_scene: Scene, event: RecoveryEvent, cancel: AbortController) => {
    if (event.kind === 'step-started' && event.step.kind === kind) cancel.abort();
  };
}

/** Another client's lock on one host, as that client would have written it. */
async function plantLock(scene: Scene, host: number, holder: { owner: string; expiresAt: number }): Promise<void> {
  const json = JSON.stringify({ owner: holder.owner, operation: 'Guided Recovery', since: new Date().toISOString(), expiresAt: holder.expiresAt, token: 'f00' });
  const dir = `${LOCK_ROOT}/lock-${scene.inventory.poolUuid}`;
  const result = await scene.engine.runner.shell(address(scene.lab, host), `mkdir -p ${dir} && printf '%s' '${json}' > ${dir}/holder`);
  if (result.exitCode !== 0) throw new Error(`could not plant the lock: ${result.stderr}`);
}

const rows: Scenario[] = [];

// --- the master lost in each way, each emergency model, pool sizes 2, 4, 16 -------------------------------------
for (const fault of ['poweroff', 'blackhole'] as MasterFault[]) {
  for (const model of ['code', 'docs'] as const) {
    for (const hosts of [2, 4]) {
      rows.push({
        name: `master ${fault}, ${model} model, ${hosts} hosts: recovered by xcp-host2, every survivor follows it`,
        lab: { hosts, model },
        arrange: async ({ lab }) => lab.fault(fault, 1),
        options: () => ({ notInEmergency: 'restart-toolstack' }),
        expect: { outcome: 'succeeded', roles: recoveredRoles(2, [1]) },
      });
    }
  }
}
for (const model of ['code', 'docs'] as const) {
  rows.push({
    name: `master powered off, ${model} model, 16 hosts: recovered, all 14 others follow`,
    lab: { hosts: 16, model },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: (scene) => ({ candidateUuid: scene.uuid(2), notInEmergency: 'transition-directly' }),
    expect: { outcome: 'succeeded', roles: recoveredRoles(2, [1]) },
  });
}
for (const model of ['code', 'docs'] as const) {
  for (const hosts of [2, 4]) {
    rows.push({
      name: `only xapi down on the master (443 open), ${model} model, ${hosts} hosts: refused, restart its toolstack`,
      lab: { hosts, model },
      arrange: async ({ lab }) => lab.fault('xapi-down', 1),
      expect: { outcome: 'refused', refusal: /answers us over SSH but its xapi is down: restart its toolstack there/, roles: unchanged },
    });
  }
}

// --- members missing or returning ---------------------------------------------------------------------------
rows.push(
  {
    name: 'a slave unreachable during recover: recovered without it, it is named as a straggler',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => {
      await lab.fault('poweroff', 1);
      await lab.fault('poweroff', 4);
    },
    expect: { outcome: 'succeeded', said: /Recover Slaves" again once these hosts are reachable: xcp-host4/, roles: recoveredRoles(2, [1, 4]) },
  },
  {
    name: 'a partition between two slaves: recovered (the new master reaches both)',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => {
      await lab.fault('poweroff', 1);
      await lab.fault('partition', 3, '4');
    },
    expect: { outcome: 'succeeded', roles: recoveredRoles(2, [1]) },
  },
  {
    name: 'finding 1: a straggler returns pointing at the dead master, cut off from the new one: a second recovery is refused',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => {
      await lab.fault('poweroff', 3);
      await lab.fault('poweroff', 1);
    },
    options: (scene) => ({ candidateUuid: scene.uuid(2), notInEmergency: 'transition-directly' }),
    expect: { outcome: 'succeeded' },
    then: {
      arrange: async ({ lab }) => {
        await lab.fault('partition', 3, '2');
        await lab.fault('poweron', 3);
        await waitUntilSettled(lab);
      },
      options: (scene) => ({ candidateUuid: scene.uuid(3), force: true }),
      expect: { verdict: 'recovered', outcome: 'refused', refusal: /xcp-host2 already runs as master .*Run Recover Slaves on xcp-host2/ },
    },
  },
  {
    name: 'the old master returns reachable after the recovery: it demotes itself; a second recovery is refused (healthy)',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: () => ({ notInEmergency: 'transition-directly' }),
    expect: { outcome: 'succeeded' },
    then: {
      arrange: oldMasterReturns(false),
      options: () => ({}),
      expect: { outcome: 'refused', refusal: /the pool is healthy/ },
    },
  },
  {
    name: 'the old master returns after the recovery, cut off from the others: split-brain, every further recovery refused',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: () => ({ notInEmergency: 'transition-directly' }),
    expect: { outcome: 'succeeded' },
    then: {
      arrange: oldMasterReturns(true),
      options: (scene) => ({ candidateUuid: scene.uuid(3), force: true }),
      expect: { verdict: 'split-brain', outcome: 'refused', refusal: /two hosts claim to be master \(split-brain\)/ },
    },
  },
  {
    name: 'the old master returns cut off from the others (split-brain): Demote Old Master keeps the one the slaves follow and resets the old one',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: (scene) => ({ candidateUuid: scene.uuid(2), notInEmergency: 'transition-directly' }),
    expect: { outcome: 'succeeded' },
    then: {
      planner: 'demotion',
      arrange: oldMasterReturns(true),
      options: () => ({}),
      // xcp-host1 cannot reach xcp-host2 (partition): demoted, it waits as its slave, no longer a master.
      expect: { verdict: 'split-brain', outcome: 'succeeded', said: /xcp-host1 was demoted to a slave of xcp-host2: once it reaches xcp-host2 it joins by itself/, roles: recoveredRoles(2, []) },
    },
  },
  {
    name: 'master powered off, code model, one slave\'s toolstack restarted (emergency) and one not: recovered by the emergency one',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab, engine }) => {
      await lab.fault('poweroff', 1);
      await engine.runner.restartToolstack(address(lab, 3));
      await waitUntilSettled(lab);
    },
    expect: { verdict: 'emergency', outcome: 'succeeded', roles: recoveredRoles(3, [1]) },
  },
  {
    name: 'finding 2: the old master returns while the confirmation is open (reachable from us, cut off from the others): the re-check refuses',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: () => ({ notInEmergency: 'transition-directly' }),
    between: async ({ lab }) => {
      for (const other of ['2', '3', '4']) await lab.fault('partition', 1, other);
      await lab.fault('poweron', 1);
      const deadline = Date.now() + 5_000;
      while (lab.state().hosts[0]?.xapi !== 'running' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    },
    expect: { outcome: 'refused', refusal: /the master may not be dead: the master xcp-host1 still answers us/, roles: unchanged },
  },
  {
    name: 'finding 2: a plan older than 60 s is refused and changes nothing',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    between: async (_scene, plan) => ({ ...plan, createdAt: plan.createdAt - 61_000 }),
    expect: { outcome: 'refused', refusal: /the plan was made 6\d s ago/, roles: unchanged },
  },
  {
    name: 'the candidate fails after the plan (powered off while the dialog is open): the re-check refuses, nothing runs',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: (scene) => ({ candidateUuid: scene.uuid(2), notInEmergency: 'transition-directly' }),
    between: async ({ lab }) => lab.fault('poweroff', 2),
    // Refused at the pool lock (the candidate does not answer there) or, had it answered the lock, at the re-check.
    expect: { outcome: 'refused', refusal: /could not take the pool lock on xcp-host2: .*(connection refused|was lost)|the chosen host is not a reachable survivor/, roles: unchanged },
  },
  {
    name: 'finding 5: forced recovery while the old master answers us (cut off from the slaves): completed, but it says the old master is STILL a running master',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => {
      for (const other of ['2', '3', '4']) await lab.fault('partition', 1, other);
    },
    options: () => ({ force: true, notInEmergency: 'transition-directly' }),
    expect: { outcome: 'succeeded', twoMastersByForce: true, said: /^completed — xcp-host1 is STILL a running master \(two masters\)[^]*demote it first/ },
  },
);

// --- HA (issue 11, finding 6) ------------------------------------------------------------------------------------
for (const [fault, model, hosts] of [['poweroff', 'code', 4], ['poweroff', 'docs', 4], ['poweroff', 'code', 2], ['blackhole', 'code', 4]] as const) {
  rows.push({
    name: `finding 6: HA on, master ${fault}, ${model} model, ${hosts} hosts: waits for HA's own election, nothing done by hand`,
    lab: { hosts, model, ha: true },
    arrange: async ({ lab }) => lab.fault(fault, 1),
    expect: { verdict: 'ha', outcome: 'succeeded', said: /HA elected xcp-host2 as the new master by itself/, noStateChanges: true, roles: recoveredRoles(2, [1]) },
  });
}
rows.push({
  name: 'HA on, no election within its timeout: the wait ends, nothing changed; recovered by hand afterwards (HA disabled on each survivor first)',
  lab: { hosts: 4, model: 'code', ha: true, durations: { haTimeout: 3600 } },
  arrange: async ({ lab }) => lab.fault('poweroff', 1),
  expect: { verdict: 'ha', outcome: 'failed', said: /HA elected no new master in time: recover by hand/, roles: unchanged },
  then: {
    options: (scene) => ({ candidateUuid: scene.uuid(2), haElectionWaited: true, notInEmergency: 'transition-directly' }),
    expect: { outcome: 'succeeded', roles: recoveredRoles(2, [1]) },
  },
});

// --- two clients on one pool (issue 11, finding 4) -------------------------------------------------------------
rows.push(
  {
    name: 'finding 4: two windows recover the same pool at once with the same candidate: one acts, the other is refused with its name',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: (scene) => ({ candidateUuid: scene.uuid(2), notInEmergency: 'transition-directly' }),
    rival: (scene) => ({ candidateUuid: scene.uuid(2), notInEmergency: 'transition-directly' }),
    expect: { outcome: 'succeeded', roles: recoveredRoles(2, [1]) },
  },
  {
    name: 'finding 4: two windows recover the same pool at once with different candidates: one master, the other refused',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: (scene) => ({ candidateUuid: scene.uuid(2), notInEmergency: 'transition-directly' }),
    rival: (scene) => ({ candidateUuid: scene.uuid(3), notInEmergency: 'transition-directly' }),
    expect: { outcome: 'succeeded' },
  },
  {
    name: 'a lock left by a client that crashed (expired) is refused as stale and named; nothing changed',
    lab: { hosts: 4, model: 'code' },
    arrange: async (scene) => {
      await scene.lab.fault('poweroff', 1);
      await plantLock(scene, 3, { owner: 'admin-c (crashed)', expiresAt: 1 });
    },
    expect: { outcome: 'refused', refusal: /has a stale lock from admin-c \(crashed\)[^|]* on xcp-host3[^|]*break it only when that work has certainly stopped/, roles: unchanged },
  },
  {
    name: 'a lock held by a live client elsewhere is refused with its name and operation; nothing changed',
    lab: { hosts: 4, model: 'code' },
    arrange: async (scene) => {
      await scene.lab.fault('poweroff', 1);
      await plantLock(scene, 4, { owner: 'admin-d (window 7)', expiresAt: Math.floor(Date.now() / 1000) + 600 });
    },
    expect: { outcome: 'refused', refusal: /is being worked on by admin-d \(window 7\): "Guided Recovery"/, roles: unchanged },
  },
);

// --- cancel, timeout and a lost reply at each step ----------------------------------------------------------------
rows.push(
  {
    name: 'finding 7: a dozen xe calls timed out on a survivor before the recovery: none left running there, its sessions free, the recovery uses it',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab, engine }) => {
      await lab.fault('poweroff', 1);
      // forwarded to the dead master: each hangs until its time bound (sshd alone would keep all twelve)
      for (let i = 0; i < 12; i++) await engine.runner.xe(address(lab, 2), { timeoutMs: 200 })(xe.poolList()).catch(() => undefined);
    },
    options: (scene) => ({ candidateUuid: scene.uuid(2), notInEmergency: 'transition-directly' }),
    expect: { outcome: 'succeeded', roles: recoveredRoles(2, [1]) },
  },
  {
    name: 'cancel as the toolstack restart starts: cancelled, nothing changed',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: () => ({ notInEmergency: 'restart-toolstack' }),
    during: cancelAtStep('restart-toolstack'),
    expect: { outcome: 'cancelled', roles: unchanged },
  },
  {
    name: 'finding 3: cancel once the host has received the transition: refused until the step ends, then cancelled with Recover Slaves next',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: (scene) => ({ candidateUuid: scene.uuid(2), notInEmergency: 'transition-directly' }),
    during: cancelWhenReceived(2),
    expect: {
      outcome: 'cancelled',
      detail: /cancel refused: xcp-host2 has received pool-emergency-transition-to-master; it cannot be stopped/,
      said: /was told to become master[^]*run "Recover Slaves" on it/,
    },
  },
  {
    name: 'cancel while waiting for the new master: cancelled, the new master runs, Recover Slaves next',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: () => ({ notInEmergency: 'transition-directly' }),
    during: cancelAtStep('wait-for-master'),
    expect: { outcome: 'cancelled', said: /Recover Slaves/ },
  },
  {
    name: 'cancel while verifying the slaves: cancelled after recover-slaves ran',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: () => ({ notInEmergency: 'transition-directly' }),
    during: cancelAtStep('verify-slaves'),
    expect: { outcome: 'cancelled', roles: recoveredRoles(2, [1]) },
  },
  {
    name: 'finding 3: the transition\'s reply is unreadable (garbage): outcome unknown, the host is the pending master, another candidate is refused',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: (scene) => ({ candidateUuid: scene.uuid(2), notInEmergency: 'transition-directly' }),
    during: faultAtCall('pool-emergency-transition-to-master', 'garbage', 2),
    expect: { outcome: 'unknown', said: /^outcome unknown: xcp-host2 may be becoming master — do not promote another host/ },
    then: {
      options: (scene, first) => ({ candidateUuid: scene.uuid(3), force: true, pendingMaster: first.pendingMaster }),
      expect: { outcome: 'refused', refusal: /xcp-host2 (may be becoming master|already runs as master)/ },
    },
  },
  {
    name: 'finding 3: the transition times out (no reply within the command timeout): outcome unknown, pending master',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: (scene) => ({ candidateUuid: scene.uuid(2), notInEmergency: 'transition-directly' }),
    during: faultAtCall('pool-emergency-transition-to-master', 'slow-xapi', 2),
    expect: { outcome: 'unknown', said: /^outcome unknown: xcp-host2 may be becoming master/ },
  },
  {
    name: 'recover-slaves\' reply is unreadable: outcome unknown, check before going on',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: () => ({ notInEmergency: 'transition-directly' }),
    during: faultAtCall('pool-recover-slaves', 'garbage', 2),
    expect: { outcome: 'unknown', said: /did not end cleanly; refresh the pool and check xcp-host2/ },
  },
  {
    name: 'a re-run after a run cancelled past the transition: refused, Recover Slaves on the new master instead',
    lab: { hosts: 4, model: 'code' },
    arrange: async ({ lab }) => lab.fault('poweroff', 1),
    options: (scene) => ({ candidateUuid: scene.uuid(2), notInEmergency: 'transition-directly' }),
    during: cancelAtStep('wait-for-master'),
    expect: { outcome: 'cancelled' },
    then: { options: (scene) => ({ candidateUuid: scene.uuid(3) }), expect: { outcome: 'refused', refusal: /xcp-host2 already runs as master/ } },
  },
);

describe('fault matrix: recovery under faults, with the safety invariants after every act', function () {
  this.timeout(120_000);
  for (const [index, row] of rows.entries()) it(row.name, () => runScenario(row, index + 1));
});
