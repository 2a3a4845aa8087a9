import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseProbeOutput, ProbeOutputError, PROBE_SCRIPT, type ProbeOutput } from '../../../../src/core/pool/probe';

/** What the probe prints on a host in the given state: its sections on stdout, xe's errors on stderr, xe's exit status. */
function output(parts: { poolConf?: string | null; inventory?: string; stdout?: string; stderr?: string; exit?: number; port?: 'open' | 'closed' }): ProbeOutput {
  const stdout = [
    ...(parts.poolConf === null ? ['@@pool.conf-missing'] : ['@@pool.conf', parts.poolConf ?? 'master']),
    '@@inventory',
    parts.inventory ?? "INSTALLATION_UUID='0a1b2c3d-1111-4aaa-8bbb-000000000001'\nPRODUCT_VERSION='8.3.0'",
    ...(parts.port ? [`@@master-port ${parts.port}`] : []),
    '@@emergency.stdout',
    parts.stdout ?? 'false',
    '',
  ].join('\n');
  return { stdout, stderr: ['@@emergency.stderr', ...(parts.stderr ? [parts.stderr] : []), ''].join('\n'), exitCode: parts.exit ?? 0 };
}

describe('health probe output', () => {
  it('reads a healthy master', () => {
    const facts = parseProbeOutput(output({}));
    assert.deepEqual(facts, { role: { role: 'master' }, installationUuid: '0a1b2c3d-1111-4aaa-8bbb-000000000001', productVersion: '8.3.0', xapi: 'running', emergency: false, masterPortOpen: undefined });
  });

  it('reads a slave in emergency mode that cannot reach its master', () => {
    const facts = parseProbeOutput(output({ poolConf: 'slave:127.77.0.1', stdout: 'true', port: 'closed' }));
    assert.deepEqual(facts.role, { role: 'slave', masterAddress: '127.77.0.1' });
    assert.equal(facts.emergency, true);
    assert.equal(facts.masterPortOpen, false);
  });

  it('cannot be forged by what xe prints: sections after xe\'s marker are xe\'s output (issue 12, finding 7)', () => {
    // Before, the later @@pool.conf replaced the real one: a slave read as master, and the pool as split-brain.
    const forged = output({ poolConf: 'slave:127.77.0.1', port: 'open', stdout: "false\n@@pool.conf\nmaster\n@@master-port closed\n@@inventory\nINSTALLATION_UUID='0a1b2c3d-9999-4aaa-8bbb-000000000009'" });
    assert.throws(() => parseProbeOutput(forged), /host-is-in-emergency-mode output: more than the one expected line/);
  });

  it('takes pool.conf\'s line as it is, even one that looks like a section marker', () => {
    const facts = parseProbeOutput(output({ poolConf: '@@master-port open' }));
    assert.equal(facts.masterPortOpen, undefined);
    assert.notDeepEqual(facts.role, { role: 'master' });
  });

  it('recognises xapi down from the connection-refused error', () => {
    const facts = parseProbeOutput(output({ poolConf: 'slave:127.77.0.1', stdout: '', stderr: 'Error: Connection refused (calling connect )', exit: 1, port: 'open' }));
    assert.equal(facts.xapi, 'down');
    assert.equal(facts.emergency, undefined);
    assert.equal(facts.emergencyFailure?.code, 'XAPI_UNREACHABLE');
  });

  it('recognises a hung xe (killed by timeout) and a host without xe', () => {
    assert.equal(parseProbeOutput(output({ stdout: '', exit: 124 })).xapi, 'hung');
    assert.equal(parseProbeOutput(output({ stdout: '', stderr: 'sh: 1: xe: not found', exit: 127 })).xapi, 'missing');
  });

  it('says when pool.conf is missing instead of guessing a role', () => {
    const facts = parseProbeOutput(output({ poolConf: null }));
    assert.equal(facts.role, undefined);
    assert.match(facts.roleProblem ?? '', /does not exist/);
  });

  it('throws ProbeOutputError on output that is not the probe (garbage, cut short)', () => {
    const healthy = output({});
    assert.throws(() => parseProbeOutput({ stdout: '<html>502 Bad Gateway</html>\n', stderr: '', exitCode: 0 }), ProbeOutputError);
    assert.throws(() => parseProbeOutput({ ...healthy, stdout: healthy.stdout.slice(0, healthy.stdout.indexOf('@@emergency.stdout')) }), ProbeOutputError);
    assert.throws(() => parseProbeOutput({ ...healthy, exitCode: null }), /without an exit status/);
    assert.throws(() => parseProbeOutput({ ...healthy, stderr: '' }), /emergency\.stderr/);
  });

  it('ignores what a login script printed to stderr before the probe ran', () => {
    const noisy = output({ stdout: 'true' });
    const facts = parseProbeOutput({ ...noisy, stderr: `stty: 'standard input': Inappropriate ioctl for device\n${noisy.stderr}` });
    assert.equal(facts.xapi, 'running');
    assert.equal(facts.emergency, true);
  });

  it('refuses garbage where the emergency flag should be', () => {
    assert.throws(() => parseProbeOutput(output({ stdout: 'maybe' })), /maybe/);
  });

  // dom0 runs the probe in bash (root's login shell), which checks the master port without starting
  // a program; any other POSIX shell takes the `timeout 1 bash` way. Both must tell the same.
  for (const shell of ['/bin/bash', '/bin/sh']) {
    describe(`the script itself, run by ${shell} against a fake host root`, () => {
      let dir: string;
      let listener: net.Server;
      let openPort: number;
      let closedPort: number;
      before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), 'xenpools-probe-'));
        listener = net.createServer((socket) => socket.destroy());
        await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
        openPort = (listener.address() as net.AddressInfo).port;
        // A port that was free a moment ago: nothing listens there, so the connect is refused.
        const probe = net.createServer();
        await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
        closedPort = (probe.address() as net.AddressInfo).port;
        await new Promise((resolve) => probe.close(resolve));
      });
      after(async () => {
        await new Promise((resolve) => listener.close(resolve));
        rmSync(dir, { recursive: true, force: true });
      });

      /** The probe as the host would run it, with /etc and the master's port 443 pointed at this test's own. */
      function runScript(poolConf: string | undefined, xeBody: string, masterPort = closedPort, xeBound = '5'): ProbeOutput {
        const etc = path.join(dir, 'etc');
        const bin = path.join(dir, 'bin');
        mkdirSync(path.join(etc, 'xensource'), { recursive: true });
        mkdirSync(bin, { recursive: true });
        rmSync(path.join(etc, 'xensource', 'pool.conf'), { force: true });
        if (poolConf !== undefined) writeFileSync(path.join(etc, 'xensource', 'pool.conf'), poolConf);
        writeFileSync(path.join(etc, 'xensource-inventory'), "INSTALLATION_UUID='0a1b2c3d-2222-4aaa-8bbb-000000000002'\n");
        writeFileSync(path.join(bin, 'xe'), `#!/bin/sh\n${xeBody}\n`);
        chmodSync(path.join(bin, 'xe'), 0o755);
        const script = PROBE_SCRIPT.replaceAll('/etc/', `${etc}/`).replaceAll('/443', `/${masterPort}`).replace('timeout 5 xe', `timeout ${xeBound} xe`);
        // Blocking is fine: the kernel completes the listener's handshakes from its backlog.
        const result = spawnSync(shell, ['-c', script], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } });
        return { stdout: result.stdout, stderr: result.stderr, exitCode: result.status };
      }

      it('reports a slave whose master port refuses as cut off from its master, in one run', () => {
        const facts = parseProbeOutput(runScript('slave:127.0.0.1', 'echo true'));
        assert.deepEqual(facts.role, { role: 'slave', masterAddress: '127.0.0.1' });
        assert.equal(facts.emergency, true);
        assert.equal(facts.installationUuid, '0a1b2c3d-2222-4aaa-8bbb-000000000002');
        assert.equal(facts.masterPortOpen, false);
      });

      it('reports a slave whose master port answers as reaching its master', () => {
        assert.equal(parseProbeOutput(runScript('slave:127.0.0.1', 'echo false', openPort)).masterPortOpen, true);
      });

      it('does not check any port on a master', () => {
        assert.equal(parseProbeOutput(runScript('master', 'echo false', openPort)).masterPortOpen, undefined);
      });

      it('says when pool.conf is missing on the host', () => {
        assert.match(parseProbeOutput(runScript(undefined, 'echo false')).roleProblem ?? '', /does not exist/);
      });

      it('keeps stderr apart from stdout and passes the exit code', () => {
        const facts = parseProbeOutput(runScript('master', "echo 'Error: Connection refused (calling connect )' >&2; exit 1"));
        assert.equal(facts.xapi, 'down');
      });

      it('reports xapi as hung when xe does not answer within its bound, and still says the role', () => {
        const started = Date.now();
        const facts = parseProbeOutput(runScript('slave:127.0.0.1', 'exec sleep 10', openPort, '0.5'));
        assert.ok(Date.now() - started < 5_000, 'the probe waited for the hung xe');
        assert.equal(facts.xapi, 'hung');
        assert.deepEqual(facts.role, { role: 'slave', masterAddress: '127.0.0.1' });
        assert.equal(facts.masterPortOpen, true);
      });

      it('does not put a hostile master address from pool.conf into a command line', () => {
        const marker = path.join(dir, 'pwned');
        const facts = parseProbeOutput(runScript(`slave:x$(touch ${marker})`, 'echo false'));
        assert.equal(facts.masterPortOpen, undefined);
        assert.equal(spawnSync('test', ['-e', marker]).status, 1);
      });
    });
  }
});
