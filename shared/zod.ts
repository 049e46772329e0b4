// zod/mini, for the config schema, the CLI and synth only: the functions parse their triggers, events and
// environments with steward's own kit (./valid.ts) and never load zod (test/infra/bundles.test.ts).
// Unlike classic zod, zod/mini registers no locale, so issues would read "Invalid input"; register English
// here so every message stays what classic zod wrote. Import zod from this module only, never from 'zod' or
// 'zod/mini' directly, so the locale is always set before a parse.
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';
