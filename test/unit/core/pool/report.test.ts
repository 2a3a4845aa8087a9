import { strict as assert } from 'node:assert';
import type { RecoveryPlan } from '../../../../src/core/pool/plan';
import { nextSteps, type StepRecord } from '../../../../src/core/pool/report';

const host = (n: number) => ({ uuid: `0a1b2c3d-000${n}-4aaa-8bbb-00000000000${n}`, name: `xcp-host${n}`, address: `10.0.0.${n}` });
const transition = { kind: 'transition-to-master', host: host(2) } as const;
const plan = { poolUuid: 'p', poolName: 'pool', candidate: host(2), oldMaster: host(1), refusals: [], steps: [transition] } as unknown as RecoveryPlan;
const done: StepRecord[] = [{ step: transition, status: 'done', calls: [], detail: [] }];
const found = { defaultSr: undefined, staleVms: [], pendingMaster: undefined, oldMasterStillMaster: false };

describe('next steps after a recovery (issue 13, part 7)', () => {
  it('never advises to wait for the dead old master to become reachable: it is to stay off the network', () => {
    const steps = nextSteps('succeeded', plan, done, { ...found, stragglers: [host(1)] });
    assert.ok(!steps.some((s) => /Recover Slaves" again once .*xcp-host1/.test(s)), steps.join('\n'));
    assert.ok(steps.some((s) => /Keep xcp-host1 off the network/.test(s)));
  });

  it('still names a slave that missed the recovery', () => {
    const steps = nextSteps('succeeded', plan, done, { ...found, stragglers: [host(1), host(3)] });
    assert.ok(steps.some((s) => s === 'Run "Recover Slaves" again once these hosts are reachable: xcp-host3.'), steps.join('\n'));
  });
});
