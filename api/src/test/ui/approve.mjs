// Reviewer UI in real headless Chromium: the submitter's own approval is refused in the page, a
// reviewer sees the gate numbers and the charts (latency, confusion matrix; tables without
// JavaScript) and approves, and the run goes on to success.
// Usage: node approve.mjs <baseUrl> <approvalId> <runId> <submitterToken> <reviewerToken> <screenshotDir>
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [baseUrl, approvalId, runId, submitterToken, reviewerToken, shots] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
mkdirSync(shots, { recursive: true });

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
  console.log('ok: ' + message);
}

// what Chromium refused under the pages' Content-Security-Policy (inline script or style, foreign sources)
const cspViolations = [];

async function signIn(browser, token, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) {
      cspViolations.push(page.url() + ': ' + message.text());
    }
  });
  await page.goto(baseUrl + '/ui/login');
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/ui/approvals');
  return page;
}

const browser = await chromium.launch({
  executablePath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  const approvalUrl = baseUrl + '/ui/approvals/' + encodeURIComponent(approvalId);

  // the submitter (who also holds the reviewer role) may not approve their own run
  const submitter = await signIn(browser, submitterToken);
  await submitter.goto(approvalUrl);
  check(await submitter.getByTestId('four-eyes').isVisible(), 'the submitter is told the four-eyes rule');
  await submitter.getByTestId('approve').click();
  await submitter.waitForLoadState();
  const refusal = await submitter.getByTestId('refusal').textContent();
  check(refusal.includes('may not approve it (four-eyes rule)'), 'the submitter\'s approval is refused in the page: ' + refusal);
  await submitter.screenshot({ path: shots + '/approval-refused-for-submitter.png', fullPage: true });

  // a reviewer sees the pending approval, the gate numbers and the comparison, and approves
  const reviewer = await signIn(browser, reviewerToken);
  const pageErrors = [];
  reviewer.on('pageerror', (e) => pageErrors.push(e.message));
  const listed = await reviewer.getByTestId('approvals').textContent();
  check(listed.includes(approvalId), 'the pending approval is listed');
  await reviewer.getByRole('link', { name: approvalId }).click();
  const gate = await reviewer.getByTestId('gate').textContent();
  check(gate.includes('accuracy') && gate.includes('size_ratio_vs') && gate.includes('pass'), 'the gate report shows its rules');
  const firstValue = await reviewer.locator('[data-testid=gate] tr:nth-child(2) td:nth-child(2)').textContent();
  check(/[0-9]/.test(firstValue), 'the gate shows numbers (accuracy ' + firstValue.trim() + ')');
  check((await reviewer.getByTestId('side-by-side').textContent()).includes('p95 latency'), 'candidate and reference side by side');
  check((await reviewer.getByTestId('tasks').textContent()).includes('quantize'), 'the run\'s DAG lists its tasks');

  // the charts /ui/charts.js draws from the page's embedded JSON
  await reviewer.locator('[data-testid=latency-chart]').waitFor();
  const bars = await reviewer.locator('[data-testid=latency-chart] rect.bar').count();
  check(bars > 0, 'the latency chart has bars (' + bars + ')');
  const markers = await reviewer.locator('[data-testid=latency-chart] g.marker').count();
  check(markers >= 3 && markers % 3 === 0, 'the latency chart marks p50/p95/p99 of each model (' + markers + ' markers)');
  const series = await reviewer.locator('figure#latency-chart ul.legend li').allTextContents();
  check(series.some((s) => s.startsWith('candidate')) && series.length >= 2, 'candidate and reference latency side by side: ' + series.join(' | '));
  const classes = (await reviewer.locator('[data-testid=confusion] tr').count()) - 1;
  const cells = await reviewer.locator('[data-testid=confusion-chart] g.cell').count();
  check(classes === 10 && cells === classes * classes, 'the confusion heat map has classes² cells (' + cells + ' for ' + classes + ' classes)');
  const firstCell = await reviewer.locator('[data-testid=confusion-chart] g.cell').first().getAttribute('aria-label');
  check(/^true 0, predicted 0: \d+/.test(firstCell), 'each cell says what it is: ' + firstCell);
  check(await reviewer.locator('#confusion-table').evaluate((el) => !el.open), 'the table folds away under its chart');
  check(pageErrors.length === 0, 'no script errors in the page' + (pageErrors.length ? ': ' + pageErrors.join('; ') : ''));
  await reviewer.locator('#latency-chart').screenshot({ path: shots + '/latency-chart.png' });
  await reviewer.locator('#confusion-chart').screenshot({ path: shots + '/confusion-chart.png' });
  await reviewer.screenshot({ path: shots + '/approval-page.png', fullPage: true });

  // without JavaScript the same page shows the tables and no empty chart frames
  const plain = await signIn(browser, reviewerToken, { javaScriptEnabled: false });
  await plain.goto(approvalUrl);
  check(await plain.getByTestId('confusion').isVisible() && await plain.getByTestId('latency').isVisible()
    && !(await plain.locator('#confusion-chart').isVisible()) && !(await plain.locator('#latency-chart').isVisible()),
  'without JavaScript the tables show and the charts stay hidden');
  await plain.screenshot({ path: shots + '/approval-page-without-javascript.png', fullPage: true });

  // a reject without a comment is stopped by the page itself (required field)
  check(await reviewer.locator('#reject-comment').evaluate((el) => el.required), 'reject needs a comment');

  await reviewer.getByLabel('Comment (optional)').fill('INT8 within policy; ship it');
  await reviewer.getByTestId('approve').click();
  await reviewer.waitForLoadState();
  check((await reviewer.locator('p.ok').textContent()).includes('approved'), 'the approval is recorded');

  // watch the run continue to its end (the run page refreshes itself; reload to be quick)
  const runUrl = baseUrl + '/ui/runs/' + encodeURIComponent(runId);
  let status = '';
  for (let i = 0; i < 120; i++) {
    await reviewer.goto(runUrl);
    status = (await reviewer.getByTestId('run-status').textContent()).trim();
    if (['success', 'failed', 'cancelled'].includes(status)) break;
    await reviewer.waitForTimeout(500);
  }
  await reviewer.screenshot({ path: shots + '/run-after-approval.png', fullPage: true });
  check(status === 'success', 'the run continued after approval and ended ' + status);
  check(cspViolations.length === 0, 'the pages work under their Content-Security-Policy'
    + (cspViolations.length ? ': ' + cspViolations.join('; ') : ''));
} finally {
  await browser.close();
}
