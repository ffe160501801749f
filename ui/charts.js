// Anvil reviewer UI charts: one dependency-free ES module that draws SVG charts from JSON the server
// embeds in the page (<script type="application/json">). A figure marked data-chart="latency",
// data-chart="confusion", data-chart="windows", data-chart="pareto" or data-chart="loss" names its data (data-source) and its table fallback (data-fallback, a
// <details> that is open until a chart is drawn). Without JavaScript, or with data this script does
// not understand, the tables are all there is, and they say everything the charts do.
//
// Safety: every string from the data goes into the page through setAttribute or a text node, never
// through innerHTML, so class names or model names cannot inject markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Series colours: the candidate first, then the references (blue/orange/purple/green tell apart in common colour blindness). */
export const PALETTE = ['#1d4ed8', '#c2410c', '#7e22ce', '#047857'];

/** Above this many classes the heat map's cells get too small to read; the table stays. */
export const MAX_CLASSES = 60;

// ---------------------------------------------------------------- scales and ticks (pure)

/** Maps [d0, d1] linearly onto [r0, r1]. */
export function linearScale([d0, d1], [r0, r1]) {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** Maps [d0, d1] (both > 0) onto [r0, r1] on a log axis. */
export function logScale([d0, d1], [r0, r1]) {
  if (!(d0 > 0 && d1 > 0)) {
    throw new RangeError('a log scale needs a positive domain, got [' + d0 + ', ' + d1 + ']');
  }
  const l0 = Math.log10(d0);
  const span = Math.log10(d1) - l0 || 1;
  return (v) => r0 + ((Math.log10(v) - l0) / span) * (r1 - r0);
}

/** Ticks from 0 up to at least max in steps of 1, 2 or 5 × 10^k, about `count` of them. */
export function niceTicks(max, count = 4) {
  if (!(max > 0)) {
    return [0, 1];
  }
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let i = 0; ; i++) {
    const t = round(i * step);
    ticks.push(t);
    if (t >= max) {
      return ticks;
    }
  }
}

/** Ticks on a log axis: 1, 2 and 5 × 10^k inside [min, max]; only powers of ten when that gives enough. */
export function logTicks(min, max) {
  const all = [];
  for (let k = Math.floor(Math.log10(min)); k <= Math.ceil(Math.log10(max)); k++) {
    for (const m of [1, 2, 5]) {
      const t = round(m * 10 ** k);
      if (t >= min && t <= max) {
        all.push(t);
      }
    }
  }
  const decades = all.filter((t) => Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9);
  return decades.length >= 3 ? decades : all;
}

function round(x) {
  return Number(x.toPrecision(12));
}

/** A latency for labels: three significant digits, in ms. */
export function formatMs(ms) {
  if (!Number.isFinite(ms)) {
    return '–';
  }
  return String(Number(ms.toPrecision(3))) + ' ms';
}

export function formatPercent(share) {
  return (Math.round(share * 1000) / 10).toString() + '%';
}

// ---------------------------------------------------------------- colour (pure)

const LIGHT = [248, 250, 252];
const DARK = [30, 58, 138];

/** The heat map's fill for a share in [0, 1]: from near-white to dark blue. Out of range or NaN clamps. */
export function heatColour(share) {
  const t = Number.isFinite(share) ? Math.min(1, Math.max(0, share)) : 0;
  const [r, g, b] = LIGHT.map((c, i) => Math.round(c + (DARK[i] - c) * t));
  return 'rgb(' + r + ', ' + g + ', ' + b + ')';
}

/** WCAG relative luminance of 'rgb(r, g, b)' or '#rrggbb'. */
export function luminance(colour) {
  const rgb = colour.startsWith('#')
    ? [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16))
    : colour.match(/\d+/g).slice(0, 3).map(Number);
  const [r, g, b] = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Black or white, whichever reads better on this fill (either gives at least 4.5:1 on any fill). */
export function textColourOn(fill) {
  return contrast(fill, '#000000') >= contrast(fill, '#ffffff') ? '#000000' : '#ffffff';
}

// ---------------------------------------------------------------- data checks (pure)

function finiteNumber(x) {
  return typeof x === 'number' && Number.isFinite(x);
}

/**
 * The latency series that can be drawn: a histogram with ascending positive edges, one more edge
 * than counts, non-negative counts and at least one batch. Anything else is dropped, not guessed at.
 */
