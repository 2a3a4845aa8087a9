// `npm start` as a new user runs it: the real scripts/start.mjs (installs checked, the extension packaged,
// the demo lab and code-server started) until it prints its URL; that URL in chromium shows the pool whose
// master is dead; the "+" (Add Pool…) button with a host row selected starts the wizard; Ctrl-C (SIGINT to
// the whole process group, as a terminal sends it) ends with a "stopped" line and leaves no process behind.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openWorkbench, repoRoot, type Page, type Workbench } from '../support/codeServer';
import { screenshotIfFailed, treeRow } from './workbenchActions';

const screenshots = path.join(repoRoot, 'test-results', 'e2e');

/** Every process whose command line mentions one of `marks` (the demo's lab folder, its code-server folder). */
function processesMentioning(marks: readonly string[]): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue; // gone meanwhile
    }
    if (marks.some((mark) => cmdline.includes(mark))) found.push(`${entry}: ${cmdline.slice(0, 160)}`);
  }
  return found;
}

function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start, as a new user runs it', function () {
  this.timeout(120_000);
  let start: ChildProcess | undefined;
  let output = '';
  let exited: Promise<number | null>;
  let url = '';
  let codeServerDir = '';
  const browserDir = mkdtempSync(path.join(tmpdir(), 'xenpools-npm-start-'));
  let workbench: Workbench | undefined;
  let page: Page;

  before(async function () {
    this.timeout(600_000);
    mkdirSync(screenshots, { recursive: true });
    // Its own process group, so the test can send Ctrl-C to all of it the way a terminal does.
    start = spawn('npm', ['start'], { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const child = start;
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const onData = (chunk: Buffer) => (output += chunk.toString());
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const deadline = Date.now() + 540_000;
    for (;;) {
      const match = /Open (http:\/\/127\.0\.0\.1:\d+\/\S*) in a browser/.exec(output);
      if (match?.[1]) {
        url = match[1];
        break;
      }
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm start printed no URL (exit ${child.exitCode}):\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // The workspace folder lives inside code-server's temp folder; its processes name that folder.
    codeServerDir = path.dirname(new URL(url).searchParams.get('folder') ?? '');
    assert.match(codeServerDir, /xenpools-code-server-/, url);
    workbench = await openWorkbench({ url, dir: browserDir });
    page = workbench.page;
  });

  after(async () => {
    await workbench?.close();
    if (start?.pid && processGroupAlive(start.pid)) process.kill(-start.pid, 'SIGKILL');
    rmSync(browserDir, { recursive: true, force: true });
  });

  afterEach(async function () {
    await screenshotIfFailed(this.currentTest, workbench ? page : undefined, screenshots);
  });

  it('prints the URL, quietly: where the .vsix is, not what it holds, and no internal paths', () => {
    assert.match(output, /\[start\] packaged dist\/xenserver-pools\.vsix \(\d+ KB\)/);
    assert.doesNotMatch(output, /DONE {2}Packaged|├─|prepublish|state file/, output);
    assert.doesNotMatch(output, /\/tmp\/|\/var\/tmp\/|\.cache\/xenserver-pools\/code-server/, 'no absolute temp or cache paths before the URL line');
  });

  it('shows the pool whose master is dead', async () => {
    await page.locator('.activitybar a.action-label[aria-label="XenServer Pools"]').click();
    await page.mouse.move(900, 500);
    await treeRow(page, 'xcp-host1').locator('.codicon-debug-disconnect').waitFor({ state: 'visible', timeout: 60_000 });
    await treeRow(page, 'xcp-host2').locator('.codicon-warning').waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await treeRow(page, 'xcp-host1').innerText(), /unreachable · master/);
    // The pool's verdict comes once the dead master's probe has timed out.
    await treeRow(page, 'pool-lab').getByText('emergency, no master').waitFor({ state: 'visible', timeout: 30_000 });
    await page.screenshot({ path: path.join(screenshots, '20-npm-start-dead-master.png') });
  });

  it('"+" in the view title with a host row selected starts the Add Pool wizard', async () => {
    await treeRow(page, 'xcp-host3').click();
    // The view's title buttons show while the pointer is over the side bar, as for a user.
    const addPool = page.locator('#workbench\\.parts\\.sidebar .title-actions .action-label[aria-label="Add Pool…"]');
    await treeRow(page, 'xcp-host3').hover();
    await addPool.click();
    const quickInput = page.locator('.quick-input-widget');
    await quickInput.waitFor({ state: 'visible' });
    await quickInput.getByText('Add Pool').first().waitFor({ state: 'visible' });
    assert.match(await quickInput.innerText(), /1\/4/);
    assert.match(await quickInput.innerText(), /Address of any host of the pool/);
    await page.screenshot({ path: path.join(screenshots, '21-npm-start-add-pool-step-1.png') });
    // Step 2 counts on and has a Back button that returns to step 1 with the address kept.
    await page.keyboard.type('127.77.250.3');
    await page.keyboard.press('Enter');
    await quickInput.getByText('SSH user on the hosts').waitFor({ state: 'visible' });
    assert.match(await quickInput.innerText(), /2\/4/);
    const backButton = quickInput.locator('.codicon-quick-input-back');
    await backButton.waitFor({ state: 'visible' });
    await page.waitForTimeout(300); // the quick input fades in again between steps; picture it settled
    await page.screenshot({ path: path.join(screenshots, '22-npm-start-add-pool-step-2.png') });
    await backButton.click();
    await quickInput.getByText('Address of any host of the pool').waitFor({ state: 'visible' });
    assert.equal(await quickInput.locator('input').first().inputValue(), '127.77.250.3');
    await page.keyboard.press('Escape');
  });

  it('Ctrl-C stops everything it started and says so', async function () {
    this.timeout(60_000);
    await workbench?.close();
    workbench = undefined;
    assert.ok(start?.pid);
    process.kill(-start.pid, 'SIGINT');
    const code = await Promise.race([exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 45_000))]);
    assert.notEqual(code, 'hung', `npm start did not end after Ctrl-C:\n${output.slice(-2000)}`);
    assert.match(output, /\[demo\] stopped/);
    for (let i = 0; i < 50 && processGroupAlive(start.pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(processGroupAlive(start.pid), false, 'a process of npm start\'s group is still running');
    const left = processesMentioning([path.join(repoRoot, '.lab', 'demo'), codeServerDir, browserDir]);
    assert.deepEqual(left, [], 'no sshd, code-server or chromium of the demo is left');
  });
});
