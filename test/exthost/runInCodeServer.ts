// The exthost tier's driver (mocha --delay, see .mocharc.exthost.json). It packs the harness
// extension, starts code-server with the product's .vsix and the harness installed and
// XENPOOLS_EXTHOST_RUN set, opens the workbench in chromium (only that starts the extension host),
// waits for the harness to write its results, then replays each result as a mocha test here, so the
// counting reporter and scripts/test.mjs count them like any other tier.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Lab, type LabOptions } from '../lab/lab';
import { openWorkbench, repoRoot, startCodeServer } from '../support/codeServer';
import type { LabHandle } from './support/labControl';

const RESULTS_TIMEOUT_MS = 300_000;
const TEST_TIMEOUT_MS = 30_000;

interface HarnessTest {
  titlePath: string[];
  state: 'passed' | 'failed' | 'skipped';
  duration: number;
  error?: { message: string; stack?: string };
}

interface HarnessResults {
  passed: number;
  failed: number;
  skipped: number;
  tests: HarnessTest[];
}

function packHarness(outDir: string): string {
  const vsix = path.join(outDir, 'test-harness.vsix');
  const vsce = spawnSync(
    path.join(repoRoot, 'node_modules', '.bin', 'vsce'),
    ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', vsix],
    { cwd: path.join(repoRoot, 'test', 'exthost', 'harness'), encoding: 'utf8' },
  );
  if (vsce.status !== 0) throw new Error(`packing the test harness failed:\n${vsce.stdout}${vsce.stderr}`);
  return vsix;
}

/** The extension host's own log, for when the harness never answers. */
function extensionHostLog(userDataDir: string): string {
  const logs = path.join(userDataDir, 'logs');
  if (!existsSync(logs)) return '(no logs folder)';
  const files = readdirSync(logs, { recursive: true }).map(String).filter((f) => f.endsWith('remoteexthost.log') || f.endsWith('exthost.log'));
  return files.map((f) => `--- ${f}\n${readFileSync(path.join(logs, f), 'utf8').slice(-4000)}`).join('\n') || '(no extension host log)';
}