export function latencySeries(data) {
  const series = data && Array.isArray(data.series) ? data.series : [];
  return series.filter((s) => s && typeof s.name === 'string' && Array.isArray(s.edges) && Array.isArray(s.counts)
      && s.edges.length === s.counts.length + 1 && s.counts.length > 0
      && s.edges.every((e, i) => finiteNumber(e) && e > 0 && (i === 0 || e > s.edges[i - 1]))
      && s.counts.every((c) => finiteNumber(c) && c >= 0)
      && s.counts.some((c) => c > 0))
    .map((s) => ({
      name: s.name, edges: s.edges, counts: s.counts,
      total: s.counts.reduce((a, c) => a + c, 0),
      percentiles: ['p50', 'p95', 'p99'].filter((p) => finiteNumber(s[p]) && s[p] > 0).map((p) => ({ label: p, value: s[p] })),
    }));
}

/** A square matrix of non-negative counts with one label per class, or null. */
export function confusionData(data) {
  const matrix = data && data.matrix;
  if (!Array.isArray(matrix) || matrix.length === 0 || matrix.length > MAX_CLASSES) {
    return null;
  }
  const n = matrix.length;
  if (!matrix.every((row) => Array.isArray(row) && row.length === n && row.every((c) => finiteNumber(c) && c >= 0))) {
    return null;
  }
  const labels = Array.isArray(data.labels) && data.labels.length === n ? data.labels.map(String) : matrix.map((_, i) => String(i));
  return { matrix, labels };
}

/**
 * The rollout windows chart's data: window numbers (ascending positive integers) and, per version, an
 * error rate (0..1) and a p95 latency (ms, > 0) per window, each null where the version served nothing
 * in that window (nothing was measured: the line breaks there, it never drops to 0). A series of the
 * wrong length is dropped; no series or no window gives null.
 */
export function windowsData(data) {
  const windows = data && Array.isArray(data.windows) ? data.windows : null;
  if (!windows || windows.length === 0
      || !windows.every((w, i) => Number.isInteger(w) && w > 0 && (i === 0 || w > windows[i - 1]))) {
    return null;
  }
  const measure = (v, ok) => (finiteNumber(v) && ok(v) ? v : null);
  const series = (Array.isArray(data.series) ? data.series : [])
    .filter((s) => s && typeof s.name === 'string' && Array.isArray(s.errorRate) && Array.isArray(s.p95Ms)
      && s.errorRate.length === windows.length && s.p95Ms.length === windows.length)
    .map((s) => ({
      name: s.name,
      errorRate: s.errorRate.map((v) => measure(v, (x) => x >= 0 && x <= 1)),
      p95Ms: s.p95Ms.map((v) => measure(v, (x) => x > 0)),
    }));
  return series.length === 0 ? null : { windows, series };
}

/**
 * Geometry of the windows chart: two panels side by side, error rate and p95 latency against the
 * window number, one line per version; a point per measured window, a line only between measured
 * neighbours.
 */
export function windowsLayout({ windows, series }, { panel = 320, gap = 40, height = 220, left = 56, right = 12, top = 28, bottom = 40 } = {}) {
  const panels = [['errorRate', 'canary and stable error rate', formatPercent], ['p95Ms', 'p95 latency', formatMs]]
    .map(([key, title, format], p) => {
      const x0 = left + p * (panel + gap + left);
      const x = windows.length === 1 ? () => x0 + panel / 2 : linearScale([windows[0], windows[windows.length - 1]], [x0, x0 + panel]);
      const max = Math.max(0, ...series.flatMap((s) => s[key].filter((v) => v !== null)));
      const yTicks = niceTicks(max, 4);
      const y = linearScale([0, yTicks[yTicks.length - 1]], [height - bottom, top]);
      const lines = series.map((s, k) => {
        const points = [];
        const segments = [];
        let run = [];
        s[key].forEach((v, i) => {
          if (v === null) {
            if (run.length > 1) segments.push(run);
            run = [];
            return;
          }
          const point = { series: k, name: s.name, window: windows[i], value: v, x: x(windows[i]), y: y(v), label: format(v) };
          points.push(point);
          run.push(point);
        });
        if (run.length > 1) segments.push(run);
        return { series: k, name: s.name, points, segments };
      });
      return { key, title, format, x0, x1: x0 + panel, x, y, yTicks, lines };
    });
  return { width: left + 2 * panel + gap + left + right, height, top, bottom, panels, windows };
}

/**
 * A training loss curve that can be drawn: at least two epochs, every loss a finite number not below
 * zero (the trainers' losses are), or null.
 */
