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
      printRecord([
        { name: 'uuid', marker: '( RO)', value: POOL },
        { name: 'name-label', marker: '( RW)', value: 'pool-prod' },
        { name: 'master', marker: '( RO)', value: HOST },
        { name: 'default-SR', marker: '( RW)', value: defaultSr },
      ]);
    const command = 'xe pool-list params=uuid,name-label,master,default-SR';
    assert.deepEqual(await xeOperations.pool(answering(command, print(SR))), { uuid: POOL, name: 'pool-prod', masterUuid: HOST, defaultSrUuid: SR });
    assert.equal((await xeOperations.pool(answering(command, print('<not in database>')))).defaultSrUuid, null);
  });

  it('refuses a pool-list with no pool instead of inventing one', async () => {
    await assert.rejects(xeOperations.pool(answering('xe pool-list params=uuid,name-label,master,default-SR', '')), XeParseError);
  });

  it('reads hosts with their addresses', async () => {
    const hosts = await xeOperations.hosts(answering('xe host-list params=uuid,name-label,address', fixture('xe/host-list-params.txt')));
    assert.deepEqual(hosts[0], { uuid: '0a1b2c3d-2222-4aaa-8bbb-000000000002', name: 'xcp-host2', address: '192.168.10.12' });
    assert.equal(hosts.length, 2);
  });

  it('says which field is missing when params= was not honoured', async () => {
    await assert.rejects(xeOperations.hosts(answering('xe host-list params=uuid,name-label,address', fixture('xe/host-list.txt'))), /address/);
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
      { name: 'uuid', marker: '( RO)', value: SR },
      { name: 'name-label', marker: '( RW)', value: 'NFS storage' },
      { name: 'type', marker: '( RO)', value: 'nfs' },
      { name: 'content-type', marker: '( RO)', value: 'user' },
      { name: 'shared', marker: '( RW)', value: 'true' },
    ]);
    assert.deepEqual(await xeOperations.srs(answering('xe sr-list params=uuid,name-label,type,content-type,shared', srs)), [
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
    const vms = printRecord([
      { name: 'uuid', marker: '( RO)', value: '9a9a9a9a-0000-4000-8000-000000000001' },
      { name: 'name-label', marker: '( RW)', value: 'web-01' },
      { name: 'resident-on', marker: '( RO)', value: HOST },
    ]);
    const run = answering(`xe vm-list params=uuid,name-label,resident-on resident-on=${HOST} power-state=running is-control-domain=false`, vms);
    assert.deepEqual(await xeOperations.runningVms(run, HOST), [{ uuid: '9a9a9a9a-0000-4000-8000-000000000001', name: 'web-01', residentOn: HOST }]);
  });
});
