import type { Flags } from './main.js';
import { plan } from './plan.js';

/**
 * `npm start`. The full local sandbox (a real PostgreSQL backup restored into a second server and verified
 * by the drill state machine) arrives with the restore-verification issue; until then it says so and shows
 * the backup and retention plans on the sample inventories in events/inventory/.
 */
export const sandbox = async (_: string[], flags: Flags, out: (s: string) => void): Promise<number> => {
  out('steward sandbox: no AWS needed. Planning on the sample inventories in events/inventory/.\n');
  out('== steward plan backup --stage prod --policy daily --inventory events/inventory/databases.json');
  await plan(
    ['backup'],
    { ...flags, stage: 'prod', policy: 'daily', inventory: 'events/inventory/databases.json' },
    out,
  );
  out('\n== steward plan retention --stage prod --inventory events/inventory/snapshots.json');
  return plan(['retention'], { ...flags, stage: 'prod', inventory: 'events/inventory/snapshots.json' }, out);
};
