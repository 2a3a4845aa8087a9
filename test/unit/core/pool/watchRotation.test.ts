import { strict as assert } from 'node:assert';
import { WatchRotation, type RotationPool } from '../../../../src/core/pool/watchRotation';

/** A pool of `hosts` members whose host `master` is its master while it is healthy (null: not healthy). */
const pool = (p: number, hosts: number, master: number | null = 1): RotationPool => ({
  poolUuid: `pool-${p}`,
  memberUuids: Array.from({ length: hosts }, (_, h) => `p${p}-h${h + 1}`),
  healthyMasterUuid: master === null ? undefined : `p${p}-h${master}`,
});
const flat = (chosen: Map<string, string[]>) => [...chosen.values()].flat();

describe('the background watch\'s rotation (issue 13: its CPU over 1,024 hosts)', () => {
  it('probes every host each tick while the other members fit in the budget', () => {
    const rotation = new WatchRotation();
    const pools = [pool(1, 16), pool(2, 3)];
    for (let tick = 0; tick < 3; tick++) assert.equal(flat(rotation.select(pools, 32)).length, 19);
  });

  it('over 64 pools of 16: every master each tick, the 960 others in turn, each once in 30 ticks of 32', () => {
    const rotation = new WatchRotation();
    const pools = Array.from({ length: 64 }, (_, p) => pool(p, 16));
    const probed = new Map<string, number>();
    for (let tick = 0; tick < 30; tick++) {
      const hosts = flat(rotation.select(pools, 32));
      assert.equal(hosts.length, 64 + 32);
      for (const p of pools) assert.ok(hosts.includes(p.healthyMasterUuid ?? ''), `tick ${tick} skipped the master of ${p.poolUuid}`);
      for (const h of hosts) probed.set(h, (probed.get(h) ?? 0) + 1);
    }
    assert.equal(probed.size, 1024);
    assert.ok([...probed].every(([h, n]) => (h.endsWith('-h1') ? n === 30 : n === 1)));
    // The 31st tick starts the turn again from the first.
    assert.ok(flat(rotation.select(pools, 32)).includes('p0-h2'));
  });

  it('a pool that is not healthy is probed whole each tick, outside the budget', () => {
    const rotation = new WatchRotation();
    const pools = [pool(1, 16, null), ...Array.from({ length: 8 }, (_, p) => pool(p + 2, 16))];
    const chosen = rotation.select(pools, 4);
    assert.deepEqual(chosen.get('pool-1'), pools[0]?.memberUuids);
    assert.equal(flat(chosen).length, 16 + 8 + 4);
  });

  it('starts the turn again when the host it was to probe next is gone', () => {
    const rotation = new WatchRotation();
    const before = [pool(1, 10)];
    assert.deepEqual(flat(rotation.select(before, 3)), ['p1-h1', 'p1-h2', 'p1-h3', 'p1-h4']);
    const after: RotationPool[] = [{ ...pool(1, 10), memberUuids: pool(1, 10).memberUuids.filter((h) => h !== 'p1-h5') }];
    assert.deepEqual(flat(rotation.select(after, 3)), ['p1-h1', 'p1-h2', 'p1-h3', 'p1-h4']);
    assert.deepEqual(flat(rotation.select(after, 3)), ['p1-h1', 'p1-h6', 'p1-h7', 'p1-h8']);
  });
});
