/**
 * Opens the rendered report in a real headless Chromium (Debian's, installed by scripts/install-system-deps.sh) through
 * playwright-core: the page must load without console errors, show every chart, and leave a screenshot.
 * CI sets PROVENANT_REQUIRE_BROWSER=1 so a missing browser fails there instead of being skipped.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderAuditReport } from '../../src/index.js';
import { sampleAuditRecord } from '../fixtures/audit/sample-record.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.PROVENANT_REQUIRE_BROWSER) {
  throw new Error(`Chromium not found at ${CHROMIUM}: run scripts/install-system-deps.sh`);
}
if (!available) console.warn(`[report-browser] Chromium not found at ${CHROMIUM}; run scripts/install-system-deps.sh to run this test.`);

describe.runIf(available)('HTML report in headless Chromium', () => {
  it('loads without console errors, shows every chart and saves a screenshot', async () => {
    const { chromium } = await import('playwright-core');
    const dir = join(tmpdir(), `provenant-report-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'report.html');
    writeFileSync(file, await renderAuditReport(sampleAuditRecord()));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const problems: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(msg.text());
      });
      page.on('pageerror', (err) => problems.push(err.message));
      page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      expect(problems).toEqual([]);
      const charts = await page.$$eval('figure.chart svg', (svgs) => svgs.map((s) => ({ w: s.getBoundingClientRect().width, marks: s.querySelectorAll('path, rect, line, circle').length })));
      expect(charts).toHaveLength(6);
      for (const chart of charts) {
        expect(chart.w).toBeGreaterThan(100);
        expect(chart.marks).toBeGreaterThan(3);
      }
      expect(await page.$$eval('section', (s) => s.map((e) => e.id))).toEqual(['data', 'decisions', 'learning-vs-forgetting', 'attribution', 'rewards', 'proofs']);
      mkdirSync('out', { recursive: true });
      const shot = join('out', 'report-test-screenshot.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
    } finally {
      await browser.close();
    }
  });
});
