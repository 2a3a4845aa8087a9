import { strict as assert } from 'node:assert';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ParsedFileCache } from '../../../../src/core/ssh/fileCache';

describe('parsed file cache (known_hosts, pinned keys, private keys)', () => {
  let dir: string;
  let clock: number;
  let parses: number;
  let cache: ParsedFileCache<string>;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'xenpools-filecache-'));
    clock = 0;
    parses = 0;
    cache = new ParsedFileCache(
      (data) => {
        parses++;
        return data.toString('utf8').trim();
      },
      1_000,
      () => clock,
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parses a file once while it is unchanged, however often it is asked for', async () => {
    const file = path.join(dir, 'known_hosts');
    writeFileSync(file, 'one\n');
    const answers = await Promise.all(Array.from({ length: 50 }, () => cache.read(file)));
    assert.deepEqual(new Set(answers), new Set(['one']));
    clock += 5_000;
    assert.equal(await cache.read(file), 'one');
    assert.equal(parses, 1);
  });

  it('sees an edit once the revalidation time has passed, not before', async () => {
    const file = path.join(dir, 'known_hosts');
    writeFileSync(file, 'one\n');
    assert.equal(await cache.read(file), 'one');
    writeFileSync(file, 'two, longer\n');
    clock += 999;
    assert.equal(await cache.read(file), 'one');
    clock += 1;
    assert.equal(await cache.read(file), 'two, longer');
  });

  it('sees a file replaced by rename (as ssh-keygen -R does), even with the same size', async () => {
    const file = path.join(dir, 'known_hosts');
    writeFileSync(file, 'aaa\n');
    assert.equal(await cache.read(file), 'aaa');
    writeFileSync(`${file}.new`, 'bbb\n');
    renameSync(`${file}.new`, file);
    clock += 1_000;
    assert.equal(await cache.read(file), 'bbb');
  });

  it('answers undefined for a missing file and notices when it appears', async () => {
    const file = path.join(dir, 'host-keys.json');
    assert.equal(await cache.read(file), undefined);
    writeFileSync(file, 'pinned\n');
    clock += 1_000;
    assert.equal(await cache.read(file), 'pinned');
  });

  it('re-reads at once after invalidate (this process just wrote the file)', async () => {
    const file = path.join(dir, 'host-keys.json');
    writeFileSync(file, 'before\n');
    assert.equal(await cache.read(file), 'before');
    writeFileSync(file, 'after\n');
    cache.invalidate(file);
    assert.equal(await cache.read(file), 'after');
  });

  it('throws read errors other than a missing file, and does not keep them', async () => {
    await assert.rejects(cache.read(dir), /EISDIR/);
    await assert.rejects(cache.read(dir), /EISDIR/);
  });
});
