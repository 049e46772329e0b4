import { writeFileSync } from 'node:fs';
import { type Injection, simulateRetention } from './simulate.js';

// One retention simulation in a process of its own (`node --import tsx worker.ts <spec json> <out file>`).
const [spec, out] = process.argv.slice(2);
const { n, planRuns, inject } = JSON.parse(spec!) as { n: number; planRuns: number; inject: Injection };
writeFileSync(out!, JSON.stringify(await simulateRetention(n, planRuns, inject)));
