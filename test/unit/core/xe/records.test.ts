import { strict as assert } from 'node:assert';
import { XeParseError } from '../../../../src/core/xe/errors';
import { type XeRecord, parseXeRecord, parseXeRecords } from '../../../../src/core/xe/records';
import { fixture } from '../../fixtures';
import { type FieldRow, fieldsOf, parseErrorOf, printRecord, printRecords, randomInt, reprint, seededRandom } from './recordPrinter';


function assertParseError(stdout: string, line: number, offendingLine: string): XeParseError {
  const error = parseErrorOf(() => parseXeRecords(stdout, 'test output'));
  assert.equal(error.what, 'test output');
  assert.equal(error.line, line, error.message);
  assert.equal(error.offendingLine, offendingLine, error.message);
  assert.ok(error.message.includes(JSON.stringify(offendingLine.slice(0, 200))), error.message);
  return error;
}

const RECORD_FIXTURES = [
  'pool-list.txt',
  'pool-param-list.txt',
  'pool-param-list-no-default-sr.txt',
  'host-list.txt',
  'host-list-params.txt',
  'sr-list.txt',
  'host-param-list.txt',
];

const POOL_LIST_ROWS: FieldRow[] = [
  ['uuid', '( RO)', '3b8f7a3e-5c1d-4e2a-9f6b-1a2b3c4d5e6f'],
  ['name-label', '( RW)', 'pool-prod'],
  ['name-description', '( RW)', ''],
  ['master', '( RO)', '0a1b2c3d-1111-4aaa-8bbb-000000000001'],
  ['default-SR', '( RW)', '6c9e2f10-7d3a-2b4c-5e6f-a1b2c3d4e5f6'],
];

/** Host field order of xapi v1.249.42 (spec B.4). */
const HOST_FIELD_ORDER_8_2 = [
  'uuid', 'name-label', 'name-description', 'allowed-operations', 'current-operations', 'enabled', 'display',
  'API-version-major', 'API-version-minor', 'API-version-vendor', 'API-version-vendor-implementation', 'logging',
  'suspend-image-sr-uuid', 'crash-dump-sr-uuid', 'software-version', 'capabilities', 'other-config', 'cpu_info',
  'chipset-info', 'hostname', 'address', 'https-only', 'supported-bootloaders', 'blobs', 'memory-overhead',
  'memory-total', 'memory-free', 'memory-free-computed', 'host-metrics-live', 'patches', 'updates', 'ha-statefiles',
  'ha-network-peers', 'external-auth-type', 'external-auth-service-name', 'external-auth-configuration', 'edition',
  'license-server', 'power-on-mode', 'power-on-config', 'local-cache-sr', 'tags', 'ssl-legacy', 'guest_VCPUs_params',
  'virtual-hardware-platform-versions', 'control-domain-uuid', 'resident-vms', 'updates-requiring-reboot', 'features',
  'iscsi_iqn', 'multipathing',
];

function onlyRecord(name: string): XeRecord {
  return parseXeRecord(fixture(`xe/${name}`));
}

