import { strict as assert } from 'node:assert';
import { markdownText, visibleText } from '../../../src/tree/safeText';

describe('names from the hosts shown as text (issue 12, finding 7)', () => {
  it('makes bidirectional overrides and zero-width characters visible, and newlines spaces', () => {
    assert.equal(visibleText('web\u202Eexe.txt'), 'web<U+202E>exe.txt');
    assert.equal(visibleText('a\u200Bb'), 'a<U+200B>b');
    assert.equal(visibleText('vm\nUUID: fake'), 'vm UUID: fake');
  });

  it('escapes Markdown: no fake lines, links or external images in a tooltip', () => {
    const hostile = '![x](https://evil.example/p.png) **bold** [link](command:xenPools.removePool)\n- fake line';
    const escaped = markdownText(hostile);
    assert.ok(!/(^|[^\\])!\[/.test(escaped), escaped);
    assert.ok(!/(^|[^\\])\[link\]/.test(escaped), escaped);
    assert.ok(!escaped.includes('\n'), escaped);
    assert.match(escaped, /\\\*\\\*bold\\\*\\\*/);
  });
});
