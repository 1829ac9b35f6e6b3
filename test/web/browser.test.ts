import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ingestCommand } from '../../cli/ingest-command.js';
import { start, tempDir, testConfig } from '../e2e/helpers.js';

/**
 * The web page's Reports view and the self-contained HTML report, in Debian's headless
 * Chromium (test/system/packages.txt installs it): the page lists stored reports and makes
 * one of the range on screen; the report renders its tunnel rows and chart, offline.
 * Screenshots are kept in test/artifacts/ (not committed).
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'corpus', 'exports');
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
const from = '2024-03-12T09:00:00Z';
const to = '2024-03-12T09:06:00Z';

describe('in headless Chromium', () => {
  let app: Awaited<ReturnType<typeof start>>;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`no Chromium at ${CHROMIUM}: run test/system/install-packages.sh`);
    mkdirSync(ARTIFACTS, { recursive: true });
    const dir = tempDir();
    const config = testConfig(
      dir,
      'tunnels:\n  - name: lossy path\n    peerA: 192.0.2.140\n    peerB: 198.51.100.150\n' +
        '  - name: second site\n    peerA: 192.0.2.10\n    peerB: 198.51.100.20\n',
    );
    const common = { config: join(dir, 'tunnelflow.yaml'), db: config.store.path, quiet: true };
    await ingestCommand(join(CORPUS, 'd_loss_v4_tx', 'softflowd_ipfix.pcap'), {
      ...common,
      exporter: '192.0.2.140',
    });
    await ingestCommand(join(CORPUS, 'd_loss_v4_rx', 'softflowd_ipfix.pcap'), {
      ...common,
      exporter: '198.51.100.150',
    });
    await ingestCommand(join(CORPUS, 'h_multi_tunnel_mixed', 'softflowd_ipfix.pcap'), common);
    app = await start(config);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  test('the Reports view makes a report of the range on screen and lists it with its formats', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${app.url}/?from=${from}&to=${to}`);
    const view = page.locator('#reports');
    await view.getByText('No report stored yet').waitFor();
    await view.getByRole('button', { name: 'Report this range' }).click();
    await view.locator('tr.report-row').first().waitFor();
    const tunnels = (await (await fetch(`${app.url}/api/v1/tunnels?from=${from}&to=${to}`)).json()) as {
      items: unknown[];
    };
    expect(tunnels.items.length).toBeGreaterThan(1);
    await expect
      .poll(() => view.getByRole('status').textContent())
      .toMatch(
        new RegExp(`^Report 1: ${tunnels.items.length} tunnel\\(s\\), \\d+ breaching, 2024-03-12 09:00`),
      );
    const row = view.locator('tr.report-row').first();
    expect(await row.getAttribute('data-report')).toBe('1');
    expect(await row.locator('a.report-html').getAttribute('href')).toBe('/api/v1/reports/1?format=html');
    expect(await row.locator('a.report-csv').getAttribute('href')).toBe('/api/v1/reports/1?format=csv');
    await view.screenshot({ path: join(ARTIFACTS, 'reports-view.png') });
    expect(errors).toEqual([]);
  }, 60_000);

  test('the HTML report renders its tunnel rows and chart with no network at all', async () => {
    const created = await fetch(`${app.url}/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '2024-03-12T09:00:00Z', to: '2024-03-12T10:00:00Z' }),
    });
    const { id } = (await created.json()) as { id: number };
    const html = await (await fetch(`${app.url}/api/v1/reports/${id}?format=html`)).text();

    // Offline: every request the page would make is refused, so anything external would show.
    const context = await browser.newContext({ offline: true });
    const offline = await context.newPage();
    const requests: string[] = [];
    offline.on('request', (r) => requests.push(r.url()));
    await offline.setContent(html, { waitUntil: 'load' });
    const rows = offline.locator('table.tunnels tr.tunnel');
    expect(await rows.count()).toBeGreaterThanOrEqual(2);
    const names = await rows.locator('td:first-child').allTextContents();
    expect(names).toContain('lossy path');
    const lossy = rows.filter({ hasText: 'lossy path' });
    expect(await lossy.textContent()).toMatch(/\/ 17 \//);
    // The chart: one bar per tunnel, drawn with a real size.
    const chart = offline.locator('svg.chart');
    const box = await chart.boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(300);
    expect(await chart.locator('rect.avail').count()).toBe(await rows.count());
    expect(requests.filter((u) => !u.startsWith('about:') && !u.startsWith('data:'))).toEqual([]);
    const shot = join(ARTIFACTS, 'report.png');
    await offline.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    // Printable: the print layout renders to a PDF of at least one page.
    const pdf = await offline.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    await context.close();
  }, 60_000);
});
