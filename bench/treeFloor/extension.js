// The benchmark's baseline tree (see README.md): no SSH, no state, the rows of the xenPools.pools setting from memory.
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS, loaded by VS Code as it is (no build step) */
const vscode = require('vscode');
const fs = require('fs');

/** VMs per host: as in the bench's labs (the pool named bench-big-vms has 200 per host, the others 10). */
const vmsPerHost = (pool) => (pool.name === 'bench-big-vms' ? 200 : 10);

function activate(context) {
  const pools = vscode.workspace.getConfiguration('xenPools').get('pools') ?? [];
  const changed = new vscode.EventEmitter();
  let changes = 0;
  const hostRows = new Map();
  const roots = pools.map((pool) => ({ kind: 'pool', pool }));
  const hostsOf = (poolRow) => poolRow.pool.members.map((member) => {
    const key = `${poolRow.pool.name}/${member.name}`;
    if (!hostRows.has(key)) hostRows.set(key, { kind: 'host', pool: poolRow.pool, member, state: 'running' });
    return hostRows.get(key);
  });
  const provider = {
    onDidChangeTreeData: changed.event,
    getChildren(row) {
      if (!row) return roots;
      if (row.kind === 'pool') return hostsOf(row);
      if (row.kind === 'host') return Array.from({ length: vmsPerHost(row.pool) }, (_, i) => ({ kind: 'vm', name: `vm${i + 1}-${row.member.name}` }));
      return [];
    },
    getTreeItem(row) {
      if (row.kind === 'pool') {
        const item = new vscode.TreeItem(row.pool.name, vscode.TreeItemCollapsibleState.Expanded);
        item.description = 'healthy';
        item.iconPath = new vscode.ThemeIcon('server-environment');
        item.accessibilityInformation = { label: `Pool ${row.pool.name}, healthy` };
        return item;
      }
      if (row.kind === 'host') {
        const item = new vscode.TreeItem(row.member.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.description = row.state;
        item.iconPath = new vscode.ThemeIcon('server');
        item.accessibilityInformation = { label: `Host ${row.member.name}, ${row.state}` };
        return item;
      }
      const item = new vscode.TreeItem(row.name, vscode.TreeItemCollapsibleState.None);
      item.description = 'running';
      item.iconPath = new vscode.ThemeIcon('vm-running');
      return item;
    },
  };
  context.subscriptions.push(vscode.window.createTreeView('treeFloor.rows', { treeDataProvider: provider }));
  // A row's change, like a probe's answer: every 3 s the first pool's last host (not the one the bench expands) says "xapi down" or "running" again,
  // and TREE_FLOOR_LOG gets the time of the change (as the product's log has the probe's answer).
  const log = process.env.TREE_FLOOR_LOG;
  const timer = setInterval(() => {
    const first = roots[0] && hostsOf(roots[0]).at(-1);
    if (!first) return;
    first.state = ++changes % 2 ? 'xapi down' : 'running';
    if (log) fs.appendFileSync(log, `${Date.now()} ${first.state}\n`);
    changed.fire(first);
  }, 3000);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });
}

module.exports = { activate };
