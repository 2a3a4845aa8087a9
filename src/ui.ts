import { AsyncLocalStorage } from 'node:async_hooks';
import * as vscode from 'vscode';
import { visibleLines, visibleText } from './core/visibleText';
import { BACK, type Back } from './wizardBack';

export { BACK, type Back };

export interface PickItem<T> extends vscode.QuickPickItem {
  readonly value: T;
}

/** Where a question stands in a wizard: "step of totalSteps" in its title bar, a Back button from step 2 on. */
export interface WizardStep {
  readonly step: number;
  readonly totalSteps: number;
}

export interface InputOptions {
  readonly title: string;
  readonly prompt: string;
  readonly value?: string;
  readonly password?: boolean;
  readonly validate?: (value: string) => string | undefined;
}

/**
 * Every question the extension asks the user goes through here. The default implementation is
 * VS Code's own UI; the extension-host tests answer through a scripted implementation they set
 * via the extension's exported API, so the commands run exactly as they do for a user.
 */
export interface UserInterface {
  pick<T>(items: readonly PickItem<T>[], options: { title: string; placeHolder?: string }): Promise<T | undefined>;
  input(options: InputOptions): Promise<string | undefined>;
  /** A wizard's pick: BACK when its Back button was pressed. */
  stepPick<T>(items: readonly PickItem<T>[], options: { title: string; placeHolder?: string } & WizardStep): Promise<T | Back | undefined>;
  /** A wizard's input box: BACK when its Back button was pressed. */
  stepInput(options: InputOptions & WizardStep): Promise<string | Back | undefined>;
  /** A modal confirmation; resolves true only if the user chose `action`. */
  confirm(message: string, detail: string, action: string): Promise<boolean>;
  /** A notification; resolves with the action chosen, if any. */
  notify(severity: Severity, message: string, ...actions: string[]): Promise<string | undefined>;
}

export type Severity = 'info' | 'warning' | 'error';

const NOTIFIERS: Readonly<Record<Severity, (message: string, ...actions: string[]) => Thenable<string | undefined>>> = {
  info: (message, ...actions) => vscode.window.showInformationMessage(message, ...actions),
  warning: (message, ...actions) => vscode.window.showWarningMessage(message, ...actions),
  error: (message, ...actions) => vscode.window.showErrorMessage(message, ...actions),
};

export const vscodeUserInterface: UserInterface = {
  async pick(items, options) {
    const chosen = await vscode.window.showQuickPick(items.map(visibleItem), { title: options.title, placeHolder: options.placeHolder, ignoreFocusOut: true });
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
    // Names in these texts come from the hosts: controls that reorder text must not change what the admin reads.
    return (await vscode.window.showWarningMessage(visibleText(message), { modal: true, detail: visibleLines(detail) }, action)) === action;
  },
  async notify(severity, message, ...actions) {
    return NOTIFIERS[severity](message, ...actions);
  },
  stepPick<T>(items: readonly PickItem<T>[], options: { title: string; placeHolder?: string } & WizardStep) {
    const quickPick = vscode.window.createQuickPick<(typeof items)[number]>();
    Object.assign(quickPick, wizardFields(options), { items: items.map(visibleItem), placeholder: options.placeHolder });
    // A single-choice pick shows `picked` only as the active item (the earlier answer, after Back).
    quickPick.activeItems = quickPick.items.filter((item) => item.picked);
    return runWizardStep<T | undefined>(quickPick, (resolve) => quickPick.onDidAccept(() => resolve(quickPick.selectedItems[0]?.value)));
  },
  stepInput(options: InputOptions & WizardStep) {
    const inputBox = vscode.window.createInputBox();
    Object.assign(inputBox, wizardFields(options), { prompt: options.prompt, value: options.value ?? '', password: options.password ?? false });
    inputBox.onDidChangeValue((value) => (inputBox.validationMessage = options.validate?.(value)));
    return runWizardStep<string>(inputBox, (resolve) =>
      inputBox.onDidAccept(() => {
        const problem = options.validate?.(inputBox.value);
        inputBox.validationMessage = problem;
        if (!problem) resolve(inputBox.value);
      }),
    );
  },
};

/** A pick item whose texts (host and VM names among them) show their controls instead of obeying them. */
function visibleItem<T extends vscode.QuickPickItem>(item: T): T {
  return {
    ...item,
    label: visibleText(item.label),
    ...(item.description !== undefined ? { description: visibleText(item.description) } : {}),
    ...(item.detail !== undefined ? { detail: visibleText(item.detail) } : {}),
  };
}

function wizardFields(options: { title: string } & WizardStep): Partial<vscode.QuickInput> & { buttons: readonly vscode.QuickInputButton[] } {
  return {
    title: options.title,
    step: options.step,
    totalSteps: options.totalSteps,
    ignoreFocusOut: true,
    buttons: options.step > 1 ? [vscode.QuickInputButtons.Back] : [],
  };
}

/** Shows a wizard step until it is accepted (`onAccept` resolves), Back is pressed (BACK) or it is dismissed (undefined). */
function runWizardStep<R>(input: vscode.QuickPick<vscode.QuickPickItem> | vscode.InputBox, onAccept: (resolve: (value: R) => void) => vscode.Disposable): Promise<R | Back | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (value: R | Back | undefined) => {
      if (settled) return;
      settled = true;
      for (const d of disposables) d.dispose();
      input.dispose();
      resolve(value);
    };
    const disposables = [
      onAccept((value) => finish(value)),
      input.onDidTriggerButton((button) => button === vscode.QuickInputButtons.Back && finish(BACK)),
      input.onDidHide(() => finish(undefined)),
    ];
    input.show();
  });
}

let baseInterface: UserInterface = vscodeUserInterface;
/** The UI of the command running in this async context, if it asks through one of its own (Retry's remembered answers). */
const commandInterface = new AsyncLocalStorage<UserInterface>();

/** The UI in use: the command's own where it has one, else the base (VS Code's; swapped only by the extension's test API). */
export const ui = {
  get current(): UserInterface {
    return commandInterface.getStore() ?? baseInterface;
  },
  set current(replacement: UserInterface) {
    baseInterface = replacement;
  },
  get base(): UserInterface {
    return baseInterface;
  },
  /** Runs `work` with `inner` answering every question it asks, down to the last await. */
  within<T>(inner: UserInterface, work: () => Promise<T>): Promise<T> {
    return commandInterface.run(inner, work);
  },
};

/** Shows a notification; its message carries host and VM names, so it is shown as one line of text whose controls are visible. */
export function notify(severity: Severity, message: string, ...actions: string[]): Promise<string | undefined> {
  return ui.current.notify(severity, visibleText(message), ...actions);
}
