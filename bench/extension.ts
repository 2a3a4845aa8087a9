/*
 * The extension rows of `npm run bench`: the product in a real code-server and chromium against the scale labs, and
 * beside it VS Code's own floor: the same rows from memory by a minimal extension (bench/treeFloor).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEFAULT_TRANSPORT_SETTINGS } from '../src/core/ssh/transport';
import { Lab } from '../test/lab/lab';
import { sleep } from '../test/lab/sshutil';
import { openWorkbench, startCodeServer, tools, type CodeServer, type Workbench } from '../test/support/codeServer';
import { runCommand } from '../test/e2e/workbenchActions';
import { cpuMs, extensionHostPid, logLines, logLineTime, productLogLines, sampleSshConnections, startCpuProfile } from './processes';
import { fmt, sample } from './stats';
import { results, root, row, RUNS } from './table';

/** How long the watch's CPU and connections are measured: with it on (the first code-server run), and off (a run of its own). */
export const WATCH_WINDOW_MS = 90_000;
/** The default of xenPools.autoRefreshSeconds, which the watch-CPU row is about. */
const WATCH_INTERVAL_S = 30;

/**
 * .vsix size; then, in a real code-server and browser with the 64 scale pools (10 VMs per host) and one pool of
 * 2 hosts with 200 VMs each: activation, the first tree render, expanding a host of 200 VMs, a host's new state
 * from the probe's answer to its row, and the background watch's CPU and connections (on, then off as the
 * baseline); and VS Code's own floor for the first three: the same rows, from memory. The lab's processes run at
 * the lowest CPU priority: on an admin's machine the hosts' sshd and xapi are elsewhere, and here they would
 * otherwise take the 2 cores from the workbench being measured.
 */
