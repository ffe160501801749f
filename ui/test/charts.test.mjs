// Pure-function tests of the reviewer UI's chart script: node --test ui/test/charts.test.mjs
// (no npm packages; UiChartsScriptTest runs it in the Maven build when node is installed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  linearScale, logScale, niceTicks, logTicks, formatMs, heatColour, luminance, contrast, textColourOn,
  latencySeries, confusionData, latencyLayout, confusionLayout, latencyChart, confusionChart, renderAll, MAX_CLASSES,
  windowsData, windowsLayout,
  paretoData, paretoLayout, paretoChart,
  lossSeries, lossLayout, formatLoss,
} from '../charts.js';
import { page, Text } from './fake-dom.mjs';

const candidate = { name: 'candidate', edges: [1, 1.259, 1.585, 1.995], counts: [10, 0, 30], p50: 1.7, p95: 1.9, p99: 1.99 };
const production = { name: 'production', edges: [1.585, 1.995, 2.512], counts: [5, 15], p50: 2.1, p95: 2.4, p99: 2.5 };

test('linear and log scales map their domain ends onto the range ends', () => {
  const lin = linearScale([0, 10], [100, 0]);
  assert.equal(lin(0), 100);
  assert.equal(lin(10), 0);
  assert.equal(lin(5), 50);
  const log = logScale([1, 100], [0, 200]);
  assert.equal(log(1), 0);
  assert.equal(log(10), 100);
  assert.equal(log(100), 200);
  assert.throws(() => logScale([0, 10], [0, 1]), /positive domain/);
});

