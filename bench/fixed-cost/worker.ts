import { writeFileSync } from 'node:fs';
import { measuredFixedCostRows } from '../fixed-cost.js';

// One measurement in a fresh process with the environment of a deployed function (the CLI turns metrics off
// and logs at WARN): `node --import tsx bench/fixed-cost/worker.ts <sizes JSON> <out file>`.
const [sizes, out] = process.argv.slice(2) as [string, string];
writeFileSync(out, JSON.stringify(await measuredFixedCostRows(JSON.parse(sizes) as number[])));
