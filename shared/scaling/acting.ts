// What an alarm that gets through the guards runs: the planner, then the change itself. One module, so
// transition.ts loads both with one `await import()` rather than two: on the path of an alarm that acts,
// each dynamic import costs CPU at a cold start (a file read, resolved, linked and evaluated on its own),
// and an alarm that plans almost always acts (docs/benchmarks.md, "Each trigger loads its own code").
export { planChange } from './engine.js';
export { apply } from './act.js';