test('ticks are 1-2-5 steps that reach the maximum', () => {
  assert.deepEqual(niceTicks(0.75, 4), [0, 0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(niceTicks(1, 4), [0, 0.5, 1]);
  assert.deepEqual(niceTicks(0), [0, 1]);
  assert.deepEqual(logTicks(0.3, 40), [0.5, 1, 2, 5, 10, 20]);
  assert.deepEqual(logTicks(0.05, 300), [0.1, 1, 10, 100]);
});

test('latencies read in ms to three digits', () => {
  assert.equal(formatMs(1.23456), '1.23 ms');
  assert.equal(formatMs(1234.5), '1230 ms');
  assert.equal(formatMs(0.0004567), '0.000457 ms');
  assert.equal(formatMs(NaN), '–');
});

test('the colour scale runs light to dark and counts stay readable on every shade', () => {
  assert.equal(heatColour(0), 'rgb(248, 250, 252)');
  assert.equal(heatColour(1), 'rgb(30, 58, 138)');
  assert.equal(heatColour(-1), heatColour(0));
  assert.equal(heatColour(2), heatColour(1));
  assert.equal(heatColour(NaN), heatColour(0));
  let previous = Infinity;
  for (let i = 0; i <= 100; i++) {
    const fill = heatColour(i / 100);
    const l = luminance(fill);
    assert.ok(l <= previous, 'luminance falls as the share grows (' + fill + ')');
    previous = l;
    assert.ok(contrast(fill, textColourOn(fill)) >= 4.5, 'count text on ' + fill + ' meets WCAG AA');
  }
  assert.equal(textColourOn(heatColour(0)), '#000000');
  assert.equal(textColourOn(heatColour(1)), '#ffffff');
});

test('latency series that cannot be drawn are dropped, not guessed at', () => {
  const good = latencySeries({ series: [candidate] });
  assert.equal(good.length, 1);
  assert.equal(good[0].total, 40);
  assert.deepEqual(good[0].percentiles.map((p) => p.label), ['p50', 'p95', 'p99']);
  for (const bad of [
    { ...candidate, edges: [1, 2] },               // one edge too few
    { ...candidate, edges: [1, 0.5, 2, 3] },       // not ascending
    { ...candidate, edges: [0, 1, 2, 3] },         // not positive (log axis)
    { ...candidate, counts: [0, 0, 0] },           // no batches
    { ...candidate, counts: [1, -1, 2] },
    { ...candidate, counts: ['1', 2, 3] },
    { ...candidate, name: 7 },
  ]) {
    assert.equal(latencySeries({ series: [bad] }).length, 0, JSON.stringify(bad));
  }
  assert.deepEqual(latencySeries(null), []);
  assert.deepEqual(latencySeries({}), []);
});

test('bucket to bar geometry: bars share a bucket side by side and heights are shares of each series', () => {
  const series = latencySeries({ series: [candidate, production] });
  const L = latencyLayout(series, { width: 600, height: 200, left: 50, right: 10, top: 20, bottom: 40 });
  assert.equal(L.x(1), 50);
  assert.equal(L.x(2.512), 590);
  assert.equal(L.bars.length, 4, 'one bar per non-empty bucket per series');
  const [c0, c2, p0, p1] = L.bars;
  assert.equal(c0.count, 10);
  assert.equal(c0.share, 0.25);
  assert.equal(c2.share, 0.75);
  assert.equal(p1.share, 0.75);
  assert.equal(c2.height, p1.height, 'equal shares, equal heights');
  assert.ok(Math.abs(c2.height - 3 * c0.height) < 1e-9, 'heights proportional to shares');
  // the shared bucket [1.585, 1.995): candidate in the left half, production in the right
  assert.equal(c2.from, p0.from);
  assert.ok(c2.x < p0.x && c2.x + c2.width <= p0.x + 1e-9);
  assert.ok(p0.x + p0.width <= L.x(1.995));
  for (const b of L.bars) {
    assert.ok(b.y + b.height <= L.y(0) + 1e-9 && b.y >= L.top - 1e-9, 'bars stay inside the plot');
  }
  assert.equal(L.y(L.yTicks[L.yTicks.length - 1]), 20, 'the top tick is the top of the plot');
});

test('percentile markers sit at their values and close ones share a label', () => {
  const series = latencySeries({ series: [{ ...candidate, p50: 1.1, p95: 1.9, p99: 1.91 }] });
  const L = latencyLayout(series);
  assert.deepEqual(L.markers.map((m) => m.label), ['p50', 'p95', 'p99']);
  assert.equal(L.markers[0].x, L.x(1.1));
  assert.deepEqual(L.markers.map((m) => m.text), ['p50', 'p95/p99', '']);
});

test('confusion data must be a square matrix of counts; labels default to class indices', () => {
  assert.deepEqual(confusionData({ matrix: [[1, 0], [2, 3]] }).labels, ['0', '1']);
  assert.deepEqual(confusionData({ matrix: [[1, 0], [2, 3]], labels: ['cat', 'dog'] }).labels, ['cat', 'dog']);
  assert.equal(confusionData({ matrix: [[1, 0], [2]] }), null);
  assert.equal(confusionData({ matrix: [[1, 'x'], [2, 3]] }), null);
  assert.equal(confusionData({ matrix: [] }), null);
  const big = Array.from({ length: MAX_CLASSES + 1 }, () => Array(MAX_CLASSES + 1).fill(0));
  assert.equal(confusionData({ matrix: big }), null, 'too many classes: the table only');
});

test('confusion cells are shaded by the share of their true class and say what they are', () => {
  const L = confusionLayout(confusionData({ matrix: [[8, 2], [0, 0]], labels: ['a', 'b'] }), { cell: 30, left: 10, top: 20 });
  assert.equal(L.cells.length, 4);
  const [aa, ab, ba] = L.cells;
  assert.equal(aa.share, 0.8);
  assert.equal(aa.fill, heatColour(0.8));
  assert.equal(ab.x, 40);
  assert.equal(ba.y, 50);
  assert.equal(aa.label, 'true a, predicted a: 8 (80% of true a)');
  assert.equal(ba.label, 'true b, predicted a: 0', 'an empty row has no share to state');
  assert.equal(ba.fill, heatColour(0));
});

test('the heat map has one cell per class pair, each with a title and aria-label', () => {
  const n = 10;
  const matrix = Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => (r === c ? 90 : 1)));
  const { doc, figure, details } = page('confusion', JSON.stringify({ matrix }));
  assert.equal(renderAll(doc), 1);
  const svg = figure.all('svg')[0];
  const cells = svg.all('g').filter((g) => (g.getAttribute('class') || '').split(' ').includes('cell'));
  assert.equal(cells.length, n * n);
  for (const cell of cells) {
    assert.match(cell.getAttribute('aria-label'), /^true \d, predicted \d: \d+/);
    assert.equal(cell.all('title')[0].textContent, cell.getAttribute('aria-label'));
  }
  assert.ok(svg.textContent.includes('predicted class') && svg.textContent.includes('true class'), 'axes are labelled');
  assert.equal(figure.hidden, false);
  assert.equal(figure.getAttribute('data-rendered'), 'true');
  assert.equal(details.open, false, 'the table folds away once the chart is drawn');
});

