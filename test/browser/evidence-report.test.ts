import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEvidence } from '../../shared/report/evidence.js';
import { renderEvidenceHtml } from '../../shared/report/render.js';
import { EVIDENCE_NOW, evidenceConfig, evidenceInputs } from '../fakes/evidence-estate.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumAvailable } from '../support/chromium.js';

// The evidence report in a real browser (Debian's headless chromium): one page load, then every check on
// that page. STEWARD_REPORT_SCREENSHOT=<file.png> also saves a screenshot (how docs/ gets its picture).
describe.runIf(chromiumAvailable('the evidence report browser check'))(
  'the evidence report in chromium',
  () => {
    let dir: string;
    const seen = { console: [] as string[], errors: [] as string[], requests: [] as string[] };
    let result: {
      charts: Record<string, number>;
      drawn: number;
      backupRows: number;
      drillRows: number;
      title: string;
      overflow: boolean;
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'evidence-browser-'));
      const file = join(dir, 'report.html');
      const report = buildEvidence(evidenceInputs(), evidenceConfig, EVIDENCE_NOW);
      await writeFile(file, renderEvidenceHtml(report, { drLagLimitSeconds: 36 * 3600 }));
      const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
        executablePath: CHROMIUM,
        args: CHROMIUM_ARGS,
        headless: true,
        viewport: { width: 1240, height: 900 },
      });
      try {
        const page = await context.newPage();
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') seen.console.push(`${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (e) => seen.errors.push(String(e)));
        page.on('request', (r) => seen.requests.push(r.url()));
        await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
        const count = (sel: string) => page.locator(sel).count();
        const charts: Record<string, number> = {};
        for (const k of ['rto', 'rpo', 'dr-lag', 'dr-lag-spark'])
          charts[k] = await count(`svg[data-chart="${k}"]`);
        let drawn = 0;
        for (const svg of await page.locator('svg[data-chart]').all()) {
          const box = await svg.boundingBox();
          const marks = await svg.locator('circle, polyline').count();
          if (box && box.width > 50 && box.height > 10 && marks > 0) drawn++;
        }
        result = {
          charts,
          drawn,
          backupRows: await count('table[data-table="backups"] tbody tr'),
          drillRows: await count('table[data-table="drills"] tbody tr'),
          title: await page.title(),
          // A string, evaluated in the page: the test's TypeScript knows no DOM.
          overflow: await page.evaluate<boolean>('document.documentElement.scrollWidth > window.innerWidth'),
        };
        if (process.env.STEWARD_REPORT_SCREENSHOT) {
          await page.screenshot({ path: process.env.STEWARD_REPORT_SCREENSHOT, fullPage: true });
        }
      } finally {
        await context.close();
      }
    });

    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('draws the RTO/RPO trend per drilled database and the DR lag charts', () => {
      expect(result.charts).toEqual({ rto: 2, rpo: 2, 'dr-lag': 1, 'dr-lag-spark': 3 });
      expect(result.drawn).toBe(8);
    });

    it('has the backups table with every database and the drills of the month', () => {
      expect(result.backupRows).toBe(5);
      expect(result.drillRows).toBe(2);
      expect(result.title).toBe('Recovery evidence: prod, November 2026');
      expect(result.overflow).toBe(false);
    });

    it('loads with no console errors and no request but the page itself', () => {
      expect(seen.errors).toEqual([]);
      expect(seen.console).toEqual([]);
      expect(seen.requests).toEqual([expect.stringMatching(/^file:.*report\.html$/)]);
    });
  },
);