export function lossSeries(data) {
  const loss = data && Array.isArray(data.loss) ? data.loss : null;
  if (!loss || loss.length < 2 || !loss.every((v) => finiteNumber(v) && v >= 0)) {
    return null;
  }
  return { task: typeof data.task === 'string' ? data.task : '', loss };
}

/** A loss for labels: four significant digits. */
export function formatLoss(v) {
  return Number.isFinite(v) ? String(Number(v.toPrecision(4))) : '–';
}

// ---------------------------------------------------------------- layouts (pure)

/** Geometry of the loss curve: epochs 1..n along x, the loss from 0 up along y, one point per epoch. */
export function lossLayout({ loss }, { width = 680, height = 240, left = 64, right = 24, top = 16, bottom = 44 } = {}) {
  const n = loss.length;
  const x = linearScale([1, n], [left, width - right]);
  const yTicks = niceTicks(Math.max(...loss), 4);
  const y = linearScale([0, yTicks[yTicks.length - 1]], [height - bottom, top]);
  const xTicks = niceTicks(n, 5).filter((t) => t >= 1 && Number.isInteger(t));
  if (xTicks[0] !== 1) {
    xTicks.unshift(1);
  }
  const points = loss.map((v, i) => ({ epoch: i + 1, loss: v, x: x(i + 1), y: y(v) }));
  const lowest = points.reduce((a, p) => (p.loss < a.loss ? p : a), points[0]);
  return { width, height, left, right, top, bottom, x, y, xTicks, yTicks, points, lowest };
}

/**
 * Geometry of the latency histogram: a log x axis over all series' edges, y as the share of each
 * series' batches (so models timed over different batch counts compare), one bar per non-empty
 * bucket per series, side by side within the bucket, and a marker per series and percentile.
 */
export function latencyLayout(series, { width = 680, height = 260, left = 56, right = 36, top = 14 + 14 * series.length, bottom = 44 } = {}) {
  const lo = Math.min(...series.map((s) => s.edges[0]));
  const hi = Math.max(...series.map((s) => s.edges[s.edges.length - 1]));
  const x = logScale([lo, hi], [left, width - right]);
  const maxShare = Math.max(...series.map((s) => Math.max(...s.counts) / s.total));
  const yTicks = niceTicks(maxShare, 4);
  const yTop = yTicks[yTicks.length - 1];
  const y = linearScale([0, yTop], [height - bottom, top]);
  const bars = [];
  const markers = [];
  series.forEach((s, k) => {
    s.counts.forEach((count, i) => {
      if (count === 0) {
        return;
      }
      const x0 = x(s.edges[i]);
      const slot = (x(s.edges[i + 1]) - x0) / series.length;
      const share = count / s.total;
      bars.push({
        series: k, name: s.name, from: s.edges[i], to: s.edges[i + 1], count, share,
        x: x0 + k * slot, width: Math.max(1, slot - 1), y: y(share), height: y(0) - y(share),
      });
    });
    // percentiles closer than a label's width share one label ("p95/p99") on the first of them
    let labelled = null;
    s.percentiles.forEach((p) => {
      const marker = { series: k, name: s.name, label: p.label, value: p.value, x: x(Math.min(hi, Math.max(lo, p.value))), text: p.label };
      if (labelled && marker.x - labelled.x < 28) {
        labelled.text += '/' + p.label;
        marker.text = '';
      } else {
        labelled = marker;
      }
      markers.push(marker);
    });
  });
  return {
    width, height, left, right, top, bottom, x, y, bars, markers,
    xTicks: logTicks(lo, hi), yTicks,
  };
}

/** Geometry of the confusion heat map: cells shaded by the share of their true class (row), with counts. */
export function confusionLayout({ matrix, labels }, { cell, left = 72, top = 64 } = {}) {
  const n = matrix.length;
  const size = cell ?? Math.max(18, Math.min(44, Math.floor(480 / n)));
  const cells = [];
  matrix.forEach((row, r) => {
    const rowTotal = row.reduce((a, c) => a + c, 0);
    row.forEach((count, c) => {
      const share = rowTotal === 0 ? 0 : count / rowTotal;
      const fill = heatColour(share);
      cells.push({
        row: r, col: c, count, share, fill, text: textColourOn(fill),
        x: left + c * size, y: top + r * size, size,
        label: 'true ' + labels[r] + ', predicted ' + labels[c] + ': ' + count
          + (rowTotal === 0 ? '' : ' (' + formatPercent(share) + ' of true ' + labels[r] + ')'),
      });
    });
  });
  return { n, size, left, top, width: left + n * size + 8, height: top + n * size + 8, cells, labels, showCounts: size >= 22 };
}

