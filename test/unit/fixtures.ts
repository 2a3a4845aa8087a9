import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Tests run from `out/`, fixtures stay in `test/fixtures/`: resolve from the repository root. */
const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** Reads a fixture file byte-for-byte as UTF-8 text, e.g. `fixture('xe/pool-list.txt')`. */
export function fixture(relativePath: string): string {
  return readFileSync(path.join(repoRoot, 'test', 'fixtures', relativePath), 'utf8');
}
