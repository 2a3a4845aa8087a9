import * as vscode from 'vscode';

export interface PickItem<T> extends vscode.QuickPickItem {
  readonly value: T;
}

/**
 * Every question the extension asks the user goes through here. The default implementation is
 * VS Code's own UI; the extension-host tests answer through a scripted implementation they set
 * via the extension's exported API, so the commands run exactly as they do for a user.
 */
export interface UserInterface {
  pick<T>(items: readonly PickItem<T>[], options: { title: string; placeHolder?: string }): Promise<T | undefined>;
  input(options: { title: string; prompt: string; value?: string; password?: boolean; validate?: (value: string) => string | undefined }): Promise<string | undefined>;
  /** A modal confirmation; resolves true only if the user chose `action`. */
  confirm(message: string, detail: string, action: string): Promise<boolean>;
}

export const vscodeUserInterface: UserInterface = {
  async pick(items, options) {
    const chosen = await vscode.window.showQuickPick(items, { title: options.title, placeHolder: options.placeHolder, ignoreFocusOut: true });
    return chosen?.value;
  },
  input(options) {
    return Promise.resolve(
      vscode.window.showInputBox({
        title: options.title,
        prompt: options.prompt,
        value: options.value,
        password: options.password,
        ignoreFocusOut: true,
        validateInput: options.validate,
      }),
    );
  },
  async confirm(message, detail, action) {
    return (await vscode.window.showWarningMessage(message, { modal: true, detail }, action)) === action;
  },
};

/** The UI in use; swapped only by the extension's test API. */
export const ui = { current: vscodeUserInterface };