test('the latency chart draws bars, percentile markers and a legend', () => {
  const { doc, figure } = page('latency', JSON.stringify({ unit: 'ms', series: [candidate, production] }));
  assert.equal(renderAll(doc), 1);
  const svg = figure.all('svg')[0];
  assert.equal(svg.all('rect').length, 4);
  assert.equal(svg.all('g').filter((g) => g.getAttribute('class') === 'marker').length, 6);
  assert.match(svg.getAttribute('aria-label'), /candidate p50 1.7 ms, p95 1.9 ms, p99 1.99 ms; production p50 2.1 ms/);
  assert.equal(figure.all('li').length, 2);
});

test('strings from the data become text, never markup', () => {
  const evil = '</script><img src=x onerror=alert(1)><!--';
  const { doc, figure } = page('confusion', JSON.stringify({ matrix: [[1, 0], [0, 1]], labels: [evil, 'b&"c'] }));
  assert.equal(renderAll(doc), 1);
  assert.equal(figure.all('img').length, 0);
  const texts = [];
  (function collect(node) {
    for (const c of node.childNodes) c instanceof Text ? texts.push(c.data) : collect(c);
  })(figure);
  assert.ok(texts.includes('true ' + evil + ', predicted ' + evil + ': 1 (100% of true ' + evil + ')'), 'the label is kept as text');
  const labels = figure.all('g').find((g) => g.getAttribute('class') === 'labels');
  assert.ok(labels.textContent.includes('</script><i…'), 'long labels are shortened, still as text');

  const latency = page('latency', JSON.stringify({ series: [{ ...candidate, name: evil }] }));
  assert.equal(renderAll(latency.doc), 1);
  assert.equal(latency.figure.all('img').length, 0);
  assert.ok(latency.figure.all('svg')[0].getAttribute('aria-label').startsWith('Latency per batch: ' + evil));

  const source = readFileSync(new URL('../charts.js', import.meta.url), 'utf8').replace(/^\s*\/\/.*$/gm, '');
  for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function']) {
    assert.ok(!source.includes(sink), 'charts.js does not use ' + sink);
  }
});

test('data it does not understand leaves the figure hidden and the table open', () => {
  for (const [kind, json] of [['latency', '{"series": []}'], ['confusion', '{"matrix": [[1, 2]]}'], ['confusion', 'not json'], ['pie', '{}']]) {
    const { doc, figure, details } = page(kind, json);
    assert.equal(renderAll(doc), 0, kind + ' ' + json);
    assert.equal(figure.hidden, true);
    assert.equal(details.open, true);
    assert.equal(figure.all('svg').length, 0);
  }
});

const rollout = {
  windows: [1, 2, 3],
  series: [
    { name: 'canary v2', errorRate: [0.01, 0, 0.2], p95Ms: [3.1, 2.9, 4.4] },
    { name: 'stable v1', errorRate: [0.005, null, 0.004], p95Ms: [2.5, null, 2.6] },
  ],
};

