import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import {
  XAPI_ERROR_TEXTS,
  XE_CLI_TEXTS,
  type XapiErrorCode,
  type XapiWordingVersion,
  XeCommandError,
  type XeFailure,
  XeParseError,
  classifyXeFailure,
  formatXapiError,
  isXeSuccess,
} from '../../../../src/core/xe/errors';
import * as xeApi from '../../../../src/core/xe/index';
import { fixture } from '../../fixtures';
import { randomInt, seededRandom } from './recordPrinter';

const VERSIONS: readonly XapiWordingVersion[] = ['pre-2021', '8.2', '8.3'];
const API_CODES = Object.keys(XAPI_ERROR_TEXTS) as XapiErrorCode[];
const ERROR_FIXTURE_DIR = path.resolve(__dirname, '..', '..', '..', '..', '..', 'test', 'fixtures', 'xe', 'errors');
const ERROR_FIXTURES = readdirSync(ERROR_FIXTURE_DIR).filter((name) => name.endsWith('.txt'));

function failed(stderr: string, stdout = ''): XeFailure {
  return classifyXeFailure({ stdout, stderr, exitCode: 1 });
}

function stderrFixture(name: string): XeFailure {
  return failed(fixture(`xe/errors/${name}`));
}

/** `host-is-slave.8.2.txt` → HOST_IS_SLAVE and '8.2'; a fixture without a version suffix never changed. */
function apiFixtureParts(name: string): { code: string; label: string | undefined } {
  const [stem = '', ...label] = name.replace(/\.txt$/, '').split('.');
  return { code: stem.toUpperCase().replace(/-/g, '_'), label: label.length > 0 ? label.join('.') : undefined };
}

const API_FIXTURES = ERROR_FIXTURES.filter((name) => API_CODES.some((code) => apiFixtureParts(name).code === code));

/** Fixture labels are xen-api revisions; 'pre-2021-2020' is the 2020 wording, still before the 2021 rewording. */
function versionOfLabel(label: string): XapiWordingVersion {
  return label === 'pre-2021-2020' ? 'pre-2021' : (label as XapiWordingVersion);
}

const HOST1 = '0a1b2c3d-1111-4aaa-8bbb-000000000001';
const HOST3 = '0a1b2c3d-3333-4aaa-8bbb-000000000003';

