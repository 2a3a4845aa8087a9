import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { utils } from 'ssh2';
import {
  fingerprint,
  hostKeyFromBlob,
  HostKeyMismatchError,
  HostKeyRejectedError,
  HostKeyVerifier,
  KnownHostsFiles,
  PinnedHostKeys,
  type HostKey,
} from '../../../../src/core/ssh/hostKeys';

function newHostKey(): { key: HostKey; line: string } {
  // ssh2's generator drops a leading zero byte of an ed25519 public key (about 1 key in 250), which its own parser
  // then rejects as "Malformed OpenSSH public key": such a pair is drawn again. (Seen as a CI flake of this file.)
  let parsed: ReturnType<typeof utils.parseKey> = new Error('no key drawn');
  for (let attempt = 0; attempt < 20 && parsed instanceof Error; attempt++) parsed = utils.parseKey(utils.generateKeyPairSync('ed25519').public);
  if (parsed instanceof Error) throw parsed;
  const blob = parsed.getPublicSSH();
  return { key: hostKeyFromBlob(blob), line: `ssh-ed25519 ${blob.toString('base64')}` };
}

describe('host key verification', () => {
  let dir: string;
  let knownHostsFile: string;
  let pinnedFile: string;
  const a = newHostKey();
  const b = newHostKey();
  const endpoint = { host: '127.77.0.1', port: 22 };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'xenpools-hostkeys-'));
    knownHostsFile = path.join(dir, 'known_hosts');
    pinnedFile = path.join(dir, 'pinned', 'host-keys.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function verifier(answer: boolean, asked: string[] = []): HostKeyVerifier {
    return new HostKeyVerifier(new KnownHostsFiles([knownHostsFile]), new PinnedHostKeys(pinnedFile), async (q) => {
      asked.push(q.fingerprint);
      return answer;
    });
  }

  it('prints fingerprints exactly as ssh-keygen -l does', () => {
    writeFileSync(path.join(dir, 'key.pub'), `${a.line}\n`);
    const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'key.pub')], { encoding: 'utf8' });
    assert.equal(out.split(' ')[1], fingerprint(a.key));
  });

  it('trusts a key listed in known_hosts, plain or hashed by ssh-keygen -H, with a port', async () => {
    writeFileSync(knownHostsFile, `# comment\n[127.77.0.1]:2222 ${a.line}\n127.77.0.1 ${b.line}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', knownHostsFile], { stdio: 'ignore' });
    assert.match(readFileSync(knownHostsFile, 'utf8'), /^\|1\|/m);
    const asked: string[] = [];
    await verifier(false, asked).verify({ host: '127.77.0.1', port: 2222 }, a.key);
    await verifier(false, asked).verify(endpoint, b.key);
    assert.deepEqual(asked, []);
  });

  it('matches wildcard and negated patterns like OpenSSH', async () => {
    writeFileSync(knownHostsFile, `127.77.0.*,!127.77.0.9 ${a.line}\n`);
    await verifier(false).verify(endpoint, a.key);
    await assert.rejects(verifier(false).verify({ host: '127.77.0.9', port: 22 }, a.key), HostKeyRejectedError);
  });

  it('refuses a changed key and names both fingerprints, without asking', async () => {
    writeFileSync(knownHostsFile, `127.77.0.1 ${a.line}\n`);
    const asked: string[] = [];
    await assert.rejects(verifier(true, asked).verify(endpoint, b.key), (error: unknown) => {
      assert.ok(error instanceof HostKeyMismatchError);
      assert.ok(error.message.includes(fingerprint(a.key)) && error.message.includes(fingerprint(b.key)), error.message);
      return true;
    });
    assert.deepEqual(asked, []);
  });

  it('refuses a key marked @revoked even when it is also listed as trusted', async () => {
    writeFileSync(knownHostsFile, `127.77.0.1 ${a.line}\n@revoked * ${a.line}\n`);
    await assert.rejects(verifier(true).verify(endpoint, a.key), /@revoked/);
  });

  it('asks about an unknown key with its SHA256 fingerprint, pins it when trusted, and then trusts it silently', async () => {
    const asked: string[] = [];
    await verifier(true, asked).verify(endpoint, a.key);
    assert.deepEqual(asked, [fingerprint(a.key)]);
    await verifier(false, asked).verify(endpoint, a.key);
    assert.equal(asked.length, 1);
    await assert.rejects(verifier(true).verify(endpoint, b.key), HostKeyMismatchError);
  });

  it('does not pin a key the admin declined', async () => {
    await assert.rejects(verifier(false).verify(endpoint, a.key), HostKeyRejectedError);
    assert.deepEqual(await new PinnedHostKeys(pinnedFile).lookup(endpoint), []);
  });

  it('a changed pinned key names the extension\'s own store and Forget Host Key, not ssh-keygen -R (issue 12, finding 5)', async () => {
    await verifier(true).verify(endpoint, a.key);
    await assert.rejects(verifier(true).verify(endpoint, b.key), (error: unknown) => {
      assert.ok(error instanceof HostKeyMismatchError && error.source === 'pinned');
      assert.match(error.message, /trusted on first use by XenServer Pools/);
      assert.match(error.message, /"XenServer: Forget Host Key…"/);
      assert.doesNotMatch(error.message, /ssh-keygen -R/);
      return true;
    });
  });

  it('a changed key from known_hosts says which file and how to remove it there', async () => {
    writeFileSync(knownHostsFile, `127.77.0.1 ${a.line}\n`);
    await assert.rejects(verifier(true).verify(endpoint, b.key), (error: unknown) => {
      assert.ok(error instanceof HostKeyMismatchError && error.source === 'known_hosts');
      assert.ok(error.message.includes(`ssh-keygen -R 127.77.0.1 -f ${knownHostsFile}`), error.message);
      return true;
    });
  });

  it('Forget Host Key removes the pinned key: the next connection asks again with the new fingerprint', async () => {
    await verifier(true).verify(endpoint, a.key);
    const pinned = new PinnedHostKeys(pinnedFile);
    assert.equal(await pinned.forget(endpoint), 1);
    const asked: string[] = [];
    await verifier(true, asked).verify(endpoint, b.key);
    assert.deepEqual(asked, [fingerprint(b.key)]);
    assert.equal(await pinned.forget({ host: '127.77.0.99', port: 22 }), 0);
  });

  it('keeps every pin when many are written at once, in one process and from several (issue 12, finding 5)', async () => {
    const keys = Array.from({ length: 12 }, () => newHostKey());
    const hosts = keys.map((_, i) => ({ host: `127.77.1.${i + 1}`, port: 22 }));
    // In this process: separate stores on one file, as several prompts (and windows' stores) are.
    await Promise.all(keys.map((k, i) => new PinnedHostKeys(pinnedFile).pin(hosts[i] ?? endpoint, k.key)));
    // From two other processes at the same time.
    const script = (offset: number) =>
      `const { PinnedHostKeys, hostKeyFromBlob } = require(${JSON.stringify(path.resolve(__dirname, '../../../../src/core/ssh/hostKeys.js'))});` +
      `const keys = ${JSON.stringify(keys.map((k) => k.key.blob.toString('base64')))};` +
      `Promise.all(keys.map((k, i) => new PinnedHostKeys(${JSON.stringify(pinnedFile)}).pin({ host: '127.77.2.' + (i + 1 + ${offset}), port: 22 }, hostKeyFromBlob(Buffer.from(k, 'base64'))))).catch((e) => { console.error(e); process.exit(1); });`;
    const children = [0, 20].map((offset) => new Promise<number>((resolve) => spawn(process.execPath, ['-e', script(offset)], { stdio: 'inherit' }).on('exit', (code) => resolve(code ?? 1))));
    assert.deepEqual(await Promise.all(children), [0, 0]);
    const stored = JSON.parse(readFileSync(pinnedFile, 'utf8')) as Record<string, unknown[]>;
    assert.equal(Object.keys(stored).length, 12 + 24, Object.keys(stored).join(' '));
  });

  it('matches a pattern of many * without backtracking: a line that cannot match ends at once, not after minutes (issue 12, finding 9)', async () => {
    // With a regular expression per pattern, 12 stars already cost seconds per lookup; 24 would not end in this test.
    writeFileSync(knownHostsFile, `${'*a'.repeat(24)}b ${a.line}\n*.example.org,127.77.0.? ${b.line}\n`);
    await verifier(false).verify(endpoint, b.key);
    await assert.rejects(verifier(false).verify({ host: 'a'.repeat(60), port: 22 }, a.key), HostKeyRejectedError);
    await verifier(false).verify({ host: `${'a'.repeat(24)}b`, port: 22 }, a.key);
    await verifier(false).verify({ host: 'XCP-host1.Example.ORG', port: 22 }, b.key);
  });

  it('finds plain names however they are written (several on a line, any case) among a thousand other hosts, and wildcard lines beside them', async () => {
    const others = Array.from({ length: 1000 }, (_, i) => `[10.0.${Math.floor(i / 250)}.${i % 250}]:22,host-${i} ${b.line}`);
    writeFileSync(knownHostsFile, [...others, `XCP-Host1.Example.org,[127.77.0.1]:2222 ${a.line}`, `*.lab.example ${a.line}`, ''].join('\n'));
    await verifier(false).verify({ host: 'xcp-host1.example.ORG', port: 22 }, a.key);
    await verifier(false).verify({ host: '127.77.0.1', port: 2222 }, a.key);
    await verifier(false).verify({ host: 'host-999', port: 22 }, b.key);
    await verifier(false).verify({ host: 'pool1.lab.example', port: 22 }, a.key);
    // A plain name matches itself only: neither a prefix nor the same host on another port.
    await assert.rejects(verifier(false).verify({ host: 'host-99', port: 2222 }, b.key), HostKeyRejectedError);
    await assert.rejects(verifier(false).verify({ host: '127.77.0.1', port: 22 }, a.key), HostKeyRejectedError);
  });

  it('a host listed on a plain line and a wildcard line: the changed-key message names both keys in the file\'s order', async () => {
    const c = newHostKey();
    writeFileSync(knownHostsFile, `127.77.0.* ${b.line}\n127.77.0.1 ${a.line}\n`);
    const error = await verifier(false).verify(endpoint, c.key).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof HostKeyMismatchError);
    assert.deepEqual(error.known, [fingerprint(b.key), fingerprint(a.key)]);
  });

  it('skips corrupt known_hosts lines instead of failing the whole file', async () => {
    writeFileSync(knownHostsFile, `127.77.0.1 ssh-ed25519 !!!notbase64\ngarbage\n127.77.0.1 ${a.line}\n`);
    await verifier(false).verify(endpoint, a.key);
  });
});
