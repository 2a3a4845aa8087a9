/**
 * The bounds of the numeric settings, enforced in code too: VS Code's schema only warns, and a value such as
 * `autoRefreshSeconds: 0.001` (hundreds of refreshes a second) or `commandTimeoutSeconds: 0` must not reach the
 * engine. No `vscode` import, so it is unit-tested as is.
 */
export interface Bound {
  readonly fallback: number;
  readonly min: number;
  readonly max: number;
  readonly integer?: boolean;
  /** A value that means "off" and is allowed below `min`. */
  readonly off?: number;
}

export const SETTING_BOUNDS = {
  connectTimeoutSeconds: { fallback: 5, min: 1, max: 120 },
  commandTimeoutSeconds: { fallback: 30, min: 2, max: 600 },
  autoRefreshSeconds: { fallback: 30, min: 5, max: 3600, off: 0 },
  maxConnections: { fallback: 32, min: 1, max: 1024, integer: true },
} as const satisfies Record<string, Bound>;

/** The value within its bounds: a non-number gets the default, one outside is moved to the nearest bound. */
export function bounded(value: unknown, bound: Bound): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return bound.fallback;
  if (bound.off !== undefined && value <= bound.off) return bound.off;
  const within = Math.min(bound.max, Math.max(bound.min, value));
  return bound.integer ? Math.round(within) : within;
}

/**
 * Settings that decide which host keys are trusted and where the extension logs in with the admin's keys and
 * passwords. A workspace (a cloned repository) must not set them: they are read from the user's own settings only
 * (VS Code's "machine" scope would do that too, but moves them into separate Remote settings under code-server).
 */
export const USER_ONLY_SETTINGS = ['knownHostsFile', 'readSshConfig', 'pools'] as const;
