import { writeFileSync } from 'node:fs';
import { simulateEbsBackup, simulateEbsRetention } from './simulate.js';
import type { RetentionPolicy } from '../../shared/config/schema.js';

// One EBS simulation in a process of its own (`node --import tsx worker.ts <spec json> <out file>`).
const [spec, out] = process.argv.slice(2);
const s = JSON.parse(spec!) as
  | { kind: 'backup'; n: number; perSetLookup?: boolean }
  | { kind: 'retention'; n: number; policy?: RetentionPolicy };
writeFileSync(
  out!,
  JSON.stringify(
    s.kind === 'backup'
      ? await simulateEbsBackup(s.n, s.perSetLookup)
      : await simulateEbsRetention(s.n, s.policy),
  ),
);
