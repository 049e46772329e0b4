import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { afterEach, describe, expect, it } from 'vitest';
import { cost } from '../../cli/cost.js';
import type { Flags } from '../../cli/flags.js';
import { memoryAlertLedger } from '../../shared/cost/memory-ledger.js';
import { costExplorerSource } from '../../shared/aws/cost-explorer.js';
import { alertKeys } from '../../shared/cost/engine.js';
import type { AlertLedger } from '../../shared/cost/ports.js';
import { mockCostExplorer, NOW } from '../fakes/cost-fixtures.js';
import { cliFlags } from '../support/examples.js';

let ce: ReturnType<typeof mockCostExplorer> | undefined;
afterEach(() => ce?.restore());

const flags = cliFlags;

const run = async (over: Partial<Flags> = {}, ledger: AlertLedger = memoryAlertLedger(() => NOW)) => {
  const lines: string[] = [];
  const code = await cost([], flags(over), (s) => lines.push(s), {
    source: costExplorerSource(new CostExplorerClient({ region: 'us-east-1' }), { sleep: async () => {} }),
    ledger,
    now: () => NOW,
  });
  return { code, text: lines.join('\n') };
};

describe('steward cost', () => {
  it('prints month-to-date, forecast, services and which thresholds are armed, fired or due', async () => {
    // Prepare: the $2,000 actual was alerted earlier this month
    ce = mockCostExplorer();
    const ledger = memoryAlertLedger(() => NOW);
    await ledger.claim(alertKeys.threshold('2026-11', 'usd-2000', 'actual'), 2, 3600, 'earlier');

    // Act
    const { code, text } = await run({}, ledger);

    // Assert
    expect(code).toBe(0);
    expect(text).toContain('steward cost: prod, 2026-11 (UnblendedCost), as of 2026-11-23 07:00 UTC');
    expect(text).toContain('Month-to-date 2026-11 (2026-11-01 to 2026-11-22, 22 of 30 days): $2,140.12');
    expect(text).toContain('Forecast month-end: $2,920.40');
    expect(text).toMatch(
      /usd-2000\s+\$2,000\.00\s+warning\s+actual\s+\$2,140\.12\s+fired \(alerted in 2026-11\)/,
    );
    expect(text).toMatch(
      /usd-2500\s+\$2,500\.00\s+warning\s+forecast\s+\$2,920\.40\s+due: the next run alerts/,
    );
    expect(text).toMatch(/usd-3000\s+\$3,000\.00\s+critical\s+forecast\s+\$2,920\.40\s+armed/);
    expect(text).toContain('3 Cost Explorer requests ($0.03).');
  });

  it('--json prints the evaluation and nothing is claimed', async () => {
    // Prepare
    ce = mockCostExplorer();
    const ledger = memoryAlertLedger(() => NOW);

    // Act
    const { text } = await run({ json: true }, ledger);

    // Assert
    const r = JSON.parse(text) as { dryRun: boolean; requests: number; evaluation: { actualUsd: number } };
    expect(r.dryRun).toBe(true);
    expect(r.requests).toBe(3);
    expect(r.evaluation.actualUsd).toBe(2140.12);
    expect(ledger.items.size).toBe(0);
  });

  it('still prints the numbers when the ledger cannot be read (stack not deployed)', async () => {
    // Prepare
    ce = mockCostExplorer();
    const broken: AlertLedger = {
      ...memoryAlertLedger(),
      held: async () => {
        throw new Error('ResourceNotFoundException: Requested resource not found');
      },
    };

    // Act
    const { code, text } = await run({}, broken);

    // Assert
    expect(code).toBe(0);
    expect(text).toContain('Alert ledger steward-prod-state unreadable');
    expect(text).toContain('$2,140.12');
  });
});
