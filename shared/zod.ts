// zod/mini: the functional, tree-shakeable zod API (a fraction of classic zod's bundle size and schema
// build time at cold start). Unlike classic zod it registers no locale, so issues would read "Invalid
// input"; register English here so every message stays what classic zod wrote. Import zod from this
// module only, never from 'zod' or 'zod/mini' directly, so the locale is always set before a parse.
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';
