import { strict as assert } from 'node:assert';
import { parseUserXeCommand, splitUserCommand } from '../../../../src/core/xe/userCommand';
import { UnsafeXeValueError } from '../../../../src/core/xe/validate';

describe('Run xe Command: parsing what the admin types', () => {
  it('accepts plain xe commands with or without the leading "xe", quoting values that need it', () => {
    const command = parseUserXeCommand(`xe vm-list power-state=running params=uuid,name-label name-label="web 01"`);
    assert.deepEqual(command.args, ['vm-list', 'power-state=running', 'params=uuid,name-label', 'name-label=web 01']);
    assert.equal(command.toShell(), `xe vm-list power-state=running params=uuid,name-label 'name-label=web 01'`);
    assert.equal(command.changesState, false);
    assert.equal(parseUserXeCommand('host-list --minimal').toShell(), 'xe host-list --minimal');
  });

  it('knows the commands the product knows, and treats unknown ones as state-changing unless they only read', () => {
    assert.equal(parseUserXeCommand('pool-emergency-transition-to-master').forwarding, 'local');
    assert.equal(parseUserXeCommand('vm-start uuid=x').changesState, true);
    assert.equal(parseUserXeCommand('vm-param-get uuid=x param-name=power-state').changesState, false);
  });

  for (const hostile of ['host-list; rm -rf /', 'host-list $(id)', 'host-list `id`', 'host-list | sh', 'host-list > /etc/passwd', 'host-list && reboot', "host-list name-label='x", 'host-list\nreboot']) {
    it(`refuses shell syntax: ${JSON.stringify(hostile)}`, () => {
      assert.throws(() => parseUserXeCommand(hostile), UnsafeXeValueError);
    });
  }

  it('refuses connection switches and stray words', () => {
    assert.throws(() => parseUserXeCommand('host-list -s 10.0.0.1 -u root -pw secret'), /connection switches/);
    assert.throws(() => parseUserXeCommand('host-list stray'), /neither key=value nor a --switch/);
    assert.throws(() => parseUserXeCommand(''), /not an xe subcommand/);
  });

  it('refuses xe\'s connection parameters written as key=value, which xe reads as where and as whom to connect (issue 12, finding 8)', () => {
    for (const argument of ['server=10.0.0.9', 'port=8443', 'username=root', 'password=x', 'passwordfile=/tmp/pw', 'nossl=true', 'debug=true', 'debugonfail=true']) {
      assert.throws(() => parseUserXeCommand(`xe host-list ${argument}`), /xe's connection parameter: the command runs on the chosen host itself/, argument);
    }
    // Parameters that merely contain those words are the command's own.
    assert.doesNotThrow(() => parseUserXeCommand('xe pool-join master-address=10.0.0.1 master-username=root master-password=x'));
  });

  it('masks secret values in what is logged, but sends them unchanged', () => {
    const command = parseUserXeCommand('pool-enable-external-auth auth-type=AD service-name=corp.example config:pass=Sup3r config:user=admin');
    assert.ok(command.toShell().includes('config:pass=Sup3r'));
    assert.ok(!command.display.includes('Sup3r'), command.display);
    assert.match(command.display, /config:pass=\*\*\*/);
  });

  it('splits words and quotes like a shell, nothing more', () => {
    assert.deepEqual(splitUserCommand(`a b="c d" 'e'"f"`), ['a', 'b=c d', 'ef']);
  });
});
