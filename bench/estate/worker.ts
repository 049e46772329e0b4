import { writeFileSync } from 'node:fs';
import { type EstateSpec, simulateEstate } from './simulate.js';

// One estate simulation in a process of its own (`node --import tsx worker.ts <spec json> <out file>`): the
// SDK clients, their adaptive rate limiters and the simulated clock start fresh, and the CPU is its own.
const [spec, out] = process.argv.slice(2);
const r = await simulateEstate(JSON.parse(spec!) as EstateSpec);
writeFileSync(out!, JSON.stringify({ ...r, worstLagByDb: Object.fromEntries(r.worstLagByDb) }));
