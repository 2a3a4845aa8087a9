// What a person does in the workbench, as playwright steps shared by the e2e tests.
import * as path from 'node:path';
import type { Page } from '../support/codeServer';

/** Runs a command from the Command Palette by its full title, e.g. "XenServer: Show Log". */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await page.keyboard.type(title);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first().waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
}

/** A row of the Pools tree, by its label. */
export function treeRow(page: Page, label: string) {
  return page.locator('#workbench\\.parts\\.sidebar .monaco-list-row', { hasText: label }).first();
}

/** After a failed test, a picture of what was on screen, named after the test. */
export async function screenshotIfFailed(test: Mocha.Test | undefined, page: Page | undefined, folder: string): Promise<void> {
  if (test?.state !== 'failed' || !page) return;
  const name = test.title.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 60);
  await page.screenshot({ path: path.join(folder, `failed-${name}.png`) }).catch(() => undefined);
}