describe('xe record output (records.ts)', () => {
  describe('fixtures are laid out exactly by B.1', () => {
    for (const name of RECORD_FIXTURES) {
      it(`${name} reprints byte for byte through the independent printer`, () => {
        const text = fixture(`xe/${name}`);
        assert.equal(reprint(parseXeRecords(text)), text);
      });
    }

    it('pool-list.txt is the printer output of the B.4 pool record', () => {
      assert.equal(fixture('xe/pool-list.txt'), printRecord(fieldsOf(POOL_LIST_ROWS)));
    });

    it('the printer pads the first key on the right and the others on the left, to 4 + the longest key', () => {
      const printed = printRecord(fieldsOf([['uuid', '( RO)', 'u'], ['name-label', '( RW)', '']]));
      assert.equal(printed, 'uuid ( RO)          : u\n    name-label ( RW): \n\n\n');
    });
  });

  describe('pool-list', () => {
    it('reads every field with its marker, in printed order', () => {
      const [pool, ...others] = parseXeRecords(fixture('xe/pool-list.txt'));
      assert.equal(others.length, 0);
      assert.ok(pool);
      assert.deepEqual(
        pool.fields.map((field) => [field.name, field.kind, field.access, field.deprecated, field.raw, field.line]),
        [
          ['uuid', 'scalar', 'RO', false, '3b8f7a3e-5c1d-4e2a-9f6b-1a2b3c4d5e6f', 1],
          ['name-label', 'scalar', 'RW', false, 'pool-prod', 2],
          ['name-description', 'scalar', 'RW', false, '', 3],
          ['master', 'scalar', 'RO', false, '0a1b2c3d-1111-4aaa-8bbb-000000000001', 4],
          ['default-SR', 'scalar', 'RW', false, '6c9e2f10-7d3a-2b4c-5e6f-a1b2c3d4e5f6', 5],
        ],
      );
      assert.equal(pool.ref('master'), '0a1b2c3d-1111-4aaa-8bbb-000000000001');
      assert.equal(pool.text('name-description'), '');
    });
  });

  describe('pool-param-list', () => {
    const pool = onlyRecord('pool-param-list.txt');

    it('reads references, sets, maps and booleans', () => {
      assert.equal(pool.fields.length, 35);
      assert.equal(pool.ref('default-SR'), '6c9e2f10-7d3a-2b4c-5e6f-a1b2c3d4e5f6');
      assert.deepEqual(pool.set('allowed-operations'), ['cluster_create', 'ha_enable']);
      assert.deepEqual(pool.set('current-operations'), []);
      assert.deepEqual(pool.map('other-config'), {
        'memory-ratio-hvm': '0.25',
        'memory-ratio-pv': '0.25',
        auto_poweron: 'false',
      });
      assert.deepEqual(pool.map('gui-config'), {});
      assert.equal(pool.bool('ha-enabled'), false);
      assert.equal(pool.text('ha-host-failures-to-tolerate'), '0');
    });

    it('reads map text from fields that xe marks as plain ( RO) (B.2)', () => {
      assert.equal(pool.field('license-state')?.kind, 'scalar');
      assert.deepEqual(pool.map('license-state'), { edition: 'xcp-ng', expiry: 'never' });
      assert.deepEqual(pool.map('restrictions'), {
        restrict_vswitch_controller: 'false',
        restrict_lab: 'false',
        enable_xha: 'true',
        restrict_corosync: 'true',
      });
    });

    it('marks set and map fields', () => {
      assert.deepEqual(
        ['other-config', 'allowed-operations', 'tags', 'cpu_info'].map((name) => {
          const field = pool.field(name);
          return [field?.kind, field?.access];
        }),
        [['map', 'RW'], ['set', 'RO'], ['set', 'RW'], ['map', 'RO']],
      );
    });

    it('gives null for a <not in database> default-SR', () => {
      const withoutDefault = onlyRecord('pool-param-list-no-default-sr.txt');
      assert.equal(withoutDefault.ref('default-SR'), null);
      assert.equal(withoutDefault.text('default-SR'), '<not in database>');
      assert.equal(withoutDefault.ref('crash-dump-SR'), '6c9e2f10-7d3a-2b4c-5e6f-a1b2c3d4e5f6');
    });
  });

  describe('host-list', () => {
    it('reads the three records in printed (DB) order', () => {
      const hosts = parseXeRecords(fixture('xe/host-list.txt'));
      assert.deepEqual(
        hosts.map((host) => [host.ref('uuid'), host.text('name-label'), host.text('name-description')]),
        [
          ['0a1b2c3d-2222-4aaa-8bbb-000000000002', 'xcp-host2', 'Default install'],
          ['0a1b2c3d-1111-4aaa-8bbb-000000000001', 'xcp-host1', 'Default install'],
          ['0a1b2c3d-3333-4aaa-8bbb-000000000003', 'xcp-host3', 'Default install'],
        ],
      );
      assert.deepEqual(
        hosts.map((host) => host.field('uuid')?.line),
        [1, 6, 11],
      );
    });

    it('reads params=uuid,name-label,address with its narrower width', () => {
      const hosts = parseXeRecords(fixture('xe/host-list-params.txt'));
      assert.deepEqual(
        hosts.map((host) => [host.fields.map((field) => field.name), host.text('address')]),
        [
          [['uuid', 'name-label', 'address'], '192.168.10.12'],
          [['uuid', 'name-label', 'address'], '192.168.10.11'],
        ],
      );
      assert.equal(hosts[0]?.text('name-description'), undefined);
      assert.equal(hosts[0]?.ref('name-description'), undefined);
    });
  });

  describe('sr-list', () => {
    it('keeps <shared> and host names as text, and rejects them as references', () => {
      const srs = parseXeRecords(fixture('xe/sr-list.txt'));
      assert.deepEqual(
        srs.map((sr) => [sr.text('name-label'), sr.text('name-description'), sr.text('host'), sr.text('type')]),
        [
          ['NFS storage', 'NFS SR [192.168.10.5:/export/xcp]', '<shared>', 'nfs'],
          ['Local storage', '', 'xcp-host1', 'ext'],
        ],
      );
      const error = parseErrorOf(() => srs[0]?.ref('host'));
      assert.equal(error.line, 4);
      assert.equal(error.offendingLine, '                host ( RO): <shared>');
      assert.match(error.what, /field host/);
    });
  });

  describe('host-param-list (complete 8.2-era record)', () => {
    const host = onlyRecord('host-param-list.txt');

    it('has every field of xapi v1.249.42 in record order', () => {
      assert.deepEqual(
        host.fields.map((field) => field.name),
        HOST_FIELD_ORDER_8_2,
      );
    });

    it('reads the deprecated patches field and the comma-joined legacy sets', () => {
      const patches = host.field('patches');
      assert.deepEqual([patches?.kind, patches?.access, patches?.deprecated, patches?.raw], ['set', 'RO', true, '']);
      assert.deepEqual(host.set('tags'), ['rack-3', 'production']);
      assert.deepEqual(host.set('updates'), []);
    });

    it('keeps the trailing empty item of a set (B.3 capabilities)', () => {
      assert.deepEqual(host.set('capabilities'), ['xen-3.0-x86_64', 'hvm-3.0-x86_32', 'hvm-3.0-x86_32p', 'hvm-3.0-x86_64', '']);
    });

    it('reads maps whose values contain ": "-free punctuation, references and booleans', () => {
      assert.equal(host.map('software-version')?.product_version, '8.2.1');
      assert.equal(host.map('cpu_info')?.modelname, 'Intel(R) Xeon(R) Silver 4214R CPU @ 2.40GHz');
      assert.equal(host.map('other-config')?.agent_start_time, '1718000000.');
      assert.equal(host.ref('suspend-image-sr-uuid'), null);
      assert.equal(host.ref('control-domain-uuid'), '5b0e9f77-0d4e-4c1e-9d1f-2e3f4a5b6c7d');
      assert.deepEqual(host.set('resident-vms'), [
        '5b0e9f77-0d4e-4c1e-9d1f-2e3f4a5b6c7d',
        '7c2d4e6f-8a9b-4c0d-9e1f-203142536475',
      ]);
      assert.equal(host.bool('host-metrics-live'), true);
      assert.equal(host.bool('enabled'), true);
      assert.equal(host.text('address'), '192.168.10.11');
    });
  });

  describe('markers and values', () => {
    const record = parseXeRecord(
      printRecord(
        fieldsOf([
          ['uuid', '( RO)', '3b8f7a3e-5c1d-4e2a-9f6b-1a2b3c4d5e6f'],
          ['name-label', '( RW)', 'a: b; c'],
          ['blocked', '(SRO)', 'x; y'],
          ['allowed', '(SRW)', 'z'],
          ['config', '(MRO)', 'url: http://example.test:8080/a; empty: ; k: v: w'],
          ['other', '(MRW)', '__proto__: polluted'],
          ['old', '( RO)', 'true', 'deprecated'],
        ]),
      ),
    );

    it('maps each of the six markers to kind and access', () => {
      assert.deepEqual(
        record.fields.map((field) => `${field.kind}/${field.access}`),
        ['scalar/RO', 'scalar/RW', 'set/RO', 'set/RW', 'map/RO', 'map/RW', 'scalar/RO'],
      );
      assert.equal(record.field('old')?.deprecated, true);
      assert.equal(record.bool('old'), true);
    });

    it('keeps a value containing ": " whole, splitting key from value at the aligned column', () => {
      assert.equal(record.text('name-label'), 'a: b; c');
    });

    it('splits map items at their first ": " and keeps empty values', () => {
      assert.deepEqual(record.map('config'), { url: 'http://example.test:8080/a', empty: '', k: 'v: w' });
    });

    it('keeps a __proto__ map key as an ordinary key', () => {
      const map = record.map('other');
      assert.equal(Object.getPrototypeOf(map), Object.prototype);
      assert.deepEqual(Object.entries(map ?? {}), [['__proto__', 'polluted']]);
    });

    it('throws XeParseError naming the field line for values of the wrong shape', () => {
      const notBool = parseErrorOf(() => record.bool('name-label'));
      assert.equal(notBool.line, 2);
      assert.equal(notBool.offendingLine, '          name-label ( RW): a: b; c');
      assert.equal(parseErrorOf(() => record.map('blocked')).line, 3);
      assert.equal(parseErrorOf(() => record.ref('allowed')).line, 4);
    });

    it('rejects a map with a repeated key instead of picking one', () => {
      const repeated = parseXeRecord(printRecord(fieldsOf([['m', '(MRO)', 'a: 1; a: 2']])));
      assert.match(parseErrorOf(() => repeated.map('m')).message, /repeated key/);
    });
  });

  describe('empty and single-record output', () => {
    it('reads empty output (no match) as no records', () => {
      assert.deepEqual(parseXeRecords(''), []);
    });

    it('requires exactly one record from param-list output', () => {
      const empty = parseErrorOf(() => parseXeRecord('', 'pool-param-list output'));
      assert.deepEqual([empty.what, empty.line, empty.offendingLine], ['pool-param-list output', 1, '']);
      const two = parseErrorOf(() => parseXeRecord(fixture('xe/host-list-params.txt')));
      assert.deepEqual([two.line, two.offendingLine], [6, 'uuid ( RO)          : 0a1b2c3d-1111-4aaa-8bbb-000000000001']);
    });
  });

  describe('garbage and truncated output gives XeParseError at the first offending line', () => {
    it('output cut in the middle of a line', () => {
      assertParseError(fixture('xe/garbage/pool-list-cut-mid-line.txt'), 4, '              master ( RO): 0a1b2c3d');
    });

    it('output cut in the middle of a record, at a line end', () => {
      const error = assertParseError(
        fixture('xe/garbage/pool-list-cut-mid-record.txt'),
        3,
        '    name-description ( RW): ',
      );
      assert.match(error.message, /two blank lines/);
    });

    it('a last record without its two blank lines, or with only one', () => {
      assertParseError(fixture('xe/garbage/pool-list-no-trailing-blank-lines.txt'), 5, POOL_DEFAULT_SR_LINE);
      assertParseError(fixture('xe/garbage/pool-list-one-trailing-blank-line.txt'), 5, POOL_DEFAULT_SR_LINE);
    });

    it('one or three blank lines between records', () => {
      assertParseError(
        fixture('xe/garbage/host-list-one-blank-line-between-records.txt'),
        5,
        'uuid ( RO)                : 0a1b2c3d-1111-4aaa-8bbb-000000000001',
      );
      assertParseError(fixture('xe/garbage/host-list-three-blank-lines-between-records.txt'), 6, '');
    });

    it('records glued together without blank lines', () => {
      const pool = fixture('xe/pool-list.txt');
      assertParseError(pool.replace(/\n\n\n$/, '\n') + pool, 6, 'uuid ( RO)                : 3b8f7a3e-5c1d-4e2a-9f6b-1a2b3c4d5e6f');
    });

    it('a misaligned colon', () => {
      assertParseError(
        fixture('xe/garbage/pool-list-misaligned-colon.txt'),
        5,
        '           default-SR ( RW): 6c9e2f10-7d3a-2b4c-5e6f-a1b2c3d4e5f6',
      );
    });

    it('a record whose colon column is not 4 after its longest key', () => {
      // Consistently aligned, but to column 16 where W = 4 + 10 puts the colon in column 15.
      assertParseError('uuid ( RO)     : a\n     name ( RW): b\n\n\n', 1, 'uuid ( RO)     : a');
    });

    it('a field that appears twice', () => {
      const doubled = printRecord(fieldsOf([['uuid', '( RO)', 'a'], ['name', '( RW)', 'b'], ['name', '( RW)', 'c']]));
      assertParseError(doubled, 3, '    name ( RW): c');
    });

    it('CRLF line ends, a login banner, an HTML error page, binary junk', () => {
      assertParseError(fixture('xe/garbage/pool-list-crlf.txt'), 1, 'uuid ( RO)                : 3b8f7a3e-5c1d-4e2a-9f6b-1a2b3c4d5e6f\r');
      assertParseError(fixture('xe/garbage/pool-list-after-motd.txt'), 1, 'Last login: Tue Jun 11 09:12:44 2024 from 192.168.10.5');
      assertParseError(fixture('xe/garbage/html-error-page.txt'), 1, '<!DOCTYPE html>');
      const junk = fixture('xe/garbage/binary-junk.txt');
      assertParseError(junk, 1, junk.split('\n')[0]?.slice(0, 200) ?? '');
    });

    it('a lone newline where records or nothing were expected', () => {
      assertParseError('\n', 1, '');
    });

    it('cuts a long offending line to 200 characters', () => {
      const error = assertParseError(`${'x'.repeat(500)}\n`, 1, 'x'.repeat(200));
      assert.ok(error.message.length < 400);
    });
  });

  describe('recordPrinter', () => {
    it('joins records, each followed by its two blank lines', () => {
      const one = fieldsOf([['uuid', '( RO)', 'a']]);
      assert.equal(printRecords([one, one]), 'uuid ( RO)    : a\n\n\nuuid ( RO)    : a\n\n\n');
    });
  });

  describe('fuzz: truncated or mutated fixtures', () => {
    const random = seededRandom(0x5eed);


    for (const name of RECORD_FIXTURES) {
      it(`${name}: cut at every position, it parses as an exact prefix of records or fails with XeParseError`, () => {
        const text = fixture(`xe/${name}`);
        const original = parseXeRecords(text);
        let acceptedCuts = 0;
        for (let cut = 0; cut < text.length; cut++) {
          const truncated = text.slice(0, cut);
          const records = parseOrParseError(truncated);
          if (records === undefined) continue;
          acceptedCuts++;
          assert.equal(truncated, reprint(original.slice(0, records.length)), `cut at ${cut} must fall between records`);
          assert.deepEqual(records, original.slice(0, records.length));
        }
        assert.equal(acceptedCuts, original.length, 'exactly the cuts between records (and the empty cut) pass');
      });

      it(`${name}: a mutated output reprints exactly as read, or fails with XeParseError`, () => {
        const text = fixture(`xe/${name}`);
        for (let attempt = 0; attempt < 300; attempt++) {
          const mutated = mutate(text, random);
          const records = parseOrParseError(mutated);
          if (records === undefined) continue;
          assert.equal(reprint(records), mutated);
          for (const record of records) readEveryField(record);
        }
      });
    }
  });
});

