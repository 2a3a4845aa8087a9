import { strict as assert } from 'node:assert';
import { learntFrom, parseDeclaredPools, withLearnt } from '../../../src/declaredPools';

const good = { name: 'pool-a', uuid: '0a1b2c3d-0000-4aaa-8bbb-00000000000a', members: [{ address: '10.0.0.1', name: 'h1', uuid: '0a1b2c3d-0001-4aaa-8bbb-000000000001' }] };

describe('xenPools.pools: every entry checked, a bad one skipped with its reason, the rest loaded (issue 12, finding 6)', () => {
  const shapes: [string, unknown, RegExp][] = [
    ['a pool without members', { name: 'p' }, /xenPools\.pools\[0\] \("p"\): members/],
    ['a null member', { name: 'p', members: [null] }, /members\[0\]: must be an object/],
    ['members as a string', { name: 'p', members: '10.0.0.1' }, /members: must be a list/],
    ['an empty object', {}, /xenPools\.pools\[0\]: name: must be a non-empty string/],
    ['an empty address', { name: 'p', members: [{ address: '' }] }, /members\[0\]\.address: the address is empty/],
    ['a blank address', { name: 'p', members: [{ address: '  ' }] }, /members\[0\]\.address/],
    ['an address with a port', { name: 'p', members: [{ address: '10.0.0.1:22' }] }, /members\[0\]\.address: "10\.0\.0\.1:22" has a port \(:22\): give the address alone/],
    ['a bad pool uuid', { name: 'p', uuid: 'nope', members: [{ address: '10.0.0.1' }] }, /uuid: "nope" is not a UUID/],
    ['a bad member uuid', { name: 'p', members: [{ address: '10.0.0.1', uuid: 'x' }] }, /members\[0\]\.uuid/],
    ['port 0', { name: 'p', port: 0, members: [{ address: '10.0.0.1' }] }, /port: must be an integer from 1 to 65535/],
    ['port 70000', { name: 'p', port: 70000, members: [{ address: '10.0.0.1' }] }, /port/],
    ['port 1.5', { name: 'p', port: 1.5, members: [{ address: '10.0.0.1' }] }, /port/],
    ['an unknown auth', { name: 'p', auth: 'kerberos', members: [{ address: '10.0.0.1' }] }, /auth: must be one of key, password, agent/],
    ['a user with a space', { name: 'p', user: 'ro ot', members: [{ address: '10.0.0.1' }] }, /user/],
    ['a key file that is not a string', { name: 'p', keyFile: 3, members: [{ address: '10.0.0.1' }] }, /keyFile/],
    ['a string instead of a pool', 'pool-a', /xenPools\.pools\[0\]: must be an object/],
  ];
  for (const [what, entry, message] of shapes) {
    it(`skips ${what} and loads the good pool after it`, () => {
      const { pools, problems } = parseDeclaredPools([entry, good]);
      assert.deepEqual(pools.map((p) => p.inventory.poolName), ['pool-a']);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0] ?? '', message);
    });
  }

  it('reads a setting that is not a list as no pools, with a problem', () => {
    assert.deepEqual(parseDeclaredPools({ name: 'x' }).pools, []);
    assert.match(parseDeclaredPools('x').problems[0] ?? '', /must be a list/);
    assert.deepEqual(parseDeclaredPools(undefined), { pools: [], problems: [] });
  });

  it('skips a second pool with the same name or UUID', () => {
    const { pools, problems } = parseDeclaredPools([good, { ...good, name: 'pool-b' }]);
    assert.equal(pools.length, 1);
    assert.match(problems[0] ?? '', /xenPools\.pools\[1\].*same pool as xenPools\.pools\[0\]/);
  });

  it('accepts IPv6 members, with or without brackets, and DNS names', () => {
    const { pools, problems } = parseDeclaredPools([{ name: 'p6', members: [{ address: 'fd00::1' }, { address: '[fd00::2]' }, { address: 'xcp-host3.example.org' }] }]);
    assert.deepEqual(problems, []);
    assert.deepEqual(pools[0]?.inventory.members.map((m) => m.address), ['fd00::1', 'fd00::2', 'xcp-host3.example.org']);
  });

  it('marks members declared without a UUID, so their first probe teaches it (not an identity mismatch)', () => {
    const { pools } = parseDeclaredPools([{ name: 'p', members: [{ address: '10.0.0.1' }, { address: '10.0.0.2', uuid: '0a1b2c3d-0002-4aaa-8bbb-000000000002' }] }]);
    assert.deepEqual(pools[0]?.inventory.members.map((m) => m.provisionalUuid ?? false), [true, false]);
  });
});

describe('what a declared pool learnt, kept across restarts (issue 12, finding 6)', () => {
  const HOST_A = '0a1b2c3d-000a-4aaa-8bbb-00000000000a';
  const HOST_B = '0a1b2c3d-000b-4aaa-8bbb-00000000000b';
  const declared = () => {
    const [pool] = parseDeclaredPools([{ name: 'p', master: '10.0.0.1', members: [{ address: '10.0.0.1' }, { address: '10.0.0.2', uuid: HOST_B }, { address: '10.0.0.3' }] }]).pools;
    assert.ok(pool);
    return pool.inventory;
  };

  it('starts with HA unknown and stand-in UUIDs for members without one', () => {
    const inventory = declared();
    assert.equal(inventory.haUnknown, true);
    assert.deepEqual(inventory.members.map((m) => m.provisionalUuid ?? false), [true, false, true]);
  });

  it('gives a member the UUID its host answered with, and the master too; HA as read', () => {
    const inventory = withLearnt(declared(), { members: { '10.0.0.1': HOST_A }, haEnabled: false });
    assert.deepEqual(inventory.members[0], { uuid: HOST_A, name: '10.0.0.1', address: '10.0.0.1' });
    assert.equal(inventory.masterUuid, HOST_A);
    assert.equal(inventory.members[2]?.provisionalUuid, true);
    assert.equal(inventory.haEnabled, false);
    assert.equal(inventory.haUnknown, undefined);
  });

  it('never overrides a UUID the settings give, never gives one host to two members, keeps HA unknown when it was not read', () => {
    const inventory = withLearnt(declared(), { members: { '10.0.0.2': HOST_A, '10.0.0.3': HOST_B, '10.0.0.1': 'not-a-uuid' } });
    assert.equal(inventory.members[1]?.uuid, HOST_B);
    assert.equal(inventory.members[2]?.provisionalUuid, true, 'HOST_B is member 2 already');
    assert.equal(inventory.members[0]?.provisionalUuid, true);
    assert.equal(inventory.haUnknown, true);
  });

  it('learntFrom keeps the known UUIDs and HA only once read', () => {
    assert.deepEqual(learntFrom(declared()), { members: { '10.0.0.2': HOST_B } });
    assert.equal(learntFrom(withLearnt(declared(), { members: {}, haEnabled: true })).haEnabled, true);
  });
});
