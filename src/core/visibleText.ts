/**
 * Names come from the hosts (pool, host and VM name-labels: anyone with VM operator rights can rename a VM), so
 * they are shown as text, never as markup or layout: Markdown characters escaped in tooltips, and the Unicode
 * controls that reorder or hide text (bidirectional overrides and isolates, zero-width characters) made visible.
 * The same goes for the log: every line of an entry after its first is indented, so a name with newlines
 * cannot print a line that reads as an entry of its own. No `vscode` import, so it is unit-tested as is.
 */

const HIDDEN_CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/gu;

/** Each reordering or invisible control shown as `<U+202E>`; newlines kept (for a dialog's several lines). */
export function visibleLines(text: string): string {
  return text.replace(HIDDEN_CONTROLS, (c) => `<U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}>`);
}

/** One line of text, controls visible (see visibleLines); newlines and tabs become spaces. */
export function visibleText(text: string): string {
  return visibleLines(text.replace(/[\r\n\t]+/g, ' '));
}

/** Text for a Markdown tooltip: visible (see above), every Markdown and HTML character escaped. */
export function markdownText(text: string): string {
  return visibleText(text).replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, (c) => `\\${c}`);
}

/** One log entry: controls visible, every line after the first indented under it. */
export function logText(text: string): string {
  return visibleLines(text.replace(/\r\n?/g, '\n')).replace(/\n/g, '\n    ');
}
