import { strict as assert } from 'node:assert';
import { xeOperations, type XeRunner } from '../../../../src/core/xe/operations';
import { XeCommandError, XeParseError } from '../../../../src/core/xe/errors';
import { fixture } from '../../fixtures';
import { printRecord } from './recordPrinter';

const POOL = '3b8f7a3e-5c1d-4e2a-9f6b-1a2b3c4d5e6f';
const SR = '6c9e2f10-7d3a-2b4c-5e6f-a1b2c3d4e5f6';
const HOST = '0a1b2c3d-1111-4aaa-8bbb-000000000001';

/** A runner that answers one expected command line and records what was asked. */
function answering(expected: string, stdout: string, stderr = '', exitCode = 0): XeRunner & { asked: string[] } {
  const asked: string[] = [];
  const run = (async (command) => {
    asked.push(command.toShell());
    assert.equal(command.toShell(), expected);
    return { stdout, stderr, exitCode };
  }) as XeRunner & { asked: string[] };
  run.asked = asked;
  return run;
}

/** A runner that answers each of several command lines (each may be asked any number of times); anything else fails the test. */
function scripted(answers: Readonly<Record<string, string>>): XeRunner & { asked: string[] } {
  const asked: string[] = [];
  const run = (async (command) => {
    const line = command.toShell();
    asked.push(line);
    const stdout = answers[line];
    assert.ok(stdout !== undefined, `unexpected command: ${line}`);
    return { stdout, stderr: '', exitCode: 0 };
  }) as XeRunner & { asked: string[] };
  run.asked = asked;
  return run;
}

const uuidLine = (uuid: string) => ({ name: 'uuid', marker: '( RO)' as const, value: uuid });
const nameLine = (name: string) => ({ name: 'name-label', marker: '( RW)' as const, value: name });