export async function extensionScenario(labs: readonly Lab[]): Promise<void> {
  const vsix = path.join(root, 'dist', 'xenserver-pools.vsix');
  const size = statSync(vsix).size;
  results.vsixBytes = size;
  row('6 extension', '.vsix size', `${(size / 1024).toFixed(0)} KiB`, '≤ 1.5 MB', size <= 1.5 * 1024 * 1024);
  if (labs.length === 0) return;
  const bigVms = await Lab.start({ name: 'bench-big-vms', baseAddress: '127.78.100', hosts: 2, model: 'code', timeScale: 1, vmsPerHost: 200 });
  const all = [bigVms, ...labs];
  // The hosts' side at the lowest priority: their sshd and sessions, and this process, which runs their xapi (the
  // simulator). What is measured runs in code-server and chromium, timed by the page itself.
  for (const pid of all.flatMap((lab) => lab.livePids())) setPriority(pid, 19);
  setPriority(0, 19);
  const scratch = mkdtempSync(path.join(tmpdir(), 'xenpools-bench-'));
  const knownHosts = path.join(scratch, 'known_hosts');
  writeFileSync(knownHosts, all.map((l) => readFileSync(l.knownHostsFile, 'utf8')).join(''));
  const declared = all.map((lab) => ({ name: lab.name, user: lab.user, auth: 'key', keyFile: lab.keyFile, members: lab.hosts.map((h) => ({ name: h.info.name, address: h.info.address, uuid: h.info.uuid })) }));
  // code-server's scan of /proc for listening ports off (its process source, which runs while a tunnel provider is
  // registered, as code-server's is, even with autoForwardPorts off): it took 1.1–1.9 s of the extension host in
  // 17–36 s of its profiles, as 1,026 sshd of the lab listen on this machine; on an admin's machine the hosts are
  // elsewhere and that scan sees none of them.
  const settings = { 'xenPools.pools': declared, 'xenPools.knownHostsFile': knownHosts, 'remote.autoForwardPorts': false, 'remote.autoForwardPortsSource': 'output' };
  const hostCount = declared.reduce((sum, pool) => sum + pool.members.length, 0);
  const activations: number[] = [];
  const activateCalls: number[] = [];
  const renders: number[] = [];
  const expansions: number[] = [];
  const probeToRow: number[] = [];
  const floor = { renders: [] as number[], expansions: [] as number[], changes: [] as number[] };
  let watchOn: WatchCost | undefined;
  let watchOff: WatchCost | undefined;
  try {
    // Three code-server runs, or fewer with BENCH_RUNS (the report says n).
    for (let run = 0; run < Math.min(3, RUNS); run++) {
      await inWorkbench(vsix, settings, {}, async (server, page) => {
        const profiles = run === 0 && process.env.BENCH_PROFILE ? await startProfiles(page) : undefined;
        renders.push(await firstRender(page, VIEW_ICON));
        if (profiles) await sleep(15_000).then(() => profiles.stop(process.env.BENCH_PROFILE ?? ''));
        expansions.push(await expandBigHost(page));
        probeToRow.push(await stateChangeToRow(server.userDataDir, page, bigVms));
        activations.push(await vscodeActivationTime(page));
        activateCalls.push(await activateCallTime(server.userDataDir));
        if (run === 0 && process.env.BENCH_WATCH !== '0') watchOn = await watchCost(server.userDataDir, hostCount);
      });
    }
    if (watchOn) {
      await inWorkbench(vsix, { ...settings, 'xenPools.autoRefreshSeconds': 0 }, {}, async (server, page) => {
        await page.locator(VIEW_ICON).click({ force: true });
        watchOff = await watchCost(server.userDataDir, hostCount);
      });
    }
    // The floor, in code-servers of its own with the same settings (it reads xenPools.pools) and the labs idle.
    const floorVsix = packageTreeFloor(scratch);
    const floorLog = path.join(scratch, 'tree-floor.log');
    for (let run = 0; run < Math.min(3, RUNS); run++) {
      await inWorkbench(floorVsix, settings, { TREE_FLOOR_LOG: floorLog }, async (_server, page) => {
        floor.renders.push(await firstRender(page, FLOOR_ICON));
        floor.expansions.push(await expandBigHost(page));
        floor.changes.push(await floorChangeToRow(page, floorLog));
      });
    }
  } finally {
    setPriority(0, 0);
    rmSync(scratch, { recursive: true, force: true });
    await bigVms.stop();
  }
  const activation = sample(activations);
  const activateCall = sample(activateCalls);
  const render = sample(renders);
  const expand = sample(expansions);
  const toRow = sample(probeToRow);
  const floorRender = sample(floor.renders);
  const floorExpand = sample(floor.expansions);
  const floorChange = sample(floor.changes);
  results.extension = { activation, activateCall, firstRender1024Hosts10240Vms: render, expandHostOf200Vms: expand, probeAnswerToRow: toRow, watchOn, watchOff, floor: { render: floorRender, expand: floorExpand, changeToRow: floorChange } };
  row('', 'activation with 65 pools / 1026 hosts, as VS Code reports it', fmt(activation), '≤ 50 ms', activation.median <= 50);
  row('', 'of which activate() itself', fmt(activateCall));
  row('', 'first tree render, 1024 hosts with 10,240 VMs (click on the view → host rows)', fmt(render), '≤ 500 ms', render.median <= 500);
  row('', "the same rows from memory: VS Code's own floor (bench/treeFloor)", fmt(floorRender));
  row('', 'expanding a host with 200 VMs (click → VM rows)', fmt(expand), '≤ 100 ms', expand.median <= 100);
  row('', "the same from memory: VS Code's own floor", fmt(floorExpand));
  row('', "a host's new state: the probe's answer (log line) → its row redrawn", fmt(toRow), '≤ 100 ms', toRow.median <= 100);
  row('', "a row changed from memory (its log line) → redrawn: VS Code's own floor", fmt(floorChange));
  if (watchOn && watchOff) {
    const [on, off] = [watchOn, watchOff];
    const { maxConnections } = DEFAULT_TRANSPORT_SETTINGS;
    const cost = on.cpuPercent - off.cpuPercent;
    row('', `background watch of 1026 hosts, ${WATCH_INTERVAL_S} s interval: its cost on the extension host (on − off)`, `${cost.toFixed(1)} % of a core`, '≤ 2 %', cost <= 2);
    row('', 'extension host CPU with the watch on', `${on.cpuPercent.toFixed(1)} % of a core (${on.connectionsMade} connections seen in ${WATCH_WINDOW_MS / 1000} s)`);
    row('', 'the same pools in a code-server started with the watch off (baseline)', `${off.cpuPercent.toFixed(1)} % of a core (${off.connectionsMade} connections seen)`);
    row('', 'peak SSH connections of the extension host during the watch', String(on.peakConnections), `≤ xenPools.maxConnections (${maxConnections})`, on.peakConnections <= maxConnections);
  }
}