// ---------------------------------------------------------------- DOM (text nodes and attributes only)

/** An SVG element with attributes and children (strings become text nodes, never markup). */
export function svgEl(doc, name, attrs = {}, ...children) {
  const node = doc.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) {
    node.setAttribute(k, String(v));
  }
  for (const child of children) {
    node.appendChild(typeof child === 'string' ? doc.createTextNode(child) : child);
  }
  return node;
}

/** A chart's root element: sized by its layout, its summary as the accessible name and the title. */
function chartRoot(doc, kind, L, summary) {
  return svgEl(doc, 'svg', {
    class: 'chart ' + kind + '-chart', viewBox: '0 0 ' + L.width + ' ' + L.height, width: L.width, height: L.height,
    role: 'img', 'aria-label': summary, 'data-testid': kind + '-chart',
  }, svgEl(doc, 'title', {}, summary));
}

/**
 * The axes of a chart whose layout has x, y, xTicks, yTicks and its margins: a grid line and label per y tick,
 * a tick mark and label per x tick, the x axis line and both axis titles.
 */
function chartAxes(doc, L, { formatX, formatY, xTitle, yTitle }) {
  const base = L.height - L.bottom;
  const axes = svgEl(doc, 'g', { class: 'axes' });
  for (const t of L.yTicks) {
    axes.appendChild(svgEl(doc, 'line', { x1: L.left, x2: L.width - L.right, y1: fixed(L.y(t)), y2: fixed(L.y(t)), class: 'grid' }));
    axes.appendChild(svgEl(doc, 'text', { x: L.left - 6, y: fixed(L.y(t)) + 4, 'text-anchor': 'end' }, formatY(t)));
  }
  for (const t of L.xTicks) {
    axes.appendChild(svgEl(doc, 'line', { x1: fixed(L.x(t)), x2: fixed(L.x(t)), y1: base, y2: base + 5, class: 'tick' }));
    axes.appendChild(svgEl(doc, 'text', { x: fixed(L.x(t)), y: base + 18, 'text-anchor': 'middle' }, formatX(t)));
  }
  axes.appendChild(svgEl(doc, 'line', { x1: L.left, x2: L.width - L.right, y1: base, y2: base, class: 'axis' }));
  axes.appendChild(svgEl(doc, 'text', { x: (L.left + L.width - L.right) / 2, y: L.height - 6, 'text-anchor': 'middle' },
    xTitle));
  axes.appendChild(svgEl(doc, 'text', { x: 12, y: (L.top + base) / 2, 'text-anchor': 'middle',
    transform: 'rotate(-90 12 ' + fixed((L.top + base) / 2) + ')' }, yTitle));
  return axes;
}

function fixed(v) {
  return Number(v.toFixed(2));
}

function shortLabel(s) {
  return s.length > 12 ? s.slice(0, 11) + '…' : s;
}

export function latencyChart(doc, data) {
  const series = latencySeries(data);
  if (series.length === 0) {
    return null;
  }
  const L = latencyLayout(series);
  const summary = 'Latency per batch: ' + series.map((s) => s.name + ' '
    + s.percentiles.map((p) => p.label + ' ' + formatMs(p.value)).join(', ')).join('; ');
  const svg = chartRoot(doc, 'latency', L, summary);
  const base = L.height - L.bottom;
  svg.appendChild(chartAxes(doc, L, { formatX: String, formatY: formatPercent,
    xTitle: 'latency per batch (ms, log scale)', yTitle: 'share of batches' }));

  const bars = svgEl(doc, 'g', { class: 'bars' });
  for (const b of L.bars) {
    bars.appendChild(svgEl(doc, 'rect', {
      x: fixed(b.x), y: fixed(b.y), width: fixed(b.width), height: fixed(b.height), fill: PALETTE[b.series % PALETTE.length],
      'data-series': b.name, class: 'bar',
    }, svgEl(doc, 'title', {}, b.name + ': ' + b.count + ' batch(es), ' + formatPercent(b.share) + ', '
      + formatMs(b.from) + ' to ' + formatMs(b.to))));
  }
  svg.appendChild(bars);

  const marks = svgEl(doc, 'g', { class: 'markers' });
  for (const m of L.markers) {
    const colour = PALETTE[m.series % PALETTE.length];
    const labelY = 12 + m.series * 14;
    const g = svgEl(doc, 'g', { class: 'marker', 'data-percentile': m.label },
      svgEl(doc, 'title', {}, m.name + ' ' + m.label + ': ' + formatMs(m.value)),
      svgEl(doc, 'line', { x1: fixed(m.x), x2: fixed(m.x), y1: labelY + 2, y2: base, stroke: colour, 'stroke-dasharray': '4 3' }));
    if (m.text) {
      g.appendChild(svgEl(doc, 'text', { x: fixed(m.x) + 2, y: labelY, fill: colour }, m.text));
    }
    marks.appendChild(g);
  }
  svg.appendChild(marks);
  return { svg, legend: legend(doc, series) };
}

