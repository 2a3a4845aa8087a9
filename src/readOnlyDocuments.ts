import * as vscode from 'vscode';

const SCHEME = 'xenpools';

/**
 * Read-only documents for `xe` output (pool parameters, command results): a content provider
 * scheme, so the editor cannot modify or save them, with an optional highlighted line.
 */
export class ReadOnlyDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly highlight = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('editor.findMatchHighlightBackground'),
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.findMatchForeground'),
  });
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(SCHEME, this);
  private counter = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '';
  }

  /** Opens `text` as a read-only document titled `title`; highlights the first line matching `highlight`. */
  async open(title: string, text: string, highlight?: RegExp, show: vscode.TextDocumentShowOptions = { preview: false }): Promise<vscode.TextEditor> {
    const uri = vscode.Uri.from({ scheme: SCHEME, path: `/${title.replace(/[^\w.-]+/g, '-')}`, query: String(++this.counter) });
    this.contents.set(uri.toString(), text);
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), show);
    const line = highlight ? text.split('\n').findIndex((l) => highlight.test(l)) : -1;
    if (line >= 0) {
      const range = new vscode.Range(line, 0, line, 0);
      editor.setDecorations(this.highlight, [range]);
      editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    }
    return editor;
  }

  dispose(): void {
    this.registration.dispose();
    this.highlight.dispose();
  }
}
