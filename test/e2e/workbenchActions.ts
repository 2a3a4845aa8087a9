// What a person does in the workbench, as playwright steps shared by the e2e tests.
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