function legend(doc, series) {
  const list = doc.createElement('ul');
  list.setAttribute('class', 'legend');
  series.forEach((s, k) => {
    const item = doc.createElement('li');
    // an SVG fill, not a style attribute: the pages' Content-Security-Policy refuses inline styles
    const swatch = svgEl(doc, 'svg', { class: 'swatch', viewBox: '0 0 10 10', 'aria-hidden': 'true' },
      svgEl(doc, 'rect', { width: 10, height: 10, fill: PALETTE[k % PALETTE.length] }));
    item.appendChild(swatch);
    item.appendChild(doc.createTextNode(s.name + ' (' + s.total + ' batches; '
      + s.percentiles.map((p) => p.label + ' ' + formatMs(p.value)).join(', ') + ')'));
    list.appendChild(item);
  });
  return list;
}

export function confusionChart(doc, data) {
  const checked = confusionData(data);
  if (!checked) {
    return null;
  }
  const L = confusionLayout(checked);
  const svg = svgEl(doc, 'svg', {
    class: 'chart confusion-chart', viewBox: '0 0 ' + L.width + ' ' + L.height, width: L.width, height: L.height,
    role: 'group', 'aria-label': 'Confusion matrix of ' + L.n + ' classes: rows are the true class, columns the predicted class',
    'data-testid': 'confusion-chart',
  });
  const right = L.left + L.n * L.size;
  svg.appendChild(svgEl(doc, 'text', { x: (L.left + right) / 2, y: 14, 'text-anchor': 'middle', class: 'axis-title' }, 'predicted class'));
  svg.appendChild(svgEl(doc, 'text', { x: 12, y: L.top + (L.n * L.size) / 2, 'text-anchor': 'middle', class: 'axis-title',
    transform: 'rotate(-90 12 ' + fixed(L.top + (L.n * L.size) / 2) + ')' }, 'true class'));
  const labels = svgEl(doc, 'g', { class: 'labels', 'aria-hidden': 'true' });
  L.labels.forEach((label, i) => {
    const mid = fixed(L.top + (i + 0.5) * L.size);
    const col = fixed(L.left + (i + 0.5) * L.size);
    labels.appendChild(svgEl(doc, 'text', { x: col, y: L.top - 8, 'text-anchor': 'middle' }, shortLabel(label)));
    labels.appendChild(svgEl(doc, 'text', { x: L.left - 8, y: mid + 4, 'text-anchor': 'end' }, shortLabel(label)));
  });
  svg.appendChild(labels);
  const cells = svgEl(doc, 'g', { class: 'cells' });
  for (const c of L.cells) {
    const g = svgEl(doc, 'g', { class: 'cell' + (c.row === c.col ? ' diagonal' : ''), role: 'img', 'aria-label': c.label },
      svgEl(doc, 'title', {}, c.label),
      svgEl(doc, 'rect', { x: c.x, y: c.y, width: c.size, height: c.size, fill: c.fill }));
    if (L.showCounts) {
      g.appendChild(svgEl(doc, 'text', { x: c.x + c.size / 2, y: c.y + c.size / 2 + 4, 'text-anchor': 'middle', fill: c.text,
        'aria-hidden': 'true' }, String(c.count)));
    }
    cells.appendChild(g);
  }
  svg.appendChild(cells);
  return { svg, legend: null };
}

