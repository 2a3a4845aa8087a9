import { strict as assert } from 'node:assert';
import { incidentFileName, incidentMarkdown, type IncidentInput } from '../../../../src/core/pool/incident';
import type { RecoveryPlan } from '../../../../src/core/pool/plan';
import type { RecoveryReport } from '../../../../src/core/pool/report';

const host = (n: number) => ({ uuid: `0a1b2c3d-000${n}-4aaa-8bbb-00000000000${n}`, name: `xcp-host${n}`, address: `10.0.0.${n}` });
const plan = {
  createdAt: 0,
  poolUuid: 'p-uuid',
  poolName: 'pool-lab',
  verdict: 'master-unreachable',
  candidate: host(2),
  candidateReasons: ['runs the most VMs'],
  oldMaster: host(1),
  verified: [host(2), host(3)],
  leftOut: [],
  refusals: [],
  notes: [],
  steps: [{ kind: 'transition-to-master', host: host(2) }],
} as unknown as RecoveryPlan;
const call = { host: '10.0.0.2', command: 'xe pool-emergency-transition-to-master', changesState: true, startedAt: '2026-12-03T17:00:01.250Z', durationMs: 1200, exitCode: 0, stdout: 'Host agent will restart and transition to master in 10. seconds...\n', stderr: '' };
const recovery = {
  outcome: 'succeeded',
  plan,
  newMaster: host(2),
  steps: [{ step: plan.steps[0], status: 'done', startedAt: call.startedAt, durationMs: 1300, calls: [call], detail: [] }],
  recoveredSlaves: [host(3)],
  stragglers: [],
  defaultSr: { uuid: 'sr-1', name: 'NFS storage', valid: true, problems: [], proposal: undefined },
  staleVms: [],
  pendingMaster: undefined,
  oldMasterStillMaster: false,
  nextSteps: ['Keep xcp-host1 off the network until it is reinstalled.'],
} as unknown as RecoveryReport;

const input = (over: Partial<IncidentInput> = {}): IncidentInput => ({
  poolName: 'pool-lab',
  poolUuid: 'p-uuid',
  title: 'Guided Recovery of pool-lab',
  generatedAt: new Date('2026-12-03T17:05:00Z'),
  author: 'root@admin-box (VS Code, window 1234abcd)',
  recovery,
  trail: [
    { time: '2026-12-03T17:04:00Z', pool: 'pool-lab', host: 'xcp-host1', command: '(confirmation) xcp-host1 (uuid) is powered off or fenced: reset the power state of vm1-1', exitCode: null, durationMs: 0, result: 'confirmed by root@admin-box', kind: 'confirmation' },
    { time: '2026-12-03T17:04:02Z', pool: 'pool-lab', host: '10.0.0.2', command: 'xe vm-reset-powerstate uuid=9f8e --force', exitCode: 0, durationMs: 300, result: 'ok' },
  ],
  hostLines: ['xcp-host1 (10.0.0.1): former master, unreachable', 'xcp-host2 (10.0.0.2): master, online'],
  nextSteps: ['Start vm1-1 on a surviving host.'],
  ...over,
});

describe('incident report (issue 13, part 4)', () => {
  it('has the outcome, the plan and why, every xe call with host, time, exit code and output, the default SR, who confirmed what, and next steps as checkboxes', () => {
    const text = incidentMarkdown(input());
    assert.match(text, /^# Guided Recovery of pool-lab\n/);
    assert.match(text, /\*\*Outcome:\*\* succeeded; new master xcp-host2 \(10\.0\.0\.2\)/);
    assert.match(text, /## The plan, and why\n\n```text\nPool pool-lab: master-unreachable\.\nNew master: xcp-host2 \(10\.0\.0\.2\), because runs the most VMs\./);
    assert.match(text, /- \*\*2026-12-03 17:00:01 UTC\*\* on 10\.0\.0\.2: `xe pool-emergency-transition-to-master` — exit 0, 1\.2 s \(changes state\)\n\n  ```text\n  Host agent will restart and transition to master in 10\. seconds\.\.\.\n  ```/);
    assert.match(text, /default-SR `sr-1` \(NFS storage\): valid\./);
    assert.match(text, /## Who confirmed what\n\n- \*\*2026-12-03 17:04:00 UTC\*\* xcp-host1: xcp-host1 \(uuid\) is powered off or fenced: reset the power state of vm1-1 — confirmed by root@admin-box/);
    assert.match(text, /## Timeline from the audit trail\n\n.*\n- \*\*2026-12-03 17:04:02 UTC\*\* on 10\.0\.0\.2: `xe vm-reset-powerstate uuid=9f8e --force` — exit 0, 0\.3 s/);
    assert.match(text, /## Next steps\n\n- \[ \] Start vm1-1 on a surviving host\./);
  });

  it('cannot be forged by names or output: no heading, link or HTML from a host, a fence no output can close', () => {
    const evil = 'x\n# Owned\n[click](http://evil.example)<img src=x>';
    const text = incidentMarkdown(input({ hostLines: [evil], recovery: { ...recovery, steps: [{ ...recovery.steps[0], calls: [{ ...call, stdout: 'before\n```\n# not a heading\n' }] }] } as RecoveryReport }));
    assert.ok(!/^# Owned/m.test(text), 'a name made a heading');
    assert.ok(!text.includes('[click]('), 'a name made a link');
    assert.ok(!/(^|[^\\])<img/m.test(text), 'a name made HTML');
    assert.match(text, /  ````text\n  before\n  ```\n  # not a heading\n  ````/);
  });

  it('an export without a recovery still has the timeline, the pool now and the next steps; file names are safe', () => {
    const text = incidentMarkdown(input({ recovery: undefined, title: 'Incident report: pool-lab', trail: [] }));
    assert.ok(!text.includes('## Steps'));
    assert.match(text, /No state-changing call was made on this pool in this period\./);
    assert.match(text, /## The pool now\n\n- xcp-host1 \(10\.0\.0\.1\): former master, unreachable/);
    assert.equal(incidentFileName('pool lab/../x', new Date('2026-12-03T17:05:00.123Z'), 'recovery'), 'pool-lab-..-x-20261203T170500Z-recovery.md');
  });
});
