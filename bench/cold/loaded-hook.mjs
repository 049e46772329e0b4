// Preloaded (`node --import`) in the bench's untimed runs only, never in a timed one: registers a module hook
// that appends the URL of every file the process loads as an ES module (the bundle's entry, each chunk its
// static imports and `await import()`s load) to the file named by STEWARD_LOADED_LOG. bench/cold/loaded.ts
// reads it: what a function loaded on its first invoke.
import { register } from 'node:module';

register('./loaded-hooks.mjs', import.meta.url, { data: { log: process.env.STEWARD_LOADED_LOG } });