async function waitForResults(file: string, timeoutMs: number, describeState: () => string): Promise<HarnessResults> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`the harness wrote no results within ${timeoutMs / 1000} s\n${describeState()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return JSON.parse(readFileSync(file, 'utf8')) as HarnessResults;
}

/** Xen's overhead, dom0 (4 GiB) and host 1's two VMs (2 GiB each, 16 MiB overhead), and 1 GiB free. */
const HOST_1_MEMORY = 1119879168 + (4 + 2 * 2 + 1) * 1024 ** 3 + 3 * 16 * 1024 ** 2;

/** The lab pools the exthost tests work on: one per emergency model, fast waits. */
const LABS: Record<string, LabOptions> = {
  code: { name: 'exthost-code', baseAddress: '127.77.130', hosts: 4, model: 'code', timeScale: 0.02, vmsPerHost: 2 },
  docs: { name: 'exthost-docs', baseAddress: '127.77.131', hosts: 4, model: 'docs', timeScale: 0.02, vmsPerHost: 2 },
  // Declared in settings with password login by the credentials tests.
  creds: { name: 'exthost-creds', baseAddress: '127.77.132', hosts: 2, model: 'code', timeScale: 0.02, vmsPerHost: 1, poolName: 'pool-creds', password: 'creds-pw-4b1e' },
  // Not in the known_hosts file the product is given: its host keys are trusted on first use (pinned).
  keys: { name: 'exthost-keys', baseAddress: '127.77.133', hosts: 2, model: 'code', timeScale: 0.02, vmsPerHost: 1, poolName: 'pool-keys' },
  // Watched in the background by health.test.ts while its master dies.
  health: { name: 'exthost-health', baseAddress: '127.77.134', hosts: 2, model: 'code', timeScale: 0.02, vmsPerHost: 1, poolName: 'pool-health' },
  // A slave dies with its VMs (leftovers.test.ts); host 1 has too little memory left for one more VM.
  vms: { name: 'exthost-vms', baseAddress: '127.77.135', hosts: 3, model: 'code', timeScale: 0.02, vmsPerHost: 2, poolName: 'pool-vms', hostMemory: [HOST_1_MEMORY] },
};
const UNKNOWN_HOST_KEYS = new Set(['exthost-keys']);
const MALFORMED_POOLS = [{ name: 'broken' }, { name: 'nulls', members: [null] }, { name: 'string', members: '10.0.0.1' }, {}];

function handle(lab: Lab, model: 'code' | 'docs'): LabHandle {
  const pool = lab.sim.hosts[0]?.db.pool;
  return {
    name: lab.name,
    poolUuid: pool?.uuid ?? '',
    poolName: pool?.nameLabel ?? '',
    model,
    controlPort: lab.controlPort,
    user: lab.user,
    password: lab.password,
    keyFile: lab.keyFile,
    hosts: lab.hosts.map((h) => ({ index: h.info.index, name: h.info.name, address: h.info.address, uuid: h.info.uuid })),
  };
}

async function runInCodeServer(): Promise<HarnessResults> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'xenpools-exthost-'));
  const labs: Lab[] = [];
  try {
    for (const options of Object.values(LABS)) labs.push(await Lab.start(options));
    const started = Object.fromEntries(Object.keys(LABS).map((key, index) => [key, labs[index] as Lab]));
    const knownHosts = path.join(scratch, 'known_hosts');
    writeFileSync(knownHosts, labs.filter((lab) => !UNKNOWN_HOST_KEYS.has(lab.name)).map((lab) => readFileSync(lab.knownHostsFile, 'utf8')).join(''));
    const productVsix = process.env.XENPOOLS_VSIX ?? path.join(repoRoot, 'dist', 'xenserver-pools.vsix');
    const resultsFile = path.join(scratch, 'results.json');
    const request = {
      testsDir: path.join(repoRoot, 'out', 'test', 'exthost'),
      mocha: path.join(repoRoot, 'node_modules', 'mocha'),
      results: resultsFile,
      timeout: TEST_TIMEOUT_MS,
    };
    const server = await startCodeServer({
      extensions: [productVsix, packHarness(scratch)],
      env: { XENPOOLS_EXTHOST_RUN: JSON.stringify(request), XENPOOLS_EXTHOST_LABS: JSON.stringify(Object.fromEntries(Object.entries(started).map(([key, lab]) => [key, handle(lab, LABS[key]?.model ?? 'code')]))) },
      settings: {
        'xenPools.knownHostsFile': knownHosts,
        'xenPools.connectTimeoutSeconds': 2,
        'xenPools.commandTimeoutSeconds': 10,
        // The background watch probes when health.test.ts says so; elsewhere it would ask scripted questions at random.
        'xenPools.autoRefreshSeconds': 0,
        // Malformed on purpose: the extension must activate anyway (activation.test.ts; issue 12, finding 6).
        'xenPools.pools': MALFORMED_POOLS,
      },
    });
    try {
      const workbench = await openWorkbench(server);
      try {
        return await waitForResults(resultsFile, RESULTS_TIMEOUT_MS, () => `${server.output()}\n${extensionHostLog(server.userDataDir)}\n${workbench.pageErrors.join('\n')}`);
      } finally {
        await workbench.close();
      }
    } finally {
      await server.stop();
    }
  } finally {
    for (const lab of labs) await lab.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

interface SuiteNode {
  suites: Map<string, SuiteNode>;
  tests: { title: string; test: HarnessTest }[];
}

function defineSuite(node: SuiteNode): void {
  for (const { title, test } of node.tests) {
    if (test.state === 'skipped') {
      it.skip(title);
    } else {
      it(title, () => {
        if (test.state === 'passed') return;
        const error = new Error(test.error?.message ?? 'failed');
        error.stack = test.error?.stack ?? error.message;
        throw error;
      });
    }
  }
  for (const [title, child] of node.suites) describe(title, () => defineSuite(child));
}

/** Replays the harness's results as mocha tests with the same suite structure. */
function replay(results: HarnessResults): void {
  const root: SuiteNode = { suites: new Map(), tests: [] };
  for (const test of results.tests) {
    let node = root;
    for (const suite of test.titlePath.slice(0, -1)) {
      let child = node.suites.get(suite);
      if (!child) node.suites.set(suite, (child = { suites: new Map(), tests: [] }));
      node = child;
    }
    node.tests.push({ title: test.titlePath.at(-1) ?? '(untitled)', test });
  }
  describe('extension host (code-server)', () => {
    if (results.tests.length === 0) it('runs the exthost tests', () => assert.fail('the harness ran no tests'));
    defineSuite(root);
  });
}

const started = Date.now();
runInCodeServer().then(
  (results) => {
    console.log(`exthost: the harness reported ${results.passed} passed, ${results.failed} failed, ${results.skipped} skipped (${((Date.now() - started) / 1000).toFixed(1)} s in code-server)`);
    replay(results);
  },
  (error: unknown) => {
    describe('extension host (code-server)', () => {
      it('runs the exthost tests', () => {
        throw error;
      });
    });
  },
).finally(() => run());
