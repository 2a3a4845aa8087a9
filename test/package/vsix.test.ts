import { strict as assert } from 'node:assert';
import { statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { listZip, type ZipEntry } from './zip';

/** `npm test` builds the .vsix with `npm run package` and passes its path here. */
const vsixPath = process.env.XENPOOLS_VSIX ?? 'dist/xenserver-pools.vsix';
const MAX_VSIX_BYTES = 1.5 * 1024 * 1024;

describe('the packaged .vsix', () => {
  let entries: ZipEntry[];
  let names: string[];

  before(() => {
    entries = listZip(vsixPath);
    names = entries.map((e) => e.name);
  });

  it(`is smaller than ${MAX_VSIX_BYTES} bytes`, () => {
    const { size } = statSync(vsixPath);
    assert.ok(size < MAX_VSIX_BYTES, `${vsixPath} is ${size} bytes`);
  });

  it('contains the bundle, the manifest and the view icon', () => {
    for (const required of ['extension/dist/extension.js', 'extension/dist/ssh2.js', 'extension/package.json', 'extension/media/xen-pools.svg', 'extension/package.nls.json']) {
      assert.ok(names.includes(required), `${required} missing; entries: ${names.join(', ')}`);
    }
  });

  it('ships no sources, tests, source maps or node_modules', () => {
    const leaked = names.filter((n) => /^extension\/(src|test|server|out|node_modules|scripts)\//.test(n) || /\.(ts|map)$/.test(n));
    assert.deepEqual(leaked, []);
  });

  it('bundles every dependency: the bundles require only vscode, node built-ins, ssh2\'s optional natives and each other', () => {
    const allowed = new Set(['vscode', 'cpu-features', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    // ssh2 has its own file, which the extension loads when it first connects (not while activating).
    const bundles = { 'extension/dist/extension.js': new Set(['./ssh2.js']), 'extension/dist/ssh2.js': new Set<string>() };
    for (const [name, siblings] of Object.entries(bundles)) {
      const bundle = entries.find((e) => e.name === name);
      assert.ok(bundle, `${name} missing`);
      const required = [...bundle.read().toString('utf8').matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1] ?? '');
      const unexpected = required.filter((module) => !allowed.has(module) && !siblings.has(module) && !module.endsWith('.node'));
      assert.deepEqual([...new Set(unexpected)], [], name);
    }
  });

  it('declares the view container, the pools view and its welcome view', () => {
    const manifest = entries.find((e) => e.name === 'extension/package.json');
    assert.ok(manifest);
    const pkg = JSON.parse(manifest.read().toString('utf8')) as {
      contributes: { viewsContainers: { activitybar: { id: string }[] }; views: Record<string, { id: string }[]>; viewsWelcome: { view: string }[] };
    };
    assert.equal(pkg.contributes.viewsContainers.activitybar[0]?.id, 'xenPools');
    assert.equal(pkg.contributes.views.xenPools?.[0]?.id, 'xenPools.pools');
    assert.equal(pkg.contributes.viewsWelcome[0]?.view, 'xenPools.pools');
  });

  it('carries every image its README shows, so the extension page has no broken pictures', () => {
    const readme = entries.find((e) => e.name.toLowerCase() === 'extension/readme.md');
    assert.ok(readme, 'README.md is not in the .vsix');
    const images = [...readme.read().toString('utf8').matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1] ?? '');
    assert.ok(images.length > 0, 'the README shows no screenshot');
    const missing = images.filter((image) => !/^https?:/.test(image) && !names.includes(`extension/${image}`));
    assert.deepEqual(missing, []);
  });
});