/**
 * `BENCH_PROFILE=<dir>`: CPU profiles of the extension host and of the page's renderer from the click on the view
 * on, written as .cpuprofile files (open them in Chrome's DevTools or VS Code).
 */
async function startProfiles(page: Workbench['page']): Promise<{ stop(dir: string): Promise<void> }> {
  const host = await startCpuProfile(extensionHostPid(), tools().playwrightCore);
  const session = await page.context().newCDPSession(page);
  await session.send('Profiler.enable');
  await session.send('Profiler.start');
  return {
    async stop(dir: string) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'extension-host.cpuprofile'), JSON.stringify(await host.stop()));
      writeFileSync(path.join(dir, 'renderer.cpuprofile'), JSON.stringify((await session.send('Profiler.stop')).profile));
      console.log(`[bench] CPU profiles of the extension host and the renderer in ${dir}`);
    },
  };
}

/** The view's icon in the activity bar (its label gains the badge's text; the badge covers it, hence force clicks). */
const VIEW_ICON = '.activitybar a.action-label[aria-label^="XenServer Pools"]';
const FLOOR_ICON = '.activitybar a.action-label[aria-label^="Tree Floor"]';

/** ms from the click on a view's icon to its host rows (the last host of a pool in sight). */
async function firstRender(page: Workbench['page'], viewIcon: string): Promise<number> {
  return (await untilRow(page, "(text) => text.includes('xcp-host16')", () => page.locator(viewIcon).click({ force: true }))).elapsed;
}

/** ms from the click on the twistie of bench-big-vms's xcp-host1 to its VM rows; collapsed again after. */
async function expandBigHost(page: Workbench['page']): Promise<number> {
  // The first row is bench-big-vms (sorted first, and first in the setting), the second its xcp-host1, collapsible once its VMs are read.
  const sideBarRow = (attributes: string) => page.locator(`#workbench\\.parts\\.sidebar .monaco-list-row${attributes}`);
  await sideBarRow('[data-index="0"][aria-label^="Pool bench-big-vms,"]').waitFor({ state: 'visible', timeout: 60_000 });
  const host1 = sideBarRow('[data-index="1"][aria-label^="Host xcp-host1,"]');
  await sideBarRow('[data-index="1"][aria-label^="Host xcp-host1,"][aria-expanded="false"]').waitFor({ state: 'visible', timeout: 120_000 });
  const { elapsed } = await untilRow(page, "(text) => text.startsWith('vm1-')", () => host1.locator('.monaco-tl-twistie').click());
  await host1.locator('.monaco-tl-twistie').click();
  return elapsed;
}

