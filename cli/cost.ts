import { dynamoAlertLedger } from '../shared/aws/alert-ledger.js';
import { costExplorerClient } from '../shared/aws/clients/cost-explorer.js';
import { stateTableClient } from '../shared/aws/state-table-client.js';
import { costExplorerSource } from '../shared/aws/cost-explorer.js';
import { money, usd } from '../shared/cost/engine.js';
import { costSummaryLines } from '../shared/cost/message.js';
import type { AlertLedger, CostSource } from '../shared/cost/ports.js';
import { type CostResult, runCostCheck } from '../shared/cost/service.js';
import { errorMessage } from '../shared/errors.js';
import { memoryNotifier } from '../shared/notify/notifier.js';
import { stageConfig } from './base.js';
import type { Flags } from './flags.js';
import { table } from '../shared/table.js';

/** The name infra/state-table.ts gives the stage's state table. */
const stateTableName = (stage: string) => `steward-${stage}-state`;

export interface CostCliDeps {
  source: CostSource;
  ledger: AlertLedger;
  now: () => Date;
}

const THRESHOLD_STATE = {
  armed: 'armed',
  covered: 'covered by actual',
  unknown: 'n/a',
} as const;

/** Render a dry-run result: totals, thresholds armed / fired / due, services, what is due, notes, cost of the look. */
export const renderCost = (stage: string, r: CostResult, ledgerNote?: string): string => {
  const ev = r.evaluation!;
  const status = new Map(r.alerts.map((a) => [a.key, a.status]));
  const out = [
    `steward cost: ${stage}, ${ev.window.month} (${ev.metric}), as of ${r.at.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    ...costSummaryLines(ev, { thresholds: false }),
    '',
    table(
      ['THRESHOLD', 'AMOUNT', 'SEVERITY', 'BASIS', 'VALUE', 'STATE'],
      ev.thresholds.map((t) => [
        t.id,
        money(t.amountUsd, ev.currency),
        t.severity,
        t.basis,
        t.valueUsd === undefined ? '-' : money(t.valueUsd, ev.currency),
        t.state === 'crossed'
          ? status.get(t.key) === 'already-sent'
            ? `fired (alerted in ${ev.window.month})`
            : 'due: the next run alerts'
          : THRESHOLD_STATE[t.state],
      ]),
    ),
  ];
  const others = r.alerts.filter((a) => a.kind !== 'threshold');
  if (others.length) {
    out.push(
      '',
      table(
        ['ALERT', 'SEVERITY', 'STATE', 'WHAT'],
        others.map((a) => [a.kind, a.severity, a.status === 'planned' ? 'due' : 'fired', a.text]),
      ),
    );
  }
  if (ev.notes.length || ledgerNote) {
    out.push('', 'Notes:', ...ev.notes.map((n) => `- ${n.text}`), ...(ledgerNote ? [`- ${ledgerNote}`] : []));
  }
  out.push('', `${r.requests} Cost Explorer requests (${usd(r.requests * 0.01)}).`);
  return out.join('\n');
};

/**
 * `steward cost [--stage dev] [--json]`: the month-to-date table, the forecast and which thresholds are
 * armed, fired or due. A dry run of the same check the function runs: it reads Cost Explorer (3 requests,
 * $0.03) and the alert ledger, and claims and sends nothing.
 */
export const cost = async (
  _: string[],
  flags: Flags,
  out: (s: string) => void,
  deps?: CostCliDeps,
): Promise<number> => {
  const { config } = stageConfig(flags);
  const real = deps ?? {
    source: costExplorerSource(costExplorerClient()),
    ledger: dynamoAlertLedger(stateTableClient(config.region), stateTableName(config.stage)),
    now: () => new Date(),
  };
  // Without a deployed stack there is no ledger: show the numbers anyway, fired state unknown.
  let ledgerNote: string | undefined;
  const ledger: AlertLedger = {
    ...real.ledger,
    held: async (keys) => {
      try {
        return await real.ledger.held(keys);
      } catch (e) {
        ledgerNote = `Alert ledger ${stateTableName(config.stage)} unreadable (${errorMessage(e)}): "due" may already have been sent.`;
        return new Set();
      }
    },
  };
  const result = await runCostCheck(
    {
      config,
      source: real.source,
      ledger,
      notifier: memoryNotifier(),
      now: real.now,
      dryRun: config.dryRun,
      preview: true,
    },
    { dryRun: true },
  );
  if (flags.json) out(JSON.stringify({ ...result, ...(ledgerNote && { ledgerNote }) }, null, 2));
  else {
    if (!config.cost.enabled)
      out(`note: cost alerts are not enabled for ${config.stage} (cost.enabled: false)`);
    out(renderCost(config.stage, result, ledgerNote));
  }
  return 0;
};
