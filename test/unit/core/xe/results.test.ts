import { strict as assert } from 'node:assert';
import { XeParseError } from '../../../../src/core/xe/errors';
import {
  type RoleChangeNotice,
  formatRoleChangeNotice,
  parseEmergencyModeFlag,
  parseMinimal,
  parsePoolConf,
  parseRecoveredSlaves,
  parseRoleChangeNotice,
  parseSingleValue,
} from '../../../../src/core/xe/results';
import { fixture } from '../../fixtures';
import { parseErrorOf, randomInt, seededRandom } from './recordPrinter';

const HOST1 = '0a1b2c3d-1111-4aaa-8bbb-000000000001';
const HOST2 = '0a1b2c3d-2222-4aaa-8bbb-000000000002';
const HOST3 = '0a1b2c3d-3333-4aaa-8bbb-000000000003';
const HTML_PAGE = fixture('xe/garbage/html-error-page.txt');

function stdout(name: string): string {
  return fixture(`xe/stdout/${name}`);
}


function assertParseError(parse: () => unknown, line: number, offendingLine: string): XeParseError {
  const error = parseErrorOf(parse);
  assert.equal(error.line, line, error.message);
  assert.equal(error.offendingLine, offendingLine, error.message);
  return error;
}

describe('xe small outputs (results.ts)', () => {
  describe('parseMinimal', () => {
    it('splits the comma-joined first fields of a table', () => {
      assert.deepEqual(parseMinimal(stdout('host-list-minimal.txt')), [HOST2, HOST1, HOST3]);
      assert.deepEqual(parseMinimal(stdout('host-list-address-minimal.txt')), ['192.168.10.12', '192.168.10.11', '192.168.10.13']);
    });

    it('unescapes \\, and \\\\ inside values', () => {
      assert.deepEqual(parseMinimal(stdout('sr-list-name-label-minimal.txt')), ['NFS storage', 'Local storage, host1', 'C:\\iso']);
    });

    it('reads one empty line as no values, and keeps empty values between commas', () => {
      assert.deepEqual(parseMinimal('\n'), []);
      assert.deepEqual(parseMinimal('a,,b\n'), ['a', '', 'b']);
    });

    it('rejects empty stdout, a missing newline, a second line and stray backslashes', () => {
      assertParseError(() => parseMinimal(''), 1, '');
      assertParseError(() => parseMinimal(`${HOST1},${HOST2}`), 1, `${HOST1},${HOST2}`);
      assertParseError(() => parseMinimal('a\nb\n'), 2, 'b');
      assertParseError(() => parseMinimal('a\\x\n'), 1, 'a\\x');
      assertParseError(() => parseMinimal('a\\\n'), 1, 'a\\');
      assertParseError(() => parseMinimal(HTML_PAGE), 2, '<html><head><title>502 Bad Gateway</title></head>');
    });
  });

  describe('parseEmergencyModeFlag', () => {
    it('reads true and false', () => {
      assert.equal(parseEmergencyModeFlag(stdout('emergency-mode-true.txt')), true);
      assert.equal(parseEmergencyModeFlag(stdout('emergency-mode-false.txt')), false);
    });

    it('rejects the empty line that --minimal gives, pointing at --minimal', () => {
      const error = assertParseError(() => parseEmergencyModeFlag(stdout('emergency-mode-minimal.txt')), 1, '');
      assert.match(error.message, /--minimal/);
    });

    it('rejects empty stdout, other words, a cut line and extra lines', () => {
      assertParseError(() => parseEmergencyModeFlag(''), 1, '');
      assertParseError(() => parseEmergencyModeFlag('TRUE\n'), 1, 'TRUE');
      assertParseError(() => parseEmergencyModeFlag('tru'), 1, 'tru');
      assertParseError(() => parseEmergencyModeFlag('true'), 1, 'true');
      assertParseError(() => parseEmergencyModeFlag('true\nfalse\n'), 2, 'false');
      assertParseError(() => parseEmergencyModeFlag(HTML_PAGE), 2, '<html><head><title>502 Bad Gateway</title></head>');
    });
  });

  describe('parseRecoveredSlaves', () => {
    it('reads one UUID per line, the --minimal comma form, and nothing', () => {
      assert.deepEqual(parseRecoveredSlaves(stdout('recover-slaves.txt')), [HOST3, HOST1]);
      assert.deepEqual(parseRecoveredSlaves(stdout('recover-slaves-minimal.txt')), [HOST3, HOST1]);
      assert.deepEqual(parseRecoveredSlaves(stdout('recover-slaves-none.txt')), []);
      assert.deepEqual(parseRecoveredSlaves(stdout('recover-slaves-none-minimal.txt')), []);
      assert.deepEqual(parseRecoveredSlaves(`${HOST2}\n`), [HOST2]);
    });

    it('rejects non-UUID lines, blank lines, a cut line and a bad --minimal item', () => {
      assertParseError(() => parseRecoveredSlaves(`${HOST1}\nxcp-host3\n`), 2, 'xcp-host3');
      assertParseError(() => parseRecoveredSlaves(`${HOST1}\n\n${HOST2}\n`), 2, '');
      assertParseError(() => parseRecoveredSlaves(`${HOST1}\n${HOST2.slice(0, 20)}`), 2, HOST2.slice(0, 20));
      assertParseError(() => parseRecoveredSlaves(`${HOST1},oops\n`), 1, `${HOST1},oops`);
      assertParseError(() => parseRecoveredSlaves(HTML_PAGE), 1, '<!DOCTYPE html>');
    });
  });

  describe('parseRoleChangeNotice', () => {
    it('reads the transition-to-master notice with its OCaml float delay', () => {
      assert.deepEqual(parseRoleChangeNotice(stdout('transition-to-master.txt')), {
        kind: 'transition-to-master',
        delaySeconds: 10,
      });
      assert.deepEqual(
        parseRoleChangeNotice('Host agent will restart and transition to master in 10.5 seconds...\n'),
        { kind: 'transition-to-master', delaySeconds: 10.5 },
      );
    });

    it('reads the become-slave notice with the address as typed', () => {
      assert.deepEqual(parseRoleChangeNotice(stdout('become-slave.txt')), {
        kind: 'become-slave',
        masterAddress: '192.168.10.12',
        delaySeconds: 10,
      });
      assert.deepEqual(
        parseRoleChangeNotice('Host agent will restart and become slave of fe80::1 in 1e+20 seconds...\n'),
        { kind: 'become-slave', masterAddress: 'fe80::1', delaySeconds: 1e20 },
      );
    });

    it('reads the already-master notice', () => {
      assert.deepEqual(parseRoleChangeNotice(stdout('already-master.txt')), { kind: 'already-master' });
    });

    it('prints the same texts for the simulator', () => {
      const notices: RoleChangeNotice[] = [
        { kind: 'transition-to-master', delaySeconds: 10 },
        { kind: 'become-slave', masterAddress: '192.168.10.12', delaySeconds: 10 },
        { kind: 'already-master' },
      ];
      assert.deepEqual(
        notices.map(formatRoleChangeNotice),
        ['transition-to-master.txt', 'become-slave.txt', 'already-master.txt'].map(stdout),
      );
      assert.equal(
        formatRoleChangeNotice({ kind: 'transition-to-master', delaySeconds: 10.5 }),
        'Host agent will restart and transition to master in 10.5 seconds...\n',
      );
    });

    it('rejects a delay that is not OCaml float text, other lines, empty and cut output', () => {
      const integerDelay = 'Host agent will restart and transition to master in 10 seconds...';
      assertParseError(() => parseRoleChangeNotice(`${integerDelay}\n`), 1, integerDelay);
      const noAddress = 'Host agent will restart and become slave of  in 10. seconds...';
      assertParseError(() => parseRoleChangeNotice(`${noAddress}\n`), 1, noAddress);
      assertParseError(() => parseRoleChangeNotice(''), 1, '');
      assertParseError(() => parseRoleChangeNotice('Host agent will restart and transi'), 1, 'Host agent will restart and transi');
      assertParseError(() => parseRoleChangeNotice(`${stdout('already-master.txt')}extra\n`), 2, 'extra');
      assertParseError(() => parseRoleChangeNotice(HTML_PAGE), 2, '<html><head><title>502 Bad Gateway</title></head>');
    });
  });

  describe('parsePoolConf', () => {
    it('reads master, slave:<address> and broken, with or without a newline', () => {
      assert.deepEqual(parsePoolConf(stdout('pool-conf-master.txt')), { role: 'master' });
      assert.deepEqual(parsePoolConf(stdout('pool-conf-slave.txt')), { role: 'slave', masterAddress: '192.168.10.11' });
      assert.deepEqual(parsePoolConf(stdout('pool-conf-slave-newline.txt')), { role: 'slave', masterAddress: '192.168.10.11' });
      assert.deepEqual(parsePoolConf(stdout('pool-conf-broken.txt')), { role: 'broken' });
    });

    it('trims whitespace like xapi and keeps an IPv6 address whole', () => {
      assert.deepEqual(parsePoolConf('  master \n\n'), { role: 'master' });
      assert.deepEqual(parsePoolConf('slave:fe80::1\n'), { role: 'slave', masterAddress: 'fe80::1' });
    });

    it('rejects an empty file, an empty or spaced address, other words and extra lines', () => {
      assertParseError(() => parsePoolConf(''), 1, '');
      assertParseError(() => parsePoolConf('slave:\n'), 1, 'slave:');
      assertParseError(() => parsePoolConf('slave:192.168.10.11 junk'), 1, 'slave:192.168.10.11 junk');
      assertParseError(() => parsePoolConf('Master'), 1, 'Master');
      assertParseError(() => parsePoolConf('master\nslave:192.168.10.11\n'), 2, 'slave:192.168.10.11');
      assertParseError(() => parsePoolConf(HTML_PAGE), 2, '<html><head><title>502 Bad Gateway</title></head>');
    });
  });

  describe('parseSingleValue', () => {
    it('reads a param-get value, <not in database> as null, and an empty value', () => {
      assert.equal(parseSingleValue(stdout('param-get-default-sr.txt')), '6c9e2f10-7d3a-2b4c-5e6f-a1b2c3d4e5f6');
      assert.equal(parseSingleValue(stdout('param-get-default-sr-null.txt')), null);
      assert.equal(parseSingleValue('\n'), '');
      assert.equal(parseSingleValue('a: b; c: d\n'), 'a: b; c: d');
    });

    it('rejects empty stdout, a cut line, more than one line and CRLF or binary junk', () => {
      const error = assertParseError(() => parseSingleValue('', 'pool default-SR'), 1, '');
      assert.equal(error.what, 'pool default-SR');
      assertParseError(() => parseSingleValue('6c9e2f10-7d3a'), 1, '6c9e2f10-7d3a');
      assertParseError(() => parseSingleValue('a\nb\n'), 2, 'b');
      assertParseError(() => parseSingleValue('<not in database>\r\n'), 1, '<not in database>\r');
      assertParseError(() => parseSingleValue('a\0b\n'), 1, 'a\0b');
    });
  });

  it('every parser rejects binary junk with XeParseError', () => {
    const junk = fixture('xe/garbage/binary-junk.txt');
    for (const parse of [parseMinimal, parseEmergencyModeFlag, parseRecoveredSlaves, parseRoleChangeNotice, parsePoolConf, parseSingleValue]) {
      parseErrorOf(() => parse(junk));
    }
  });

  describe('fuzz: random and mutated outputs give a value or XeParseError, nothing else', () => {
    const random = seededRandom(0xc0ffee);
    const alphabet = ['t', 'r', 'u', 'e', 'f', ',', '\\', '\n', ' ', ':', '.', '0', '1', 'a', '-', '\0', '\r', '<'];
    const samples = [
      ...[
        'host-list-minimal.txt',
        'sr-list-name-label-minimal.txt',
        'emergency-mode-true.txt',
        'recover-slaves.txt',
        'recover-slaves-minimal.txt',
        'transition-to-master.txt',
        'become-slave.txt',
        'already-master.txt',
        'pool-conf-slave.txt',
        'param-get-default-sr-null.txt',
      ].map(stdout),
      fixture('xe/pool-list.txt'),
    ];
    const parsers: readonly ((text: string) => unknown)[] = [
      parseMinimal,
      parseEmergencyModeFlag,
      parseRecoveredSlaves,
      parseRoleChangeNotice,
      parsePoolConf,
      parseSingleValue,
    ];

    function randomText(): string {
      if (random() < 0.5) {
        const length = randomInt(random, 40);
        return Array.from({ length }, () => alphabet[randomInt(random, alphabet.length)] ?? '').join('');
      }
      const sample = samples[randomInt(random, samples.length)] ?? '';
      const at = randomInt(random, sample.length + 1);
      const inserted = alphabet[randomInt(random, alphabet.length)] ?? '';
      return random() < 0.5 ? sample.slice(0, at) : sample.slice(0, at) + inserted + sample.slice(at + 1);
    }

    it('every parser, 3000 inputs', () => {
      for (let attempt = 0; attempt < 3000; attempt++) {
        const text = randomText();
        for (const parse of parsers) {
          try {
            parse(text);
          } catch (error) {
            assert.ok(error instanceof XeParseError, `${String(error)} for ${JSON.stringify(text)}`);
          }
        }
      }
    });

    it('parseMinimal reads back exactly what escaping and joining the values gives', () => {
      for (let attempt = 0; attempt < 3000; attempt++) {
        const text = randomText();
        let values: string[];
        try {
          values = parseMinimal(text);
        } catch (error) {
          assert.ok(error instanceof XeParseError);
          continue;
        }
        const escaped = values.map((value) => value.replace(/[\\,]/g, (character) => `\\${character}`)).join(',');
        // (No values and a single empty value both print as an empty line; it reads back as no values.)
        assert.equal(`${escaped}\n`, text);
      }
    });
  });
});