describe('typed xe operations', () => {
  it('reads the emergency flag from host-is-in-emergency-mode', async () => {
    assert.equal(await xeOperations.isInEmergencyMode(answering('xe host-is-in-emergency-mode', 'true\n')), true);
    assert.equal(await xeOperations.isInEmergencyMode(answering('xe host-is-in-emergency-mode', 'false\n')), false);
  });

  it('turns a failed run into XeCommandError with the classified failure', async () => {
    const run = answering('xe host-is-in-emergency-mode', '', 'Error: Connection refused (calling connect )\n', 1);
    await assert.rejects(xeOperations.isInEmergencyMode(run), (error: unknown) => error instanceof XeCommandError && error.failure.code === 'XAPI_UNREACHABLE');
  });

  it('treats anything on stderr as a failure even with exit 0', async () => {
    const run = answering('xe host-is-in-emergency-mode', 'true\n', 'warning\n', 0);
    await assert.rejects(xeOperations.isInEmergencyMode(run), XeCommandError);
  });

  it('parses the transition notice and the already-master answer', async () => {
    const notice = await xeOperations.emergencyTransitionToMaster(
      answering('xe pool-emergency-transition-to-master', 'Host agent will restart and transition to master in 10. seconds...\n'),
    );
    assert.deepEqual(notice, { kind: 'transition-to-master', delaySeconds: 10 });
    const already = await xeOperations.emergencyTransitionToMaster(
      answering('xe pool-emergency-transition-to-master', "Host agent is already master. Use '--force' to execute the operation anyway.\n"),
    );
    assert.deepEqual(already, { kind: 'already-master' });
  });

  it('refuses HA_IS_ENABLED on a transition', async () => {
    const run = answering('xe pool-emergency-transition-to-master --force', '', 'The operation could not be performed because HA is enabled on the Pool\n', 1);
    await assert.rejects(xeOperations.emergencyTransitionToMaster(run, { force: true }), (error: unknown) => error instanceof XeCommandError && error.failure.code === 'HA_IS_ENABLED');
  });

  it('lists the recovered slaves, and an empty answer as none', async () => {
    const two = `${HOST}\n0a1b2c3d-2222-4aaa-8bbb-000000000002\n`;
    assert.deepEqual(await xeOperations.recoverSlaves(answering('xe pool-recover-slaves', two)), [HOST, '0a1b2c3d-2222-4aaa-8bbb-000000000002']);
    assert.deepEqual(await xeOperations.recoverSlaves(answering('xe pool-recover-slaves', '')), []);
  });

  it('reads the pool summary with master and default SR, and <not in database> as null', async () => {
    const print = (defaultSr: string) =>
      printRecord([uuidLine(POOL), { name: 'master', marker: '( RO)', value: HOST }, { name: 'default-SR', marker: '( RW)', value: defaultSr }]);
    const command = 'xe pool-list params=uuid,master,default-SR';
    const name = { [`xe pool-param-get uuid=${POOL} param-name=name-label`]: 'pool-prod\n' };
    assert.deepEqual(await xeOperations.pool(scripted({ [command]: print(SR), ...name })), { uuid: POOL, name: 'pool-prod', masterUuid: HOST, defaultSrUuid: SR });
    assert.equal((await xeOperations.pool(scripted({ [command]: print('<not in database>'), ...name }))).defaultSrUuid, null);
  });

  it('refuses a pool-list with no pool instead of inventing one', async () => {
    await assert.rejects(xeOperations.pool(answering('xe pool-list params=uuid,master,default-SR', '')), XeParseError);
  });

  const HOST2 = '0a1b2c3d-2222-4aaa-8bbb-000000000002';
  const hostAddresses = printRecord([uuidLine(HOST2), { name: 'address', marker: '( RO)', value: '192.168.10.12' }]) + printRecord([uuidLine(HOST), { name: 'address', marker: '( RO)', value: '192.168.10.11' }]);

  it('reads hosts with their addresses, the names apart', async () => {
    const names = printRecord([uuidLine(HOST2), nameLine('xcp-host2')]) + printRecord([uuidLine(HOST), nameLine('xcp-host1')]);
    const run = scripted({ 'xe host-list params=uuid,address': hostAddresses, 'xe host-list params=uuid,name-label': names });
    const hosts = await xeOperations.hosts(run);
    assert.deepEqual(hosts, [
      { uuid: HOST2, name: 'xcp-host2', address: '192.168.10.12' },
      { uuid: HOST, name: 'xcp-host1', address: '192.168.10.11' },
    ]);
    assert.equal(run.asked.length, 2);
  });

  it('reads a name with newlines whole through param-get when the list of names does not parse (issue 12, finding 7)', async () => {
    const renamed = 'rack 2\nxcp-host1';
    const names = printRecord([uuidLine(HOST2), nameLine('xcp-host2')]) + printRecord([uuidLine(HOST), nameLine(renamed)]);
    const run = scripted({
      'xe host-list params=uuid,address': hostAddresses,
      'xe host-list params=uuid,name-label': names,
      [`xe host-param-get uuid=${HOST2} param-name=name-label`]: 'xcp-host2\n',
      [`xe host-param-get uuid=${HOST} param-name=name-label`]: `${renamed}\n`,
    });
    assert.deepEqual((await xeOperations.hosts(run)).map((h) => h.name), ['xcp-host2', renamed]);
  });

  it('never takes a name from a record forged inside another name: a repeated UUID means every name is read by itself (issue 12, finding 7)', async () => {
    const forged = `web\n\n\n${printRecord([uuidLine(HOST2), nameLine('impostor')]).trimEnd()}`;
    const names = printRecord([uuidLine(HOST), nameLine(forged)]) + printRecord([uuidLine(HOST2), nameLine('xcp-host2')]);
    const run = scripted({
      'xe host-list params=uuid,address': hostAddresses,
      'xe host-list params=uuid,name-label': names,
      [`xe host-param-get uuid=${HOST2} param-name=name-label`]: 'xcp-host2\n',
      [`xe host-param-get uuid=${HOST} param-name=name-label`]: `${forged}\n`,
    });
    const hosts = await xeOperations.hosts(run);
    assert.deepEqual(hosts.map((h) => [h.name, h.address]), [['xcp-host2', '192.168.10.12'], [forged, '192.168.10.11']]);
  });

  it('a name can forge no field that matters: addresses and references come from a query without names', async () => {
    // An address forged after a name would have read as the host's own in a host-list that also printed names.
    const fakeAddress = printRecord([uuidLine(HOST), nameLine('web'), { name: 'address', marker: '( RO)', value: '10.66.66.66' }]).split('\n')[2] ?? '';
    const forged = `web\n${fakeAddress}\n\n\n${printRecord([uuidLine('0a1b2c3d-9999-4aaa-8bbb-000000000009'), nameLine('x')]).trimEnd()}`;
    const names = printRecord([uuidLine(HOST2), nameLine('xcp-host2')]) + printRecord([uuidLine(HOST), nameLine(forged)]);
    const run = scripted({ 'xe host-list params=uuid,address': hostAddresses, 'xe host-list params=uuid,name-label': names, [`xe host-param-get uuid=${HOST2} param-name=name-label`]: 'xcp-host2\n', [`xe host-param-get uuid=${HOST} param-name=name-label`]: `${forged}\n` });
    assert.deepEqual((await xeOperations.hosts(run)).map((h) => h.address), ['192.168.10.12', '192.168.10.11']);
  });

  it('says which field is missing when params= was not honoured', async () => {
    await assert.rejects(xeOperations.hosts(answering('xe host-list params=uuid,address', fixture('xe/host-list.txt'))), /address/);
  });

  it('reads pool parameters as a record and keeps the text for display', async () => {
    const text = fixture('xe/pool-param-list.txt');
    const { record, text: shown } = await xeOperations.poolParameters(answering(`xe pool-param-list uuid=${POOL}`, text), POOL);
    assert.equal(record.ref('default-SR'), SR);
    assert.equal(shown, text);
  });

  it('gets and sets the default SR', async () => {
    assert.equal(await xeOperations.defaultSr(answering(`xe pool-param-get uuid=${POOL} param-name=default-SR`, `${SR}\n`), POOL), SR);
    assert.equal(await xeOperations.defaultSr(answering(`xe pool-param-get uuid=${POOL} param-name=default-SR`, '<not in database>\n'), POOL), null);
    const set = answering(`xe pool-param-set uuid=${POOL} default-SR=${SR}`, '');
    await xeOperations.setDefaultSr(set, POOL, SR);
    assert.equal(set.asked.length, 1);
  });

  it('reads SRs and PBDs', async () => {
    const srs = printRecord([
      uuidLine(SR),
      { name: 'type', marker: '( RO)', value: 'nfs' },
      { name: 'content-type', marker: '( RO)', value: 'user' },
      { name: 'shared', marker: '( RW)', value: 'true' },
    ]);
    const srNames = printRecord([uuidLine(SR), nameLine('NFS storage')]);
    assert.deepEqual(await xeOperations.srs(scripted({ 'xe sr-list params=uuid,type,content-type,shared': srs, 'xe sr-list params=uuid,name-label': srNames })), [
      { uuid: SR, name: 'NFS storage', type: 'nfs', contentType: 'user', shared: true },
    ]);
    const pbds = printRecord([
      { name: 'uuid', marker: '( RO)', value: '11111111-2222-3333-4444-555555555555' },
      { name: 'host-uuid', marker: '( RO)', value: HOST },
      { name: 'sr-uuid', marker: '( RO)', value: SR },
      { name: 'currently-attached', marker: '( RO)', value: 'true' },
    ]);
    const found = await xeOperations.pbds(answering(`xe pbd-list params=uuid,host-uuid,sr-uuid,currently-attached sr-uuid=${SR}`, pbds), { srUuid: SR });
    assert.deepEqual(found, [{ uuid: '11111111-2222-3333-4444-555555555555', hostUuid: HOST, srUuid: SR, attached: true }]);
  });
});

