// Bundles the extension into CommonJS files so the .vsix ships without node_modules.
// Usage: node esbuild.mjs [--production] [--watch]
import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const require = createRequire(import.meta.url);

/** @type {import('esbuild').BuildOptions} */
const common = {
  outdir: 'dist',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'warning',
  // vscode is provided by the host; ssh2 loads cpu-features and its crypto binding in try/catch
  // and falls back to pure JS, so leaving them out keeps the bundle portable (no native code).
  external: ['vscode', 'cpu-features', '*.node'],
};

/**
 * ssh2 is three quarters of the code, and the extension needs it only once it connects
 * (src/core/ssh/ssh2.ts loads it lazily). In its own file, VS Code does not read and compile it
 * while activating the extension.
 */
const ssh2Apart = {
  name: 'ssh2-apart',
  setup(build) {
    build.onResolve({ filter: /^ssh2$/ }, () => ({ path: './ssh2.js', external: true }));
  },
};

const builds = [
  {
    ...common,
    entryPoints: { extension: 'src/extension.ts' },
    plugins: [ssh2Apart],
    // The bundle's first statement notes when evaluation began, so activate() can log how long
    // loading the bundle took (src/extension.ts reads it).
    banner: { js: 'var __xenPoolsBundleStart = performance.now();' },
  },
  { ...common, entryPoints: { ssh2: require.resolve('ssh2') } },
];

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
