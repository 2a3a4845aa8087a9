import { strict as assert } from 'node:assert';
import type { HostStatus, PoolVerdict } from '../../../src/core/pool/model';
import { hostChangeLine, MasterLossNotices, poolHealth, summarize } from '../../../src/health/poolHealth';

const healthy: PoolVerdict = { kind: 'healthy', masterUuid: 'm', evidence: [] };
const lost: PoolVerdict = { kind: 'master-unreachable', masterAddress: '10.0.0.1', evidence: [] };
const emergency: PoolVerdict = { kind: 'emergency', masterAddress: '10.0.0.1', model: 'docs', evidence: [] };
const recovered: PoolVerdict = { kind: 'recovered', masterUuid: 'n', stragglerUuids: ['m'], evidence: [] };
const pool = (name: string, verdict: PoolVerdict | undefined) => ({ uuid: `uuid-${name}`, name, verdict });

describe('live health at a glance (issue 13, part 1)', () => {
  it('names each verdict healthy, degraded or masterless', () => {
    assert.equal(poolHealth(undefined), 'probing');
    assert.equal(poolHealth(healthy), 'healthy');
    assert.equal(poolHealth(recovered), 'degraded');
    assert.equal(poolHealth({ kind: 'split-brain', masterUuids: ['a', 'b'], evidence: [] }), 'degraded');
    for (const verdict of [lost, emergency, { kind: 'ha', masterAddress: undefined, evidence: [] } as PoolVerdict]) assert.equal(poolHealth(verdict), 'masterless');
  });

  it('says in the status bar how many pools need a look, masterless ones first and as an error', () => {
    assert.deepEqual(summarize([pool('a', healthy), pool('b', healthy)]), { text: '$(server) XenServer: all 2 pools healthy', tooltip: 'Every pool is healthy.', severity: undefined, notHealthy: 0 });
    const one = summarize([pool('a', healthy), pool('b', recovered), pool('c', healthy)]);
    assert.equal(one.text, '$(warning) XenServer: 1 of 3 pools degraded');
    assert.equal(one.severity, 'warning');
    const bad = summarize([pool('a', lost), pool('b', recovered), pool('c', healthy)]);
    assert.equal(bad.text, '$(error) XenServer: 1 of 3 pools without a master');
    assert.equal(bad.severity, 'error');
    assert.equal(bad.notHealthy, 2);
    assert.equal(bad.tooltip, 'a: master-unreachable\nb: recovered');
    assert.equal(summarize([]).text, '$(server) XenServer: no pools');
    assert.equal(summarize([pool('a', undefined)]).text, '$(sync~spin) XenServer: 1 pool');
  });

  it('counts the VMs that need attention: in the tooltip and in the text when no pool lacks a master (issue 13, part 2)', () => {
    const down: PoolVerdict = { kind: 'hosts-down', masterUuid: 'n', downUuids: ['m'], formerMasterUuid: 'm', evidence: [] };
    const after = summarize([{ ...pool('a', down), strandedVms: 3 }, pool('b', healthy)]);
    assert.equal(after.text, '$(warning) XenServer: 1 of 2 pools degraded, 3 VMs need attention');
    assert.equal(after.tooltip, 'a: hosts-down, 3 VMs need attention');
    assert.equal(summarize([{ ...pool('a', down), strandedVms: 1 }]).tooltip, 'a: hosts-down, 1 VM needs attention');
    assert.equal(summarize([{ ...pool('a', down), strandedVms: 0 }]).tooltip, 'a: hosts-down');
  });

  it('shows a hostile pool name as text in the tooltip', () => {
    assert.equal(summarize([pool('evil\u202Eeman\nsecond line', lost)]).tooltip, 'evil<U+202E>eman second line: master-unreachable');
  });

  it('announces each loss of a master once, again only after a master ran in between', () => {
    const notices = new MasterLossNotices();
    assert.equal(notices.observe(pool('a', healthy)), undefined);
    assert.equal(notices.observe(pool('a', lost)), 'a has no running master: its master does not answer.');
    assert.equal(notices.observe(pool('a', lost)), undefined);
    assert.equal(notices.observe(pool('a', emergency)), undefined, 'still the same loss');
    assert.equal(notices.observe(pool('a', undefined)), undefined, 'a probe in progress changes nothing');
    assert.equal(notices.observe(pool('a', recovered)), undefined);
    assert.match(notices.observe(pool('a', emergency)) ?? '', /in emergency mode/);
    assert.match(notices.observe(pool('b', lost)) ?? '', /^b has no running master/, 'pools are apart');
  });

  it('logs a line only when a host\'s role or state changes, with the reason for an unreachable one', () => {
    const member = { uuid: 'h1', name: 'xcp-host1', address: '10.0.0.1' };
    const facts = { role: { role: 'master' as const }, xapi: 'running' as const, emergency: false, masterPortOpen: undefined };
    const online: HostStatus = { member, health: { kind: 'probed', facts } };
    const gone: HostStatus = { member, health: { kind: 'unreachable', failure: 'refused', message: 'connection refused' } };
    assert.equal(hostChangeLine(undefined, online), 'xcp-host1: master, online');
    assert.equal(hostChangeLine(online, online), undefined);
    assert.equal(hostChangeLine(online, gone), 'xcp-host1: master, online → unreachable (connection refused)');
    assert.equal(hostChangeLine(gone, { ...gone, health: { kind: 'unreachable', failure: 'timeout', message: 'timed out' } }), undefined);
    assert.equal(hostChangeLine(online, { member, health: { kind: 'probing' } }), undefined);
    assert.equal(hostChangeLine(online, { member, health: { kind: 'probed', facts: { ...facts, role: { role: 'slave', masterAddress: '10.0.0.2' } } } }), 'xcp-host1: master, online → slave, online');
  });
});