export function windowsChart(doc, data) {
  const checked = windowsData(data);
  if (!checked) {
    return null;
  }
  const L = windowsLayout(checked);
  const summary = 'Error rate and p95 latency per analysed window, ' + checked.series.map((s) => s.name).join(' against ');
  const svg = chartRoot(doc, 'windows', L, summary);
  const base = L.height - L.bottom;
  for (const P of L.panels) {
    const g = svgEl(doc, 'g', { class: 'panel', 'data-measure': P.key });
    g.appendChild(svgEl(doc, 'text', { x: (P.x0 + P.x1) / 2, y: 14, 'text-anchor': 'middle', class: 'axis-title' }, P.title));
    for (const t of P.yTicks) {
      g.appendChild(svgEl(doc, 'line', { x1: P.x0, x2: P.x1, y1: fixed(P.y(t)), y2: fixed(P.y(t)), class: 'grid' }));
      g.appendChild(svgEl(doc, 'text', { x: P.x0 - 6, y: fixed(P.y(t)) + 4, 'text-anchor': 'end' }, P.format(t)));
    }
    for (const w of L.windows) {
      g.appendChild(svgEl(doc, 'text', { x: fixed(P.x(w)), y: base + 16, 'text-anchor': 'middle' }, String(w)));
    }
    g.appendChild(svgEl(doc, 'line', { x1: P.x0, x2: P.x1, y1: base, y2: base, class: 'axis' }));
    g.appendChild(svgEl(doc, 'text', { x: (P.x0 + P.x1) / 2, y: L.height - 6, 'text-anchor': 'middle' }, 'window'));
    for (const line of P.lines) {
      const colour = PALETTE[line.series % PALETTE.length];
      for (const seg of line.segments) {
        g.appendChild(svgEl(doc, 'polyline', { points: seg.map((p) => fixed(p.x) + ',' + fixed(p.y)).join(' '),
          fill: 'none', stroke: colour, 'stroke-width': 2, 'data-series': line.name }));
      }
      for (const p of line.points) {
        g.appendChild(svgEl(doc, 'circle', { cx: fixed(p.x), cy: fixed(p.y), r: 3.5, fill: colour, 'data-series': line.name, class: 'point' },
          svgEl(doc, 'title', {}, line.name + ', window ' + p.window + ': ' + p.label)));
      }
    }
    svg.appendChild(g);
  }
  const list = doc.createElement('ul');
  list.setAttribute('class', 'legend');
  checked.series.forEach((s, k) => {
    const item = doc.createElement('li');
    item.appendChild(svgEl(doc, 'svg', { class: 'swatch', viewBox: '0 0 10 10', 'aria-hidden': 'true' },
      svgEl(doc, 'rect', { width: 10, height: 10, fill: PALETTE[k % PALETTE.length] })));
    item.appendChild(doc.createTextNode(s.name));
    list.appendChild(item);
  });
  return { svg, legend: list };
}

// ---------------------------------------------------------------- Pareto front of a compress grid

/**
 * The grid points that can be drawn: a finite size ratio above 0 and a finite drop; latency may be missing.
 * Sorted by size so the front reads left to right. Null when no point can be drawn.
 */
export function paretoData(data) {
  const points = data && Array.isArray(data.points) ? data.points : [];
  const kept = points.filter((p) => p && finiteNumber(p.size_ratio) && p.size_ratio > 0 && finiteNumber(p.drop_points))
    .map((p) => ({
      label: typeof p.label === 'string' ? p.label : '', sizeRatio: p.size_ratio, drop: p.drop_points,
      latency: finiteNumber(p.latency_p50_ms) ? p.latency_p50_ms : null, front: p.on_front === true, chosen: p.chosen === true,
    }))
    .sort((a, b) => a.sizeRatio - b.sizeRatio || a.drop - b.drop);
  if (kept.length === 0) {
    return null;
  }
  return { metric: typeof data.metric === 'string' ? data.metric : 'quality', points: kept };
}

/**
 * Geometry of the scatter: x the size ratio from 0, y the drop in points (from the lower of 0 and the best
 * point, so a candidate better than its input shows below the line), the front as a line through its points
 * in size order.
 */
export function paretoLayout({ points }, { width = 680, height = 300, left = 56, right = 24, top = 16, bottom = 44 } = {}) {
  const xTicks = niceTicks(Math.max(...points.map((p) => p.sizeRatio)), 5);
  const x = linearScale([0, xTicks[xTicks.length - 1]], [left, width - right]);
  const lowest = Math.min(0, ...points.map((p) => p.drop));
  const yTicks = niceTicks(Math.max(...points.map((p) => p.drop)) - lowest, 5).map((t) => round(t + lowest));
  const y = linearScale([yTicks[0], yTicks[yTicks.length - 1]], [height - bottom, top]);
  const dots = points.map((p) => ({ ...p, cx: x(p.sizeRatio), cy: y(p.drop) }));
  const front = dots.filter((d) => d.front);
  return { width, height, left, right, top, bottom, x, y, xTicks, yTicks, dots, front };
}

