/**
 * The answer of a wizard step whose Back button was pressed. A registered symbol: the extension-host
 * tests' scripted UI is compiled apart from the extension's bundle and must give the same value.
 * Apart from ui.ts so that code without `vscode` (the remembered answers of Retry) can know it.
 */
export const BACK: unique symbol = Symbol.for('xenPools.wizard.back');
export type Back = typeof BACK;
