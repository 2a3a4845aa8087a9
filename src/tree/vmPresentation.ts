/**
 * How VMs look in the tree: power-state codicons, short descriptions, context values. No `vscode` import (unit-tested
 * with plain mocha), like presentation.ts for pools and hosts.
 */
import type { GuestVm } from '../core/xe/operations';
import type { Look } from './presentation';

const POWER_ICONS: Readonly<Record<string, string>> = { running: 'vm-running', halted: 'vm-outline', paused: 'debug-pause', suspended: 'debug-stackframe-dot' };

/**
 * `stranded`: the database says it runs on a host that is gone. Nothing runs it, and nothing can start it until its
 * power state is reset: its own look and context value (Reset Power State…).
 */
export function vmLook(vm: GuestVm, stranded: boolean): Look {
  if (stranded) return { description: `${vm.powerState} on a lost host`, icon: 'vm', color: 'list.warningForeground', contextValue: 'vm.stranded' };
  const icon = POWER_ICONS[vm.powerState] ?? 'vm';
  const color = vm.powerState === 'running' ? 'testing.iconPassed' : undefined;
  return { description: vm.powerState, icon, color, contextValue: `vm.${vm.powerState === 'halted' ? 'halted' : vm.powerState === 'running' ? 'running' : 'other'}` };
}

/** "3 VMs" / "1 VM". */
export function vmCount(count: number): string {
  return `${count} VM${count === 1 ? '' : 's'}`;
}