export function paretoChart(doc, data) {
  const checked = paretoData(data);
  if (!checked) {
    return null;
  }
  const L = paretoLayout(checked);
  const chosen = L.dots.find((d) => d.chosen);
  const summary = 'Compression grid: ' + L.dots.length + ' points, ' + L.front.length + ' on the Pareto front'
    + (chosen ? '; chosen ' + chosen.label + ' at ' + formatPercent(chosen.sizeRatio) + ' of the size, '
      + chosen.drop + ' points of ' + checked.metric + ' lost' : '');
  const svg = chartRoot(doc, 'pareto', L, summary);
  svg.appendChild(chartAxes(doc, L, { formatX: formatPercent, formatY: String,
    xTitle: 'size on disk (share of the input model)', yTitle: checked.metric + ' drop (points)' }));
  if (L.front.length > 1) {
    svg.appendChild(svgEl(doc, 'polyline', {
      class: 'front', fill: 'none', stroke: PALETTE[0], 'stroke-width': 1.5,
      points: L.front.map((d) => fixed(d.cx) + ',' + fixed(d.cy)).join(' '),
    }));
  }
  const dots = svgEl(doc, 'g', { class: 'points' });
  for (const d of L.dots) {
    const tip = d.label + ': ' + formatPercent(d.sizeRatio) + ' of the size, ' + d.drop + ' points lost'
      + (d.latency === null ? '' : ', p50 ' + formatMs(d.latency)) + (d.front ? ' (on the front)' : '') + (d.chosen ? ' (chosen)' : '');
    const g = svgEl(doc, 'g', { class: 'point', 'data-front': String(d.front), 'data-chosen': String(d.chosen) },
      svgEl(doc, 'title', {}, tip),
      svgEl(doc, 'circle', { cx: fixed(d.cx), cy: fixed(d.cy), r: 4, fill: d.front ? PALETTE[0] : 'none', stroke: d.front ? PALETTE[0] : '#6b7280' }));
    if (d.chosen) {
      g.appendChild(svgEl(doc, 'circle', { cx: fixed(d.cx), cy: fixed(d.cy), r: 8, fill: 'none', stroke: PALETTE[1], 'stroke-width': 2 }));
    }
    dots.appendChild(g);
  }
  svg.appendChild(dots);
  const list = doc.createElement('ul');
  list.setAttribute('class', 'legend');
  for (const [text, fill, stroke] of [['on the Pareto front', PALETTE[0], PALETTE[0]], ['beaten by another point', 'none', '#6b7280'],
    ['chosen and published', 'none', PALETTE[1]]]) {
    const item = doc.createElement('li');
    item.appendChild(svgEl(doc, 'svg', { class: 'swatch', viewBox: '0 0 10 10', 'aria-hidden': 'true' },
      svgEl(doc, 'circle', { cx: 5, cy: 5, r: 4, fill, stroke })));
    item.appendChild(doc.createTextNode(text));
    list.appendChild(item);
  }
  return { svg, legend: list };
}

export function lossChart(doc, data) {
  const checked = lossSeries(data);
  if (!checked) {
    return null;
  }
  const L = lossLayout(checked);
  const first = L.points[0];
  const last = L.points[L.points.length - 1];
  const summary = 'Training loss per epoch' + (checked.task ? ' of task ' + checked.task : '') + ': '
    + formatLoss(first.loss) + ' at epoch 1, ' + formatLoss(last.loss) + ' at epoch ' + last.epoch
    + ' (lowest ' + formatLoss(L.lowest.loss) + ' at epoch ' + L.lowest.epoch + ')';
  const svg = chartRoot(doc, 'loss', L, summary);
  svg.appendChild(chartAxes(doc, L, { formatX: String, formatY: formatLoss,
    xTitle: 'epoch', yTitle: 'average training loss' }));
  const d = L.points.map((p, i) => (i === 0 ? 'M' : 'L') + fixed(p.x) + ' ' + fixed(p.y)).join(' ');
  svg.appendChild(svgEl(doc, 'path', { d, fill: 'none', stroke: PALETTE[0], 'stroke-width': 2, class: 'loss-line' }));
  const points = svgEl(doc, 'g', { class: 'points' });
  for (const p of L.points) {
    points.appendChild(svgEl(doc, 'circle', { cx: fixed(p.x), cy: fixed(p.y), r: L.points.length > 60 ? 1.5 : 3, fill: PALETTE[0] },
      svgEl(doc, 'title', {}, 'epoch ' + p.epoch + ': loss ' + formatLoss(p.loss))));
  }
  svg.appendChild(points);
  return { svg, legend: null };
}