describe('typed xe operations: VMs', () => {
  it('lists the VMs still marked running on a host, control domain excluded', async () => {
    const VM = '9a9a9a9a-0000-4000-8000-000000000001';
    const filters = `resident-on=${HOST} power-state=running is-control-domain=false`;
    const run = scripted({
      [`xe vm-list params=uuid,resident-on ${filters}`]: printRecord([uuidLine(VM), { name: 'resident-on', marker: '( RO)', value: HOST }]),
      [`xe vm-list params=uuid,name-label ${filters}`]: printRecord([uuidLine(VM), nameLine('web-01')]),
    });
    assert.deepEqual(await xeOperations.runningVms(run, HOST), [{ uuid: VM, residentOn: HOST, name: 'web-01' }]);
  });

  it('reads a VM name that forges another record by itself; a forged record with an invented UUID is ignored (issue 12, finding 7)', async () => {
    const VM = '9a9a9a9a-0000-4000-8000-000000000001';
    const invented = '9a9a9a9a-0000-4000-8000-0000000000ff';
    const forged = `db-prod\n\n\n${printRecord([uuidLine(invented), nameLine('x')]).trimEnd()}`;
    const filters = 'power-state=running is-control-domain=false';
    const run = scripted({
      [`xe vm-list params=uuid,resident-on ${filters}`]: printRecord([uuidLine(VM), { name: 'resident-on', marker: '( RO)', value: HOST }]),
      [`xe vm-list params=uuid,name-label ${filters}`]: printRecord([uuidLine(VM), nameLine(forged)]),
    });
    // The list parses and holds the one VM asked for once; its name reads as the part before the forgery,
    // a name its owner could have set anyway. The invented VM is nobody's.
    assert.deepEqual(await xeOperations.runningVms(run), [{ uuid: VM, residentOn: HOST, name: 'db-prod' }]);
  });
});
