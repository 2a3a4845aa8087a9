import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ParsedFileCache } from './fileCache';
import { withFileLock } from './fileLock';

/** A public host key as the SSH protocol carries it: the wire-format blob and its type name. */
export interface HostKey {
  readonly type: string;
  readonly blob: Buffer;
}

/** Where a host is reached: known_hosts writes non-22 ports as `[host]:port`. */
export interface HostEndpoint {
  readonly host: string;
  readonly port: number;
}

/** `SHA256:<base64 without padding>`, the form OpenSSH prints and admins compare. */
export function fingerprint(key: HostKey): string {
  return `SHA256:${createHash('sha256').update(key.blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type is the first string inside the blob (uint32 length + bytes). */
export function hostKeyFromBlob(blob: Buffer): HostKey {
  if (blob.length < 4) throw new Error('host key blob too short');
  const typeLength = blob.readUInt32BE(0);
  if (typeLength === 0 || typeLength > 64 || 4 + typeLength > blob.length) throw new Error('host key blob has no valid type');
  return { type: blob.toString('latin1', 4, 4 + typeLength), blob };
}

function sameKey(a: HostKey, b: HostKey): boolean {
  return a.type === b.type && a.blob.length === b.blob.length && timingSafeEqual(a.blob, b.blob);
}

/** The name known_hosts stores for an endpoint. */
export function knownHostsName({ host, port }: HostEndpoint): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** One usable line of a known_hosts file, its host patterns compiled once. */
interface KnownHostsEntry {
  readonly marker: '' | '@revoked' | '@cert-authority';
  /** The line's host patterns as written, and compiled. */
  readonly patterns: string;
  readonly matches: (name: string) => boolean;
  readonly key: HostKey;
  /** Its place in the file: keys are returned in the file's order. */
  readonly line: number;
}

/**
 * A parsed known_hosts file, indexed: a connect looks its host up twice, and matching every line's patterns cost
 * a millisecond per lookup in a file of 1,000 hosts (a second of CPU in a first probe of 1,000 hosts).
 */
interface KnownHostsIndex {
  /** Lines whose patterns are all plain names (no wildcard, negation or hash), by each name in lower case. */
  readonly byName: ReadonlyMap<string, readonly KnownHostsEntry[]>;
  /** The other lines (wildcards, negations, hashed names, markers): each is matched on every lookup. */
  readonly matched: readonly KnownHostsEntry[];
}

/** Plain host names match themselves only (case-insensitively), so they can be looked up instead of matched. */
const NOT_PLAIN = /[*?!|]/;

function indexKnownHosts(entries: readonly KnownHostsEntry[]): KnownHostsIndex {
  const byName = new Map<string, KnownHostsEntry[]>();
  const matched: KnownHostsEntry[] = [];
  for (const entry of entries) {
    if (entry.marker !== '' || NOT_PLAIN.test(entry.patterns)) {
      matched.push(entry);
      continue;
    }
    for (const name of new Set(entry.patterns.toLowerCase().split(','))) {
      const named = byName.get(name);
      if (named) named.push(entry);
      else byName.set(name, [entry]);
    }
  }
  return { byName, matched };
}

/** The entries of `index` whose patterns match `name`, in the file's order. */
function entriesFor(index: KnownHostsIndex, name: string): KnownHostsEntry[] {
  const found = [...(index.byName.get(name.toLowerCase()) ?? []), ...index.matched.filter((entry) => entry.marker === '@revoked' || entry.matches(name))];
  return found.sort((a, b) => a.line - b.line);
}

function parseKnownHosts(text: string): KnownHostsIndex {
  const entries: KnownHostsEntry[] = [];
  for (const [lineNumber, rawLine] of text.split('\n').entries()) {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0] === '@revoked' || fields[0] === '@cert-authority' ? fields.shift() as KnownHostsEntry['marker'] : '';
    const [patterns, type, base64] = fields;
    if (!patterns || !type || !base64) continue; // OpenSSH skips malformed lines too
    const blob = Buffer.from(base64, 'base64');
    try {
      const key = hostKeyFromBlob(blob);
      if (key.type === type) entries.push({ marker, patterns, matches: hostPatternMatcher(patterns), key, line: lineNumber });
    } catch {
      // A corrupt key on one line must not make the whole file unusable; OpenSSH ignores it as well.
    }
  }
  return indexKnownHosts(entries);
}

/**
 * OpenSSH's `*` and `?` host patterns, case-insensitive, matched without backtracking blow-up: on a mismatch only
 * the last `*` takes one more character, so a lookup costs at most pattern × name steps (a regular expression of
 * many `.*` backtracks exponentially: 12 stars cost seconds per lookup, on every connect).
 */
function globMatcher(pattern: string): (name: string) => boolean {
  const glob = pattern.toLowerCase();
  return (value) => {
    const name = value.toLowerCase();
    let p = 0;
    let n = 0;
    let star = -1;
    let resume = 0;
    while (n < name.length) {
      if (p < glob.length && (glob[p] === '?' || (glob[p] !== '*' && glob[p] === name[n]))) {
        p++;
        n++;
      } else if (p < glob.length && glob[p] === '*') {
        star = p++;
        resume = n;
      } else if (star >= 0) {
        p = star + 1;
        n = ++resume;
      } else {
        return false;
      }
    }
    while (glob[p] === '*') p++;
    return p === glob.length;
  };
}

function matchesHashed(pattern: string, name: string): boolean {
  const [, magic, salt, hash] = pattern.split('|');
  if (magic !== '1' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** OpenSSH semantics: any negated match excludes the line, otherwise one positive match includes it. */
function hostPatternMatcher(patterns: string): (name: string) => boolean {
  if (patterns.startsWith('|')) return (name) => matchesHashed(patterns, name);
  const compiled = patterns.split(',').map((pattern) => {
    const negated = pattern.startsWith('!');
    return { negated, matches: globMatcher(negated ? pattern.slice(1) : pattern) };
  });
  return (name) => {
    let matched = false;
    for (const { negated, matches } of compiled) {
      if (matches(name)) {
        if (negated) return false;
        matched = true;
      }
    }
    return matched;
  };
}

/** Keys the user's OpenSSH known_hosts files hold for an endpoint (hashed entries included). */
export class KnownHostsFiles {
  private readonly cache = new ParsedFileCache((data) => parseKnownHosts(data.toString('utf8')));

  constructor(private readonly files: readonly string[]) {}

  async lookup(endpoint: HostEndpoint): Promise<{ trusted: HostKey[]; revoked: HostKey[] }> {
    const name = knownHostsName(endpoint);
    const trusted: HostKey[] = [];
    const revoked: HostKey[] = [];
    for (const file of this.files) {
      // A missing known_hosts (none written yet) is normal.
      const index = await this.cache.read(file);
      for (const entry of index ? entriesFor(index, name) : []) {
        if (entry.marker === '@revoked') revoked.push(entry.key); // revocations apply to every host
        else if (entry.marker === '') trusted.push(entry.key);
        // @cert-authority lines need certificate host keys, which XenServer hosts do not use.
      }
    }
    return { trusted, revoked };
  }

  /** The first of the files that holds a trusted key for the endpoint, to say where to remove it. */
  async fileHolding(endpoint: HostEndpoint): Promise<string | undefined> {
    const name = knownHostsName(endpoint);
    for (const file of this.files) {
      const index = await this.cache.read(file);
      if (index && entriesFor(index, name).some((entry) => entry.marker === '')) return file;
    }
    return undefined;
  }
}

interface PinnedKeyRecord {
  type: string;
  key: string;
  pinnedAt: string;
}

/**
 * The product's own trust store: keys the admin accepted on first use. A JSON file, written
 * atomically (temp file + rename) so a crash never leaves half a store behind.
 */
export class PinnedHostKeys {
  private readonly cache = new ParsedFileCache((data) => JSON.parse(data.toString('utf8')) as Record<string, PinnedKeyRecord[]>);

  constructor(private readonly file: string) {}

  async lookup(endpoint: HostEndpoint): Promise<HostKey[]> {
    const records = (await this.read())[knownHostsName(endpoint)] ?? [];
    return records.map((r) => ({ type: r.type, blob: Buffer.from(r.key, 'base64') }));
  }

  async pin(endpoint: HostEndpoint, key: HostKey): Promise<void> {
    const name = knownHostsName(endpoint);
    await this.update((store) => {
      const existing = store[name] ?? [];
      if (existing.some((r) => r.type === key.type && r.key === key.blob.toString('base64'))) return false;
      store[name] = [...existing, { type: key.type, key: key.blob.toString('base64'), pinnedAt: new Date().toISOString() }];
      return true;
    });
  }

  /** Forgets every key pinned for the endpoint (a reinstalled host); returns how many there were. */
  async forget(endpoint: HostEndpoint): Promise<number> {
    const name = knownHostsName(endpoint);
    let removed = 0;
    await this.update((store) => {
      removed = store[name]?.length ?? 0;
      delete store[name];
      return removed > 0;
    });
    return removed;
  }

  /**
   * Read, change, write under a lock every writer of this file takes (other windows too), so no writer loses
   * another's entry; the write goes to a temporary file of its own and is renamed over the store.
   */
  private update(change: (store: Record<string, PinnedKeyRecord[]>) => boolean): Promise<void> {
    return withFileLock(`${this.file}.lock`, async () => {
      // Read the file itself, not the cache: another window may have pinned a key a moment ago.
      this.cache.invalidate(this.file);
      const store = { ...(await this.read()) };
      if (!change(store)) return;
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      const temp = `${this.file}.${process.pid}.${randomUUID()}.tmp`;
      await fs.writeFile(temp, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600 });
      await fs.rename(temp, this.file);
      this.cache.invalidate(this.file);
    });
  }

  private async read(): Promise<Record<string, PinnedKeyRecord[]>> {
    try {
      return (await this.cache.read(this.file)) ?? {};
    } catch (error) {
      throw new Error(`cannot read the pinned host keys in ${this.file}: ${(error as Error).message}`);
    }
  }
}

/** The host presented a key that differs from every key on record: possibly a reinstall, possibly an attack. */
export class HostKeyMismatchError extends Error {
  constructor(
    readonly endpoint: HostEndpoint,
    readonly presented: string,
    readonly known: readonly string[],
    /** Where the trusted key is on record: a known_hosts file (named), or the extension's own store of pinned keys. */
    readonly source: 'known_hosts' | 'pinned',
    knownHostsFile?: string,
  ) {
    const name = knownHostsName(endpoint);
    const remedy =
      source === 'pinned'
        ? 'The trusted key was trusted on first use by XenServer Pools and is kept in its own store (not in known_hosts). If the host was reinstalled, run "XenServer: Forget Host Key…" on it, connect again and compare the new fingerprint with the host\'s own'
        : `The trusted key is in ${knownHostsFile ?? 'known_hosts'}. If the host was reinstalled, remove it there (ssh-keygen -R ${name} -f ${knownHostsFile ?? '~/.ssh/known_hosts'}) and connect again`;
    super(`Host key for ${name} has CHANGED: it presented ${presented}, but the trusted key is ${known.join(' or ')}. ${remedy}; otherwise someone may be intercepting the connection.`);
    this.name = 'HostKeyMismatchError';
  }
}

/** The admin declined an unknown key, or it is revoked. */
export class HostKeyRejectedError extends Error {
  constructor(
    readonly endpoint: HostEndpoint,
    readonly presented: string,
    reason: string,
  ) {
    super(`Host key ${presented} of ${knownHostsName(endpoint)} was not accepted: ${reason}`);
    this.name = 'HostKeyRejectedError';
  }
}

/** What the caller is asked when a host presents a key nobody has seen: trust it (and pin it) or not. */
export type ConfirmUnknownHostKey = (question: { endpoint: HostEndpoint; keyType: string; fingerprint: string }) => Promise<boolean>;

/**
 * Decides whether a presented host key is trusted. Known (known_hosts or pinned) → trusted;
 * revoked → refused; different from a known key of the same host → refused with both
 * fingerprints; unknown → the caller decides (trust on first use) and an accepted key is pinned.
 * There is deliberately no "accept anything" mode.
 */
export class HostKeyVerifier {
  constructor(
    private readonly knownHosts: KnownHostsFiles,
    private readonly pinned: PinnedHostKeys,
    private readonly confirmUnknown: ConfirmUnknownHostKey,
  ) {}

  /**
   * Key types already trusted for this endpoint. The connection offers only these to the server,
   * as OpenSSH prefers known types, so a host with several keys is not refused for showing a
   * different (unknown) one than the one on record.
   */
  async knownKeyTypes(endpoint: HostEndpoint): Promise<string[]> {
    const { trusted } = await this.knownHosts.lookup(endpoint);
    return [...new Set([...trusted, ...(await this.pinned.lookup(endpoint))].map((k) => k.type))];
  }

  /**
   * For a reinstalled host: forgets the keys pinned for it, so the next connection asks about its new key. A key in
   * a known_hosts file is not this store's to remove: the file that holds one is named instead.
   */
  async forgetPinned(endpoint: HostEndpoint): Promise<{ forgotten: number; knownHostsFile?: string }> {
    const forgotten = await this.pinned.forget(endpoint);
    const knownHostsFile = await this.knownHosts.fileHolding(endpoint);
    return { forgotten, ...(knownHostsFile ? { knownHostsFile } : {}) };
  }

  async verify(endpoint: HostEndpoint, presented: HostKey): Promise<void> {
    const presentedFingerprint = fingerprint(presented);
    const { trusted, revoked } = await this.knownHosts.lookup(endpoint);
    if (revoked.some((k) => sameKey(k, presented))) {
      throw new HostKeyRejectedError(endpoint, presentedFingerprint, 'it is marked @revoked in known_hosts');
    }
    const pinned = await this.pinned.lookup(endpoint);
    const known = [...trusted, ...pinned];
    if (known.some((k) => sameKey(k, presented))) return;
    if (known.length > 0) {
      const fingerprints = [...new Set(known.map(fingerprint))];
      if (trusted.length > 0) throw new HostKeyMismatchError(endpoint, presentedFingerprint, fingerprints, 'known_hosts', await this.knownHosts.fileHolding(endpoint));
      throw new HostKeyMismatchError(endpoint, presentedFingerprint, fingerprints, 'pinned');
    }
    const accepted = await this.confirmUnknown({ endpoint, keyType: presented.type, fingerprint: presentedFingerprint });
    if (!accepted) throw new HostKeyRejectedError(endpoint, presentedFingerprint, 'the key is unknown and was not trusted');
    await this.pinned.pin(endpoint, presented);
  }
}