/** PSI bars per feature from a drift report: {threshold, features: [{name, psi, drifted}]}; [] when unusable. */
export function psiBars(data) {
  if (!data || !Array.isArray(data.features)) {
    return [];
  }
  return data.features
    .filter((f) => f && typeof f.name === 'string' && finiteNumber(f.psi))
    .map((f) => ({ name: f.name, psi: Math.max(0, f.psi), drifted: f.drifted === true }));
}

/** Horizontal PSI bars, one per feature, on a linear axis that reaches the threshold, with the threshold drawn. */
export function psiChart(doc, data) {
  const bars = psiBars(data);
  if (bars.length === 0) {
    return null;
  }
  const threshold = finiteNumber(data.threshold) && data.threshold > 0 ? data.threshold : 0.2;
  const row = 16;
  const left = 110;
  const width = 520;
  const height = 28 + bars.length * row;
  const max = Math.max(threshold * 1.2, ...bars.map((b) => b.psi));
  const x = linearScale([0, max], [left, width - 20]);
  const moved = bars.filter((b) => b.drifted).map((b) => b.name);
  const summary = 'PSI per feature against threshold ' + threshold + ': '
    + (moved.length ? 'moved ' + moved.join(', ') : 'none moved');
  const svg = svgEl(doc, 'svg', {
    class: 'chart psi-chart', viewBox: '0 0 ' + width + ' ' + height, width, height,
    role: 'img', 'aria-label': summary, 'data-testid': 'psi-chart',
  }, svgEl(doc, 'title', {}, summary));
  bars.forEach((b, i) => {
    const y = 8 + i * row;
    svg.appendChild(svgEl(doc, 'text', { x: left - 6, y: y + 11, 'text-anchor': 'end', 'font-size': 11 }, shortLabel(b.name)));
    svg.appendChild(svgEl(doc, 'rect', {
      x: left, y: y + 2, width: fixed(Math.max(1, x(b.psi) - left)), height: row - 4,
      fill: b.drifted ? PALETTE[1] : PALETTE[0], 'data-feature': b.name,
    }));
  });
  const tx = fixed(x(threshold));
  svg.appendChild(svgEl(doc, 'line', { x1: tx, x2: tx, y1: 4, y2: height - 18, stroke: '#111', 'stroke-dasharray': '4 3' }));
  svg.appendChild(svgEl(doc, 'text', { x: tx, y: height - 4, 'text-anchor': 'middle', 'font-size': 11 }, 'PSI ' + threshold));
  return { svg, legend: null };
}

const CHARTS = { latency: latencyChart, confusion: confusionChart, windows: windowsChart, pareto: paretoChart, loss: lossChart, psi: psiChart };

/**
 * Draws every chart figure in the document whose data it understands: the figure is shown and its
 * table fallback folded away (still one click from the summary). Returns how many were drawn.
 */
export function renderAll(doc) {
  let drawn = 0;
  for (const figure of doc.querySelectorAll('figure[data-chart]')) {
    const draw = CHARTS[figure.getAttribute('data-chart')];
    const source = doc.getElementById(figure.getAttribute('data-source') || '');
    if (!draw || !source) {
      continue;
    }
    let chart;
    try {
      chart = draw(doc, JSON.parse(source.textContent));
    } catch (e) {
      console.warn('anvil charts: ' + figure.getAttribute('data-chart') + ' not drawn: ' + e.message);
      chart = null;
    }
    if (!chart) {
      continue;
    }
    figure.insertBefore(chart.svg, figure.firstChild);
    if (chart.legend) {
      figure.insertBefore(chart.legend, chart.svg.nextSibling);
    }
    figure.hidden = false;
    figure.setAttribute('data-rendered', 'true');
    const fallback = doc.getElementById(figure.getAttribute('data-fallback') || '');
    if (fallback) {
      fallback.open = false;
    }
    drawn++;
  }
  return drawn;
}

// a module script runs after the document is parsed, so the figures and their data are there
if (typeof document !== 'undefined') {
  renderAll(document);
}

