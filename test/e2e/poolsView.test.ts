// What a person sees: the packaged extension in code-server's browser workbench, driven through
// headless chromium. Screenshots land in test-results/e2e/ for a human (or a reviewer) to look at.
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { openWorkbench, repoRoot, startCodeServer, type CodeServer, type Page, type Workbench } from '../support/codeServer';
import { runCommand, screenshotIfFailed } from './workbenchActions';

const screenshots = path.join(repoRoot, 'test-results', 'e2e');
const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
/** The English strings the workbench shows, straight from the manifest's nls file. */
const nls = JSON.parse(readFileSync(path.join(repoRoot, 'package.nls.json'), 'utf8')) as Record<string, string>;
const containerTitle = nls['view.container'] ?? '(view.container missing)';
const viewTitle = nls['view.pools'] ?? '(view.pools missing)';
const welcomeFirstLine = (nls['view.pools.welcome'] ?? '(view.pools.welcome missing)').split('\n')[0] ?? '';

describe('the XenServer Pools view in the browser workbench', function () {
  this.timeout(60_000);
  let server: CodeServer | undefined;
  let workbench: Workbench | undefined;
  let page: Page;

  before(async function () {
    this.timeout(180_000);
    mkdirSync(screenshots, { recursive: true });
    server = await startCodeServer({ extensions: [process.env.XENPOOLS_VSIX ?? path.join(repoRoot, 'dist', 'xenserver-pools.vsix')] });
    workbench = await openWorkbench(server);
    page = workbench.page;
  });

  after(async () => {
    await workbench?.close();
    await server?.stop();
  });

  // A failing step leaves a picture of what was on screen.
  afterEach(async function () {
    await screenshotIfFailed(this.currentTest, workbench ? page : undefined, screenshots);
  });

  const activityBarIcon = () => page.locator(`.activitybar a.action-label[aria-label="${containerTitle}"]`);
  const sideBar = () => page.locator('#workbench\\.parts\\.sidebar');

  it('shows the XenServer Pools icon in the activity bar', async () => {
    await activityBarIcon().waitFor({ state: 'visible', timeout: 30_000 });
    await page.screenshot({ path: path.join(screenshots, '01-workbench.png') });
  });

  it(`opens the view titled "${viewTitle}" with its welcome text when the icon is clicked`, async () => {
    await activityBarIcon().click();
    await page.mouse.move(640, 400); // away from the icon, so its hover tooltip is gone from the picture
    await sideBar().locator('.welcome-view-content').getByText(welcomeFirstLine).waitFor({ state: 'visible' });
    // One view in its container: the side bar's title joins the container's and the view's names.
    assert.equal(await sideBar().locator('.composite.title h2').innerText(), `${containerTitle}: ${viewTitle}`);
    assert.equal(await sideBar().locator('.pane-header h3.title').innerText(), viewTitle);
    // The view's first refresh shows a progress bar; the picture should show the settled view.
    await sideBar().locator('.monaco-progress-container.active').first().waitFor({ state: 'hidden', timeout: 15_000 });
    await page.screenshot({ path: path.join(screenshots, '02-pools-view.png') });
  });

  it('shows the "XenServer Pools" log with the activation line through "XenServer: Show Log"', async () => {
    await runCommand(page, 'XenServer: Show Log');
    const panel = page.locator('#workbench\\.parts\\.panel');
    await panel.locator('.view-lines').getByText(`XenServer Pools ${version} activated`).waitFor({ state: 'visible' });
    await page.screenshot({ path: path.join(screenshots, '03-log.png') });
  });
});