test('rollout windows: a version that served nothing in a window has no point there, never a zero', () => {
  const checked = windowsData(rollout);
  assert.deepEqual(checked.windows, [1, 2, 3]);
  assert.deepEqual(checked.series[1].p95Ms, [2.5, null, 2.6]);
  const L = windowsLayout(checked);
  const [rate, p95] = L.panels;
  assert.equal(rate.key, 'errorRate');
  assert.equal(p95.key, 'p95Ms');
  assert.equal(p95.lines[0].points.length, 3);
  assert.equal(p95.lines[1].points.length, 2, 'stable has no point in window 2');
  assert.equal(p95.lines[1].segments.length, 0, 'no line drawn across the unmeasured window');
  assert.equal(p95.lines[0].segments.length, 1);
  assert.ok(rate.x1 <= p95.x0, 'the panels sit side by side');
  assert.equal(rate.lines[0].points[2].label, '20%');
  assert.ok(p95.lines[0].points[2].y < p95.lines[1].points[1].y, 'the higher p95 sits higher');
});

test('rollout windows data that cannot be drawn is dropped, not guessed at', () => {
  assert.equal(windowsData({ windows: [], series: rollout.series }), null);
  assert.equal(windowsData({ windows: [2, 1, 3], series: rollout.series }), null, 'windows must ascend');
  assert.equal(windowsData({ windows: [1, 2, 3], series: [{ name: 'x', errorRate: [0], p95Ms: [1] }] }), null, 'wrong length');
  const odd = windowsData({ windows: [1], series: [{ name: 'x', errorRate: [7], p95Ms: [-1] }] });
  assert.deepEqual(odd.series[0].errorRate, [null], 'a rate outside 0..1 is not a rate');
  assert.deepEqual(odd.series[0].p95Ms, [null]);
});

test('the rollout windows chart draws a line and points per version and a legend, names as text', () => {
  const evil = '<img src=x onerror=alert(1)>';
  const data = { ...rollout, series: [{ ...rollout.series[0], name: evil }, rollout.series[1]] };
  const { doc, figure, details } = page('windows', JSON.stringify(data));
  assert.equal(renderAll(doc), 1);
  const svg = figure.all('svg')[0];
  assert.equal(svg.getAttribute('data-testid'), 'windows-chart');
  assert.equal(svg.all('circle').length, 2 * (3 + 2));
  assert.equal(svg.all('polyline').length, 2, 'the canary line in both panels; stable, unmeasured in window 2, only points');
  assert.equal(figure.all('img').length, 0);
  assert.ok(svg.all('circle')[0].all('title')[0].textContent.startsWith(evil + ', window 1: '));
  assert.equal(figure.all('li').length, 2);
  assert.equal(details.open, false);
});

const grid = {
  task: 'compress', metric: 'accuracy', points: [
    { label: 'sparsity 0, float, rank 1', size_ratio: 1, drop_points: 0, latency_p50_ms: 0.056, on_front: false, chosen: false },
    { label: 'sparsity 0, 4 bit, rank 1', size_ratio: 0.2788, drop_points: 0, latency_p50_ms: 0.055, on_front: true, chosen: true },
    { label: 'sparsity 0, 4 bit, rank 0.5', size_ratio: 0.1973, drop_points: 1.1, latency_p50_ms: null, on_front: true, chosen: false },
    { label: 'sparsity 0.5, 4 bit, rank 1', size_ratio: 0.2793, drop_points: -0.2, latency_p50_ms: 0.07, on_front: true, chosen: false },
    { label: 'broken', size_ratio: 'big', drop_points: 1 },
  ],
};

test('the Pareto scatter keeps drawable points in size order and spans drops below zero', () => {
  const d = paretoData(grid);
  assert.equal(d.points.length, 4, 'a point without a numeric size ratio is dropped');
  assert.deepEqual(d.points.map((p) => p.sizeRatio), [0.1973, 0.2788, 0.2793, 1]);
  assert.equal(d.points[0].latency, null);
  const L = paretoLayout(d, { width: 200, height: 100, left: 0, right: 0, top: 0, bottom: 0 });
  assert.equal(L.yTicks[0], -0.2, 'a drop below zero (better than the input) stays on the chart');
  assert.equal(L.dots[3].cx, 200, 'the largest size ratio sits at the right end');
  assert.deepEqual(L.front.map((p) => p.sizeRatio), [0.1973, 0.2788, 0.2793]);
  assert.equal(paretoData({ points: [] }), null);
  assert.equal(paretoData({ points: [{ size_ratio: 0, drop_points: 1 }] }), null);
});