/** bench/treeFloor as a .vsix in `dir`. */
function packageTreeFloor(dir: string): string {
  const vsix = path.join(dir, 'tree-floor.vsix');
  const vsce = path.join(root, 'node_modules', '.bin', 'vsce');
  const result = spawnSync(vsce, ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', vsix], { cwd: path.join(root, 'bench', 'treeFloor'), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`packaging bench/treeFloor failed: ${result.stderr || result.stdout}`);
  return vsix;
}

/**
 * The floor's row change: every 3 s it flips its first pool's last host between "running" and "xapi down" and logs
 * the time; ms from a logged "xapi down" to the row showing it.
 */
async function floorChangeToRow(page: Workbench['page'], logFile: string): Promise<number> {
  // Absent until the floor's first change, 3 s after it started.
  const lastChange = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').at(-1) ?? '' : '');
  const deadline = Date.now() + 30_000;
  // Watched from just after a change back to running: the next change is the one measured.
  while (!lastChange().endsWith(' running')) {
    if (Date.now() > deadline) throw new Error(`the floor extension logged no change in ${logFile}`);
    await sleep(50);
  }
  const { seenAt } = await untilRow(page, "(text, row) => row.dataset.index === '2' && text.includes('xcp-host2') && text.includes('xapi down')", async () => undefined, 10_000);
  const changedAt = Number(lastChange().split(' ')[0]);
  return seenAt - changedAt;
}

/**
 * A code-server with the product and `settings`, and chromium on it, its extension host started (the figures should
 * be this extension's, not code-server still starting); both stopped after `body`.
 */
async function inWorkbench(vsix: string, settings: Record<string, unknown>, env: Record<string, string>, body: (server: CodeServer, page: Workbench['page']) => Promise<void>): Promise<void> {
  const server = await startCodeServer({ extensions: [vsix], settings, env });
  try {
    // Tall enough for every row of the Running Extensions editor (it renders only visible rows).
    const workbench = await openWorkbench(server, { width: 1280, height: 1400 });
    try {
      await extensionHostStarted(server.userDataDir);
      await body(server, workbench.page);
    } catch (error) {
      // What the page and the product showed, kept: the server's folder goes with it.
      const evidence = path.join(tmpdir(), `xenpools-bench-${Date.now()}`);
      mkdirSync(evidence, { recursive: true });
      writeFileSync(path.join(evidence, 'product.log'), productLogLines(server.userDataDir).join('\n'));
      await workbench.page.screenshot({ path: path.join(evidence, 'page.png') }).catch(() => undefined);
      throw new Error(`${(error as Error).message}\n(the page and the product's log: ${evidence})`, { cause: error });
    } finally {
      await workbench.close();
    }
  } finally {
    await server.stop();
  }
}

interface WatchCost {
  readonly cpuPercent: number;
  readonly peakConnections: number;
  readonly connectionsMade: number;
}

/**
 * ms from `action` to the first row of the side bar that passes `matches` (a JavaScript function's source, run in
 * the page, given the row's text and the row), and when that was (ms since the epoch), as the page itself saw it. An action that clicks is
 * timed from the page's own mousedown: playwright's way there is not the product's.
 */
async function untilRow(page: Workbench['page'], matches: string, action: () => Promise<unknown>, timeoutMs = 120_000): Promise<{ elapsed: number; seenAt: number }> {
  await page.evaluate(`(() => {
    const matches = ${matches};
    window.benchClickAt = undefined;
    window.addEventListener('mousedown', () => (window.benchClickAt ??= Date.now()), { capture: true, once: true });
    const seen = () => [...document.querySelectorAll('#workbench\\\\.parts\\\\.sidebar .monaco-list-row')].some((row) => matches(row.textContent ?? '', row));
    window.benchSeen = new Promise((resolve) => {
      if (seen()) return resolve(Date.now());
      const observer = new MutationObserver(() => {
        if (!seen()) return;
        observer.disconnect();
        resolve(Date.now());
      });
      observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      setTimeout(() => resolve(-1), ${timeoutMs});
    });
  })()`);
  const started = Date.now();
  await action();
  const seenAt = await page.evaluate<number>('window.benchSeen');
  const clickedAt = await page.evaluate<number | undefined>('window.benchClickAt');
  if (seenAt < 0) {
    const picture = path.join(tmpdir(), `xenpools-bench-${Date.now()}.png`);
    await page.screenshot({ path: picture });
    throw new Error(`no side-bar row matched ${matches} within ${timeoutMs / 1000} s (screenshot: ${picture})`);
  }
  return { elapsed: seenAt - (clickedAt ?? started), seenAt };
}

/** xapi stops on the master of `lab` (the watch probes every healthy pool's master each round); the watch's next probe finds it: ms from the product's log line of that answer to its row showing it. */
async function stateChangeToRow(userDataDir: string, page: Workbench['page'], lab: Lab): Promise<number> {
  try {
    // bench-big-vms's own row (the second; on a slow day another pool's xcp-host1 may read "xapi down" too).
    const { seenAt } = await untilRow(page, "(text, row) => row.dataset.index === '1' && text.includes('xcp-host1') && text.includes('xapi down')", () => lab.fault('xapi-down', 1));
    // The log reaches its file a moment after the row may have been drawn.
    const pattern = new RegExp(`\\[probe\\] ${lab.name}: xcp-host1: .*xapi down`);
    let loggedAt = logLineTime(userDataDir, pattern);
    for (let waited = 0; loggedAt === undefined && waited < 10_000; waited += 250) {
      await sleep(250);
      loggedAt = logLineTime(userDataDir, pattern);
    }
    if (loggedAt === undefined) throw new Error('the product logged no state change of xcp-host1');
    return seenAt - loggedAt;
  } finally {
    await lab.heal(1);
  }
}

/**
 * The extension host's CPU and SSH connections over the window, after the first probe of every host and one round
 * of the watch: with the watch at its default interval, or (`off`) in a code-server started with it off.
 */
async function watchCost(userDataDir: string, hosts: number): Promise<WatchCost> {
  const pid = extensionHostPid();
  // The first probe of every host first (each host's first state is a [probe] line of the product's log): on a slow
  // day it took two minutes here, and a baseline measured while it ran cost more than the watch.
  const deadline = Date.now() + 300_000;
  while (new Set(productLogLines(userDataDir).flatMap((line) => /\[probe\] ([^:]+: [^:]+):/.exec(line)?.[1] ?? [])).size < hosts) {
    if (Date.now() > deadline) throw new Error(`the first probe of ${hosts} hosts did not end within 5 minutes`);
    await sleep(1_000);
  }
  await sleep(WATCH_INTERVAL_S * 1000 + 15_000);
  const sampler = sampleSshConnections(pid);
  const cpuBefore = cpuMs(pid);
  await sleep(WATCH_WINDOW_MS);
  const cpu = cpuMs(pid) - cpuBefore;
  const { peak, made } = sampler.stop();
  return { cpuPercent: (cpu / WATCH_WINDOW_MS) * 100, peakConnections: peak, connectionsMade: made };
}

/** The extension host has activated its built-in extensions' onStartupFinished events: start-up is over. */
async function extensionHostStarted(userDataDir: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!logLines(userDataDir, 'remoteexthost').some((line) => line.includes("activationEvent: 'onStartupFinished'"))) {
    if (Date.now() > deadline) throw new Error('the extension host did not finish starting within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * VS Code's own activation time of the product (code loading, the call and its promise, from the
 * activation event on), as "Developer: Show Running Extensions" shows it.
 */
async function vscodeActivationTime(page: Workbench['page']): Promise<number> {
  await runCommand(page, 'Developer: Show Running Extensions');
  const row = page.locator('.runtime-extensions-editor .monaco-list-row', { hasText: 'XenServer Pools' }).first();
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  const text = await row.innerText();
  const match = /Activation:\s*(\d+)\s*ms/.exec(text);
  if (!match?.[1]) throw new Error(`no activation time in the Running Extensions row: ${text}`);
  return Number(match[1]);
}

/** How long activate() itself ran: the product logs it. */
async function activateCallTime(userDataDir: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    for (const line of productLogLines(userDataDir)) {
      const match = /activated with \d+ pool\(s\) in ([\d.]+) ms/.exec(line);
      if (match?.[1]) {
        console.log(`[bench] ${line.slice(line.indexOf('XenServer Pools'))}`);
        return Number(match[1]);
      }
    }
    if (Date.now() > deadline) throw new Error('no activation line in the product log');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
