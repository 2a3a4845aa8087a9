import { strict as assert } from 'node:assert';
import { parseUserXeCommand } from '../../../../src/core/xe/userCommand';
import { displayArguments, outputIsSecret } from '../../../../src/core/xe/secretMask';

const CANARY = 'Canary-7f3a';

describe('secret values in what the product shows of a command (issue 12, finding 1)', () => {
  const secretForms = [
    'xe pbd-create host-uuid=0a1b2c3d-0001-4aaa-8bbb-000000000001 device-config:chappassword=Canary-7f3a',
    'xe secret-create value=Canary-7f3a',
    'xe host-call-plugin host-uuid=0a1b2c3d-0001-4aaa-8bbb-000000000001 plugin=p fn=f args:key=Canary-7f3a',
    'xe pool-param-set uuid=0a1b2c3d-0001-4aaa-8bbb-000000000001 other-config:api_token=Canary-7f3a',
    'xe sr-create type=cifs device-config:password=Canary-7f3a',
    'xe sr-create type=iscsi device-config:incoming_chappass=Canary-7f3a',
    'xe pool-enable-external-auth config:pass=Canary-7f3a',
    'xe pool-param-set uuid=0a1b2c3d-0001-4aaa-8bbb-000000000001 wlb-password=Canary-7f3a',
    // A key the product does not know is masked too: masked by default, shown only when known to be safe.
    'xe vendor-thing credential-blob=Canary-7f3a',
  ];
  for (const line of secretForms) {
    it(`masks the value in: ${line.replace(CANARY, '…')}`, () => {
      const command = parseUserXeCommand(line);
      assert.ok(!command.display.includes(CANARY), command.display);
      assert.ok(command.toShell().includes(CANARY), 'the command that runs keeps the value');
    });
  }

  it('shows the values an admin needs to read the log: UUIDs, names, parameters, switches', () => {
    const line = 'xe vm-param-get uuid=0a1b2c3d-0001-4aaa-8bbb-000000000001 param-name=power-state --minimal';
    assert.equal(parseUserXeCommand(line).display, line);
    assert.equal(parseUserXeCommand('xe pool-emergency-reset-master master-address=10.0.0.1').display, 'xe pool-emergency-reset-master master-address=10.0.0.1');
    assert.equal(parseUserXeCommand('xe vm-start vm=web01 on=xcp-host2').display, 'xe vm-start vm=web01 on=xcp-host2');
  });

  it('masks by key, whatever the value looks like', () => {
    assert.deepEqual(displayArguments('secret-create', ['secret-create', 'value=0a1b2c3d-0001-4aaa-8bbb-000000000001']), ['secret-create', 'value=***']);
    assert.deepEqual(displayArguments('vm-param-set', ['vm-param-set', 'value=x']), ['vm-param-set', 'value=***']);
  });
});

describe('secret output', () => {
  it('keeps the output of secret-* commands out of what is logged', () => {
    assert.equal(outputIsSecret('secret-param-get'), true);
    assert.equal(outputIsSecret('sr-param-get'), false);
  });
});