describe('xe failures (errors.ts)', () => {
  describe('XAPI_ERROR_TEXTS', () => {
    it('has a wording for every code in every version', () => {
      for (const code of API_CODES) {
        for (const version of VERSIONS) {
          const params = XAPI_ERROR_TEXTS[code].params.map(() => 'x');
          assert.doesNotThrow(() => formatXapiError(code, version, params), `${code} ${version}`);
        }
      }
    });

    it('never uses one first line for two codes', () => {
      const texts = API_CODES.flatMap((code) => XAPI_ERROR_TEXTS[code].wordings.map((wording) => wording.text));
      assert.equal(new Set(texts).size, texts.length);
    });

    it('matches the texts extracted from xen-api, wording for wording', () => {
      const fixtureFirstLines = new Map(API_FIXTURES.map((name) => [fixture(`xe/errors/${name}`).split('\n')[0], name]));
      for (const code of API_CODES) {
        for (const wording of XAPI_ERROR_TEXTS[code].wordings) {
          const name = fixtureFirstLines.get(wording.text);
          assert.ok(name !== undefined, `no fixture for ${code}: ${wording.text}`);
          const { label } = apiFixtureParts(name);
          if (label !== undefined) assert.ok(wording.versions.includes(versionOfLabel(label)), `${name} vs ${wording.versions.join()}`);
        }
      }
      assert.equal(fixtureFirstLines.size, API_FIXTURES.length);
    });

    it('prints what each version prints, and the printed text classifies back (for the lab simulator)', () => {
      assert.equal(
        formatXapiError('HOST_IS_SLAVE', '8.3', ['192.168.10.11']),
        fixture('xe/errors/host-is-slave.8.3.txt'),
      );
      assert.equal(formatXapiError('HOST_NOT_LIVE', 'pre-2021', []), fixture('xe/errors/host-not-live.pre-2021.txt'));
      for (const code of API_CODES) {
        for (const version of VERSIONS) {
          const params = XAPI_ERROR_TEXTS[code].params.map(() => HOST1);
          assert.equal(failed(formatXapiError(code, version, params)).code, code, `${code} ${version}`);
        }
      }
    });

    it('refuses the wrong number of parameters', () => {
      assert.throws(() => formatXapiError('UUID_INVALID', '8.2', ['host']), RangeError);
    });
  });

  describe('API errors (one fixture per wording)', () => {
    for (const name of API_FIXTURES) {
      it(`${name} → ${apiFixtureParts(name).code}`, () => {
        assert.equal(stderrFixture(name).code, apiFixtureParts(name).code);
      });
    }

    it('HOST_IS_SLAVE carries the master address and which wording was printed', () => {
      for (const version of VERSIONS) {
        assert.deepEqual(stderrFixture(`host-is-slave.${version}.txt`), {
          code: 'HOST_IS_SLAVE',
          masterAddress: '192.168.10.11',
          wording: version,
        });
      }
    });

    it('HOST_ITS_OWN_SLAVE carries its wording', () => {
      assert.deepEqual(
        VERSIONS.map((version) => stderrFixture(`host-its-own-slave.${version}.txt`)),
        VERSIONS.map((version) => ({ code: 'HOST_ITS_OWN_SLAVE', wording: version })),
      );
    });

    it('HOST_OFFLINE and CANNOT_CONTACT_HOST parse the host as <uuid> (<name-label>)', () => {
      assert.deepEqual(stderrFixture('host-offline.txt'), {
        code: 'HOST_OFFLINE',
        host: { raw: `${HOST3} (xcp-host3)`, uuid: HOST3, nameLabel: 'xcp-host3' },
      });
      assert.deepEqual(stderrFixture('cannot-contact-host.pre-2021.txt'), {
        code: 'CANNOT_CONTACT_HOST',
        host: { raw: `${HOST1} (xcp-host1)`, uuid: HOST1, nameLabel: 'xcp-host1' },
      });
    });

    it('keeps a bare uuid, a name with parentheses, and an unresolved reference apart', () => {
      const hostOf = (value: string): unknown => {
        const failure = failed(formatXapiError('HOST_OFFLINE', '8.3', [value]));
        return failure.code === 'HOST_OFFLINE' ? failure.host : failure;
      };
      assert.deepEqual(hostOf(HOST1), { raw: HOST1, uuid: HOST1, nameLabel: null });
      assert.deepEqual(hostOf(`${HOST1} (rack (a))`), { raw: `${HOST1} (rack (a))`, uuid: HOST1, nameLabel: 'rack (a)' });
      assert.deepEqual(hostOf('OpaqueRef:5e1d'), { raw: 'OpaqueRef:5e1d', uuid: null, nameLabel: null });
      assert.deepEqual(hostOf('xcp-host1 (x)'), { raw: 'xcp-host1 (x)', uuid: null, nameLabel: null });
    });

    it('HOST_UNKNOWN_TO_MASTER, HOST_MASTER_CANNOT_TALK_BACK, UUID_INVALID and INTERNAL_ERROR carry their parameters', () => {
      assert.deepEqual(stderrFixture('host-unknown-to-master.8.3.txt'), {
        code: 'HOST_UNKNOWN_TO_MASTER',
        host: { raw: '0a1b2c3d-2222-4aaa-8bbb-000000000002', uuid: '0a1b2c3d-2222-4aaa-8bbb-000000000002', nameLabel: null },
      });
      assert.deepEqual(stderrFixture('host-master-cannot-talk-back.8.2.txt'), {
        code: 'HOST_MASTER_CANNOT_TALK_BACK',
        ip: '192.168.10.12',
      });
      assert.deepEqual(stderrFixture('uuid-invalid.txt'), { code: 'UUID_INVALID', objectType: 'host', uuid: '1234' });
      assert.deepEqual(stderrFixture('internal-error.pre-2021.txt'), {
        code: 'INTERNAL_ERROR',
        message: 'INTERNAL_ERROR: [ Connection failed: connection refused. ]',
      });
    });

    it('ignores lines after the expected parameters (<extra>, --trace)', () => {
      const stderr = `${fixture('xe/errors/host-is-slave.8.2.txt')}<extra>: 1\nRaised Server_error(HOST_IS_SLAVE)\n`;
      assert.deepEqual(failed(stderr), { code: 'HOST_IS_SLAVE', masterAddress: '192.168.10.11', wording: '8.2' });
    });

    it('does not guess when a parameter line is missing, renamed or <unknown>', () => {
      const docLine = XAPI_ERROR_TEXTS.HOST_IS_SLAVE.wordings[2]?.text ?? '';
      for (const stderr of [`${docLine}\n`, `${docLine}\nMaster address: 1.2.3.4\n`, `${docLine}\nMaster IP address: <unknown>\n`]) {
        assert.deepEqual(failed(stderr), { code: 'UNRECOGNISED', firstLine: docLine });
      }
    });

    it('does not recognise a doc line that was cut off', () => {
      const cut = fixture('xe/errors/host-is-slave.8.3.txt').slice(0, 40);
      assert.deepEqual(failed(cut), { code: 'UNRECOGNISED', firstLine: cut });
    });
  });

  describe('CLI server and client texts', () => {
    const expectations: Readonly<Record<string, XeFailure>> = {
      'force-required.txt': { code: 'FORCE_REQUIRED' },
      'field-read-only.txt': { code: 'FIELD_READ_ONLY', field: 'master' },
      'unknown-field.txt': { code: 'UNKNOWN_FIELD', field: 'frobnicate' },
      'no-matching-hosts.txt': { code: 'NO_MATCHING_OBJECTS', objects: 'hosts' },
      'cli-error-key-not-found.txt': { code: 'CLI_ERROR', message: 'Key foo not found in map' },
      'xapi-connection-refused.txt': { code: 'XAPI_UNREACHABLE', unixError: 'Connection refused', syscall: 'connect' },
      'client-no-route-to-host.txt': { code: 'XAPI_UNREACHABLE', unixError: 'No route to host', syscall: 'connect' },
      'connection-lost.txt': { code: 'CONNECTION_LOST' },
      'server-unreachable.txt': { code: 'SERVER_UNREACHABLE' },
      'server-host-not-found.txt': { code: 'SERVER_HOST_NOT_FOUND', server: 'xcp-host9.example' },
      'no-management-agent.txt': { code: 'NO_MANAGEMENT_AGENT' },
      'unknown-command.txt': { code: 'UNKNOWN_COMMAND', command: 'pool-frobnicate' },
      'missing-parameter.txt': { code: 'MISSING_PARAMETER', parameter: 'uuid' },
      'syntax-error.txt': { code: 'SYNTAX_ERROR', message: 'command name is missing' },
      'unknown-switch.txt': { code: 'UNKNOWN_SWITCH', switchName: '--frobnicate' },
      'unknown-error-code-missing-parameter.txt': {
        code: 'UNKNOWN_ERROR_CODE',
        errorCode: 'Missing parameter',
        params: ['frobnicate'],
        isMissingParameter: true,
      },
      'unknown-error-code.txt': {
        code: 'UNKNOWN_ERROR_CODE',
        errorCode: 'SR_BACKEND_FAILURE_46',
        params: ['', 'The VDI is not available [opterr=VDI 3e1f5a7c-0b2d-4c6e-8f10-9a8b7c6d5e4f locked]', ''],
        isMissingParameter: false,
      },
      // What a VM start after a host loss prints while the dead host still holds the disk (storage manager, blktap2).
      'sr-backend-failure-attached-rw.txt': {
        code: 'UNKNOWN_ERROR_CODE',
        errorCode: 'SR_BACKEND_FAILURE_46',
        params: ['', 'The VDI is not available [opterr=VDI 1b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d already attached RW]', ''],
        isMissingParameter: false,
      },
      'authentication-failed.txt': { code: 'AUTHENTICATION_FAILED' },
      'credentials-required.txt': { code: 'CREDENTIALS_REQUIRED' },
    };

    it('every non-API error fixture has an expectation', () => {
      assert.deepEqual(
        ERROR_FIXTURES.filter((name) => !API_FIXTURES.includes(name)).sort(),
        Object.keys(expectations).sort(),
      );
    });

    for (const [name, expected] of Object.entries(expectations)) {
      it(`${name} → ${expected.code}`, () => {
        assert.deepEqual(stderrFixture(name), expected);
      });
    }

    it('reads the spec\'s bare "Unknown switch:" form too', () => {
      assert.deepEqual(failed('Unknown switch: --x\n'), { code: 'UNKNOWN_SWITCH', switchName: '--x' });
    });

    it('reads an empty Error parameters line as no parameters', () => {
      assert.deepEqual(failed('Error code: SOMETHING_NEW\nError parameters: \n'), {
        code: 'UNKNOWN_ERROR_CODE',
        errorCode: 'SOMETHING_NEW',
        params: [],
        isMissingParameter: false,
      });
    });

    it('recognises the already-master notice on stdout with exit 0, and on stderr', () => {
      const notice = fixture('xe/stdout/already-master.txt');
      assert.deepEqual(classifyXeFailure({ stdout: notice, stderr: '', exitCode: 0 }), { code: 'ALREADY_MASTER' });
      assert.deepEqual(failed(notice), { code: 'ALREADY_MASTER' });
      assert.equal(XE_CLI_TEXTS.alreadyMaster, notice.trimEnd());
    });
  });

  describe('unrecognised output', () => {
    it('gives UNRECOGNISED with the first line, never a guess', () => {
      assert.deepEqual(failed(fixture('xe/garbage/html-error-page.txt')), { code: 'UNRECOGNISED', firstLine: '<!DOCTYPE html>' });
      assert.deepEqual(failed(''), { code: 'UNRECOGNISED', firstLine: '' });
      assert.deepEqual(failed('Warning: Permanently added 192.168.10.11 to the list of known hosts.\n'), {
        code: 'UNRECOGNISED',
        firstLine: 'Warning: Permanently added 192.168.10.11 to the list of known hosts.',
      });
      assert.deepEqual(failed('Error code: X\n'), { code: 'UNRECOGNISED', firstLine: 'Error code: X' });
    });

    it('cuts the first line to 200 characters', () => {
      assert.deepEqual(failed(`${'z'.repeat(300)}\n`), { code: 'UNRECOGNISED', firstLine: 'z'.repeat(200) });
    });
  });

  describe('isXeSuccess', () => {
    it('means exit 0 and empty stderr', () => {
      assert.equal(isXeSuccess({ stdout: 'true\n', stderr: '', exitCode: 0 }), true);
      assert.equal(isXeSuccess({ stdout: fixture('xe/stdout/already-master.txt'), stderr: '', exitCode: 0 }), true);
      assert.equal(isXeSuccess({ stdout: '', stderr: 'Usage:\n', exitCode: 0 }), false);
      assert.equal(isXeSuccess({ stdout: '', stderr: '', exitCode: 1 }), false);
      assert.equal(isXeSuccess({ stdout: '', stderr: '', exitCode: null }), false);
    });
  });

  describe('XeCommandError', () => {
    it('carries the failure and a one-line message with code, exit status and what xe said', () => {
      const output = { stdout: '', stderr: fixture('xe/errors/host-is-slave.8.3.txt'), exitCode: 1 };
      const error = new XeCommandError(output);
      assert.ok(error instanceof Error);
      assert.equal(error.name, 'XeCommandError');
      assert.deepEqual(error.failure, { code: 'HOST_IS_SLAVE', masterAddress: '192.168.10.11', wording: '8.3' });
      assert.equal(error.output, output);
      assert.equal(
        error.message,
        'xe failed with HOST_IS_SLAVE (exit 1): You cannot make regular API calls directly on a supporter. ' +
          'Please pass API calls via the coordinator host. / Master IP address: 192.168.10.11',
      );
    });

    it('drops the usage hint, shows a signal and silent failures, and stays one line', () => {
      const missing = new XeCommandError({ stdout: '', stderr: fixture('xe/errors/missing-parameter.txt'), exitCode: 1 });
      assert.equal(missing.message, 'xe failed with MISSING_PARAMETER (exit 1): Required parameter not found: uuid');
      const killed = new XeCommandError({ stdout: '', stderr: '', exitCode: null });
      assert.equal(killed.message, 'xe failed with UNRECOGNISED (exit signal): (no output)');
      const junk = new XeCommandError({ stdout: '', stderr: fixture('xe/garbage/binary-junk.txt'), exitCode: 1 });
      assert.doesNotMatch(junk.message, /[\n\r]/);
      assert.ok(junk.message.length < 400);
    });
  });

  describe('XeParseError', () => {
    it('is an Error with what, line and the offending line, quoted in the message', () => {
      const error = new XeParseError('pool-list output', 3, 'x'.repeat(250), 'misaligned');
      assert.ok(error instanceof Error);
      assert.equal(error.name, 'XeParseError');
      assert.deepEqual([error.what, error.line, error.offendingLine], ['pool-list output', 3, 'x'.repeat(200)]);
      assert.equal(error.message, `Cannot parse pool-list output: misaligned (line 3: "${'x'.repeat(200)}")`);
    });
  });

  describe('index.ts', () => {
    it('re-exports the parsers, the classifier and the command builder', () => {
      const exported: readonly (keyof typeof xeApi)[] = [
        'parseXeRecords', 'parseXeRecord', 'XeRecord', 'parseMinimal', 'parseEmergencyModeFlag', 'parseRecoveredSlaves',
        'parseRoleChangeNotice', 'formatRoleChangeNotice', 'parsePoolConf', 'parseSingleValue', 'classifyXeFailure',
        'isXeSuccess', 'XeCommandError', 'XeParseError', 'XAPI_ERROR_TEXTS', 'XE_CLI_TEXTS', 'formatXapiError', 'xe',
      ];
      for (const name of exported) assert.notEqual(xeApi[name], undefined, name);
    });
  });

  describe('fuzz: classification never throws', () => {
    it('classifies 3000 mutated error texts', () => {
      const random = seededRandom(0xe77);
      const samples = ERROR_FIXTURES.map((name) => fixture(`xe/errors/${name}`));
      const characters = ['\n', ' ', ':', ',', "'", '(', ')', '\0', 'x'];
      for (let attempt = 0; attempt < 3000; attempt++) {
        const sample = samples[randomInt(random, samples.length)] ?? '';
        const at = randomInt(random, sample.length + 1);
        const character = characters[randomInt(random, characters.length)] ?? '';
        const stderr = random() < 0.5 ? sample.slice(0, at) : sample.slice(0, at) + character + sample.slice(at + 1);
        const failure = failed(stderr);
        assert.equal(typeof failure.code, 'string');
        if (failure.code === 'UNRECOGNISED') assert.ok(failure.firstLine.length <= 200);
      }
    });
  });
});