test('the Pareto chart draws every point, the front line, the chosen ring and a legend', () => {
  const { doc, figure, details } = page('pareto', JSON.stringify(grid));
  assert.equal(renderAll(doc), 1);
  const svg = figure.all('svg')[0];
  const points = svg.all('g').filter((g) => g.getAttribute('class') === 'point');
  assert.equal(points.length, 4);
  assert.equal(points.filter((g) => g.getAttribute('data-front') === 'true').length, 3);
  assert.equal(points.filter((g) => g.getAttribute('data-chosen') === 'true').length, 1);
  assert.equal(svg.all('polyline').length, 1);
  assert.match(svg.getAttribute('aria-label'), /4 points, 3 on the Pareto front; chosen sparsity 0, 4 bit, rank 1/);
  assert.equal(figure.all('li').length, 3);
  assert.equal(details.open, false);
  const evil = page('pareto', JSON.stringify({ points: [{ label: '<img src=x onerror=alert(1)>', size_ratio: 0.5, drop_points: 1 }] }));
  assert.equal(renderAll(evil.doc), 1);
  assert.equal(evil.figure.all('img').length, 0, 'labels stay text');
});

test('loss curves need two or more finite, non-negative losses', () => {
  assert.deepEqual(lossSeries({ task: 'train', loss: [0.7, 0.4] }), { task: 'train', loss: [0.7, 0.4] });
  assert.equal(lossSeries({ loss: [0.7] }), null);
  assert.equal(lossSeries({ loss: [0.7, NaN] }), null);
  assert.equal(lossSeries({ loss: [0.7, '0.4'] }), null);
  assert.equal(lossSeries({ loss: [0.7, -0.1] }), null);
  assert.equal(lossSeries(null), null);
  assert.equal(lossSeries({ task: 3, loss: [1, 0] }).task, '');
  assert.equal(formatLoss(0.123456), '0.1235');
  assert.equal(formatLoss(Infinity), '–');
});

test('the loss layout puts epoch 1 at the left, the last epoch at the right and zero loss at the bottom', () => {
  const L = lossLayout({ loss: [0.9, 0.5, 0.3, 0.35, 0.2, 0.18] }, { width: 200, height: 100, left: 20, right: 10, top: 10, bottom: 20 });
  assert.equal(L.points[0].x, 20);
  assert.equal(L.points[5].x, 190);
  assert.equal(L.y(0), 80);
  assert.deepEqual(L.yTicks, [0, 0.5, 1]);
  assert.equal(L.y(1), 10);
  assert.equal(L.xTicks[0], 1);
  assert.ok(L.xTicks.every((t) => Number.isInteger(t) && t >= 1 && t <= 6));
  assert.equal(L.lowest.epoch, 6);
  assert.ok(L.points[0].y < L.points[5].y, 'a higher loss sits higher');
});

test('the loss chart draws one point per epoch with its figure, and says the curve in words', () => {
  const { doc, figure, details } = page('loss', JSON.stringify({ task: 'fit <b>', loss: [0.69, 0.41, 0.33, 0.3] }));
  assert.equal(renderAll(doc), 1);
  assert.equal(figure.hidden, false);
  assert.equal(details.open, false);
  const svg = figure.all('svg')[0];
  assert.equal(svg.all('circle').length, 4);
  assert.equal(svg.all('path').length, 1);
  assert.match(svg.all('path')[0].getAttribute('d'), /^M[\d.]+ [\d.]+( L[\d.]+ [\d.]+){3}$/);
  assert.equal(svg.getAttribute('aria-label'),
    'Training loss per epoch of task fit <b>: 0.69 at epoch 1, 0.3 at epoch 4 (lowest 0.3 at epoch 4)');
  assert.equal(figure.all('b').length, 0, 'the task name is text, not markup');
  assert.ok(svg.all('title').some((t) => t.textContent === 'epoch 2: loss 0.41'));
});
