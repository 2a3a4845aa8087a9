import * as vscode from 'vscode';

/**
 * Tree of pools → hosts. This release has no pool store yet, so the tree is empty and VS Code
 * shows the welcome view; the node types arrive with the pool explorer.
 */
export class PoolsProvider implements vscode.TreeDataProvider<vscode.TreeItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.TreeItem | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  getTreeItem(element: vscode.TreeItem): vscode.TreeItem {
    return element;
  }

  getChildren(): vscode.TreeItem[] {
    return [];
  }

  refresh(node?: vscode.TreeItem): void {
    this.changed.fire(node);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
