/**
 * The `ssh` command line of Open SSH Terminal: the same host keys, key file and port the extension uses, so the
 * terminal never asks again about a key the extension already trusts, never trusts one it does not, and never writes
 * ~/.ssh/known_hosts.
 */
import { knownHostsName, type HostEndpoint, type HostKey } from './hostKeys';

export interface TerminalLogin {
  readonly user: string;
  readonly address: string;
  readonly port: number;
  readonly keyFile: string | undefined;
  /** known_hosts files to trust: the extension's pinned keys (written out) and xenPools.knownHostsFile. */
  readonly knownHostsFiles: readonly string[];
}

/** known_hosts lines for keys the extension pinned for an endpoint. */
export function knownHostsLines(endpoint: HostEndpoint, keys: readonly HostKey[]): string {
  return keys.map((key) => `${knownHostsName(endpoint)} ${key.type} ${key.blob.toString('base64')}\n`).join('');
}

/** ssh's config parser takes double quotes around each file of UserKnownHostsFile (a path may hold spaces). */
function quoted(file: string): string {
  return `"${file.replace(/"/g, '')}"`;
}

export function sshTerminalArgs(login: TerminalLogin): string[] {
  return [
    '-o',
    `UserKnownHostsFile=${login.knownHostsFiles.map(quoted).join(' ')}`,
    // Unknown or changed keys are refused, never asked about or added: the extension decides trust.
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'UpdateHostKeys=no',
    ...(login.port !== 22 ? ['-p', String(login.port)] : []),
    ...(login.keyFile ? ['-i', login.keyFile, '-o', 'IdentitiesOnly=yes'] : []),
    '--',
    `${login.user}@${login.address}`,
  ];
}
