import { strict as assert } from 'node:assert';
import { knownHostsLines, sshTerminalArgs } from '../../../../src/core/ssh/terminalArgs';

describe('Open SSH Terminal: the extension\'s keys, key file and port (issue 13, part 7)', () => {
  it('trusts only the extension\'s known_hosts files, refuses unknown keys, never writes ~/.ssh/known_hosts', () => {
    const args = sshTerminalArgs({ user: 'root', address: '10.0.0.2', port: 2222, keyFile: '/keys/pool key', knownHostsFiles: ['/store dir/terminal_known_hosts', '/etc/xen/known_hosts'] });
    assert.deepEqual(args, [
      '-o',
      'UserKnownHostsFile="/store dir/terminal_known_hosts" "/etc/xen/known_hosts"',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'UpdateHostKeys=no',
      '-p',
      '2222',
      '-i',
      '/keys/pool key',
      '-o',
      'IdentitiesOnly=yes',
      '--',
      'root@10.0.0.2',
    ]);
    assert.deepEqual(sshTerminalArgs({ user: 'root', address: 'fd00::2', port: 22, keyFile: undefined, knownHostsFiles: ['/k'] }).slice(-2), ['--', 'root@fd00::2']);
  });

  it('writes pinned keys as known_hosts lines, with [host]:port for another port', () => {
    const key = { type: 'ssh-ed25519', blob: Buffer.from('key-bytes') };
    assert.equal(knownHostsLines({ host: '10.0.0.2', port: 22 }, [key]), `10.0.0.2 ssh-ed25519 ${key.blob.toString('base64')}\n`);
    assert.equal(knownHostsLines({ host: '10.0.0.2', port: 2222 }, [key]), `[10.0.0.2]:2222 ssh-ed25519 ${key.blob.toString('base64')}\n`);
  });
});
