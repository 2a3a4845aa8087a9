import type * as Ssh2 from 'ssh2';

let loaded: typeof Ssh2 | undefined;

/**
 * ssh2, loaded when the first connection or key needs it. Loading it builds its crypto tables and
 * pulls in zlib, about 50 ms; the extension must not spend that in activate() (VS Code counts it
 * against activation), and the tree can show the configured pools before anything connects.
 */
export function ssh2(): typeof Ssh2 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require is the point
  loaded ??= require('ssh2') as typeof Ssh2;
  return loaded;
}
