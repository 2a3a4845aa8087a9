import { strict as assert } from 'node:assert';
import { logText, markdownText, visibleText } from '../../../src/core/visibleText';

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

describe('log entries with names from the hosts', () => {
  it('indents every line after the first, so a name with newlines cannot forge an entry of its own', () => {
    assert.equal(logText('[recovery] stale VM: web\n[info] [recovery] transition done'), '[recovery] stale VM: web\n    [info] [recovery] transition done');
    assert.equal(logText('plan:\n  step 1\n  step 2'), 'plan:\n      step 1\n      step 2');
  });

  it('shows reordering controls and keeps one-line text as it is', () => {
    assert.equal(logText('vm\u202Egnp.exe'), 'vm<U+202E>gnp.exe');
    assert.equal(logText('[xe] host1: xe host-list'), '[xe] host1: xe host-list');
    assert.equal(logText('a\r\nb'), 'a\n    b');
  });
});