const POOL_DEFAULT_SR_LINE = '          default-SR ( RW): 6c9e2f10-7d3a-2b4c-5e6f-a1b2c3d4e5f6';

function parseOrParseError(text: string): XeRecord[] | undefined {
  try {
    return parseXeRecords(text);
  } catch (error) {
    if (error instanceof XeParseError) return undefined;
    throw error;
  }
}

/** Every typed reader either returns or throws XeParseError, whatever the value. */
function readEveryField(record: XeRecord): void {
  for (const field of record.fields) {
    const readers = [record.ref, record.set, record.map, record.bool, record.text].map((reader) => reader.bind(record));
    for (const read of readers) {
      try {
        read(field.name);
      } catch (error) {
        assert.ok(error instanceof XeParseError, String(error));
      }
    }
  }
}

const MUTATION_CHARACTERS = [' ', ':', '\n', '\r', '\0', ';', '(', ')', 'x', '\u00e9', '\ufffd'];

/** One random change: replace, insert or delete a character, or duplicate or drop a line. */
function mutate(text: string, random: () => number): string {
  const at = randomInt(random, text.length);
  const character = MUTATION_CHARACTERS[randomInt(random, MUTATION_CHARACTERS.length)] ?? 'x';
  const lines = text.split('\n');
  const lineIndex = randomInt(random, lines.length);
  switch (randomInt(random, 5)) {
    case 0:
      return text.slice(0, at) + character + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + character + text.slice(at);
    case 2:
      return text.slice(0, at) + text.slice(at + 1);
    case 3:
      return [...lines.slice(0, lineIndex + 1), ...lines.slice(lineIndex)].join('\n');
    default:
      return [...lines.slice(0, lineIndex), ...lines.slice(lineIndex + 1)].join('\n');
  }
}
