import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseProbeOutput, ProbeOutputError, PROBE_SCRIPT } from '../../../../src/core/pool/probe';

function output(parts: { poolConf?: string | null; inventory?: string; stdout?: string; stderr?: string; exit?: number; port?: 'open' | 'closed' }): string {
  return [
    ...(parts.poolConf === null ? ['@@pool.conf-missing'] : ['@@pool.conf', parts.poolConf ?? 'master']),
    '',
    '@@inventory',
    parts.inventory ?? "INSTALLATION_UUID='0a1b2c3d-1111-4aaa-8bbb-000000000001'\nPRODUCT_VERSION='8.3.0'",
    '@@emergency.stdout',
    parts.stdout ?? 'false',
    '@@emergency.stderr',
    ...(parts.stderr ? [parts.stderr] : []),
    `@@emergency.exit ${parts.exit ?? 0}`,
    ...(parts.port ? [`@@master-port ${parts.port}`] : []),
    '@@end',
    '',
  ].join('\n');
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
    assert.throws(() => parseProbeOutput('<html>502 Bad Gateway</html>\n'), ProbeOutputError);
    assert.throws(() => parseProbeOutput(output({}).replace('@@end\n', '')), ProbeOutputError);
  });

  it('refuses garbage where the emergency flag should be', () => {
    assert.throws(() => parseProbeOutput(output({ stdout: 'maybe' })), /maybe/);
  });

  describe('the script itself, run by /bin/sh against a fake host root', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'xenpools-probe-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    function runScript(poolConf: string | undefined, xeBody: string): string {
      const etc = path.join(dir, 'etc');
      const bin = path.join(dir, 'bin');
      mkdirSync(path.join(etc, 'xensource'), { recursive: true });
      mkdirSync(bin, { recursive: true });
      rmSync(path.join(etc, 'xensource', 'pool.conf'), { force: true });
      if (poolConf !== undefined) writeFileSync(path.join(etc, 'xensource', 'pool.conf'), poolConf);
      writeFileSync(path.join(etc, 'xensource-inventory'), "INSTALLATION_UUID='0a1b2c3d-2222-4aaa-8bbb-000000000002'\n");
      writeFileSync(path.join(bin, 'xe'), `#!/bin/sh\n${xeBody}\n`);
      chmodSync(path.join(bin, 'xe'), 0o755);
      // The script reads absolute paths; point them at the fake root for this test only.
      const script = PROBE_SCRIPT.replaceAll('/etc/', `${etc}/`);
      const result = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } });
      return result.stdout;
    }

    it('reports a slave pointing at a closed port as unreachable master, in one run', () => {
      // 127.0.0.1:9 (discard) is closed on this machine: the TCP check must say so within its 2 s bound.
      const facts = parseProbeOutput(runScript('slave:127.0.0.1', 'echo true'));
      assert.deepEqual(facts.role, { role: 'slave', masterAddress: '127.0.0.1' });
      assert.equal(facts.emergency, true);
      assert.equal(facts.installationUuid, '0a1b2c3d-2222-4aaa-8bbb-000000000002');
      assert.equal(typeof facts.masterPortOpen, 'boolean');
    });

    it('says when pool.conf is missing on the host', () => {
      assert.match(parseProbeOutput(runScript(undefined, 'echo false')).roleProblem ?? '', /does not exist/);
    });

    it('keeps stderr apart from stdout and passes the exit code', () => {
      const facts = parseProbeOutput(runScript('master', "echo 'Error: Connection refused (calling connect )' >&2; exit 1"));
      assert.equal(facts.xapi, 'down');
    });

    it('does not put a hostile master address from pool.conf into a command line', () => {
      const marker = path.join(dir, 'pwned');
      const facts = parseProbeOutput(runScript(`slave:x$(touch ${marker})`, 'echo false'));
      assert.equal(facts.masterPortOpen, undefined);
      assert.equal(spawnSync('test', ['-e', marker]).status, 1);
    });
  });
});
