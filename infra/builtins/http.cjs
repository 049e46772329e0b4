/* global module */
// `node:http` as CommonJS sees it: the same object, without building its ESM view (infra/bundling.ts).
module.exports = process.getBuiltinModule('node:http');
