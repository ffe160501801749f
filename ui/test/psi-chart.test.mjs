// The drift panel's PSI bars: node --test ui/test/psi-chart.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { psiBars, renderAll, PALETTE } from '../charts.js';
import { page } from './fake-dom.mjs';

const report = {
  threshold: 0.2,
  features: [
    { name: 'features[0]', psi: 0.01, drifted: false },
    { name: 'features[2]', psi: 0.9, drifted: true },
  ],
};

test('bars keep usable features only', () => {
  assert.deepEqual(psiBars({ features: [{ name: 'a', psi: 'x' }, { psi: 1 }, { name: 'b', psi: -0.0 }] }),
    [{ name: 'b', psi: 0, drifted: false }]);
  assert.deepEqual(psiBars(null), []);
  assert.deepEqual(psiBars({ features: 'nope' }), []);
});

test('one bar per feature, moved ones in the second colour, the threshold labelled', () => {
  const { doc, figure, details } = page('psi', JSON.stringify(report));
  assert.equal(renderAll(doc), 1);
  const svg = figure.all('svg')[0];
  const rects = svg.all('rect');
  assert.equal(rects.length, 2);
  assert.equal(rects[0].getAttribute('fill'), PALETTE[0]);
  assert.equal(rects[1].getAttribute('fill'), PALETTE[1]);
  assert.ok(Number(rects[1].getAttribute('width')) > Number(rects[0].getAttribute('width')));
  assert.match(svg.getAttribute('aria-label'), /moved features\[2\]/);
  assert.ok(svg.textContent.includes('PSI 0.2'));
  assert.equal(details.open, false);
});

test('data without features draws nothing and leaves the table open', () => {
  const { doc, details } = page('psi', JSON.stringify({ threshold: 0.2 }));
  assert.equal(renderAll(doc), 0);
  assert.equal(details.open, true);
});
