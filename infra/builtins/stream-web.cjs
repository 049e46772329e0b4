/* global module */
// `node:stream/web` as CommonJS sees it, each export read from the built-in at its first use (infra/bundling.ts):
// loading the built-in loads Node's whole WHATWG streams implementation, which middy imports at the top for its
// response streaming and no function uses. test/infra/bundles.test.ts checks these are the built-in's exports.
const NAMES = [
  'ReadableStream',
  'ReadableStreamDefaultReader',
  'ReadableStreamBYOBReader',
  'ReadableStreamBYOBRequest',
  'ReadableByteStreamController',
  'ReadableStreamDefaultController',
  'TransformStream',
  'TransformStreamDefaultController',
  'WritableStream',
  'WritableStreamDefaultWriter',
  'WritableStreamDefaultController',
  'ByteLengthQueuingStrategy',
  'CountQueuingStrategy',
  'TextEncoderStream',
  'TextDecoderStream',
  'CompressionStream',
  'DecompressionStream',
];
for (const name of NAMES)
  Object.defineProperty(module.exports, name, {
    enumerable: true,
    get: () => process.getBuiltinModule('node:stream/web')[name],
  });
