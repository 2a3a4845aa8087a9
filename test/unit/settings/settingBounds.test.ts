import { strict as assert } from 'node:assert';
import { SETTING_BOUNDS, USER_ONLY_SETTINGS, bounded } from '../../../src/settingBounds';

describe('numeric settings within their bounds (issue 12, finding 6)', () => {
  it('moves a value outside its bounds to the nearest one, and a non-number to the default', () => {
    assert.equal(bounded(0, SETTING_BOUNDS.commandTimeoutSeconds), 2);
    assert.equal(bounded(1e9, SETTING_BOUNDS.commandTimeoutSeconds), 600);
    assert.equal(bounded('30', SETTING_BOUNDS.commandTimeoutSeconds), 30);
    assert.equal(bounded(Number.NaN, SETTING_BOUNDS.connectTimeoutSeconds), 5);
    assert.equal(bounded(-3, SETTING_BOUNDS.connectTimeoutSeconds), 1);
    assert.equal(bounded(7.6, SETTING_BOUNDS.maxConnections), 8);
    assert.equal(bounded(0, SETTING_BOUNDS.maxConnections), 1);
  });

  it('auto-refresh: 0 (or less) is off, anything else at least every 5 s', () => {
    assert.equal(bounded(0, SETTING_BOUNDS.autoRefreshSeconds), 0);
    assert.equal(bounded(-1, SETTING_BOUNDS.autoRefreshSeconds), 0);
    assert.equal(bounded(0.001, SETTING_BOUNDS.autoRefreshSeconds), 5);
    assert.equal(bounded(60, SETTING_BOUNDS.autoRefreshSeconds), 60);
  });
});

describe('the settings schema in package.json', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const manifest = require('../../../../package.json') as {
    contributes: { configuration: { properties: Record<string, { minimum?: number; maximum?: number }> } };
    capabilities?: { untrustedWorkspaces?: { supported: unknown; restrictedConfigurations?: string[] } };
  };
  const properties = manifest.contributes.configuration.properties;

  it('states the same bounds the code enforces', () => {
    for (const [key, bound] of Object.entries(SETTING_BOUNDS)) {
      const schema = properties[`xenPools.${key}`];
      assert.equal(schema?.maximum, bound.max, key);
      assert.equal(schema?.minimum, 'off' in bound ? bound.off : bound.min, key);
    }
  });

  it('declares the settings that decide whom we trust and where we log in as restricted in untrusted workspaces', () => {
    assert.equal(manifest.capabilities?.untrustedWorkspaces?.supported, 'limited');
    assert.deepEqual(manifest.capabilities?.untrustedWorkspaces?.restrictedConfigurations, [...USER_ONLY_SETTINGS].map((key) => `xenPools.${key}`));
  });
});
