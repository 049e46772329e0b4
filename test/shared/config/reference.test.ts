import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { jsonSchemaFile, readmeWithReference } from '../../../cli/schema.js';
import { validateConfig } from '../../../shared/config/schema.js';
import {
  configJsonSchema,
  JSON_SCHEMA_PATH,
  KEY_DOCS,
  schemaKeyPaths,
} from '../../../shared/config/reference.js';
import { EXAMPLES_DIR, exampleStages } from '../../support/examples.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(resolve(ROOT, path), 'utf8');

describe('configuration reference', () => {
  it('documents every key of the schema, and only those', () => {
    // Act
    const paths = schemaKeyPaths();
    // Assert
    expect(paths.filter((p) => !(p in KEY_DOCS))).toEqual([]);
    expect(Object.keys(KEY_DOCS).filter((p) => !paths.includes(p))).toEqual([]);
  });

  it('commits the JSON Schema generated from the zod schema (npm run config:docs)', async () => {
    expect(read(JSON_SCHEMA_PATH)).toBe(await jsonSchemaFile());
  });

  it("keeps the README's reference generated from the schema (npm run config:docs)", async () => {
    // Prepare
    const readme = read('README.md');
    // Act / Assert
    expect(readme).toBe(await readmeWithReference(readme));
  });

  it('keeps every YAML config snippet in the README valid', () => {
    // Prepare
    const snippets = [...read('README.md').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    // Act
    const results = snippets.map((s) => validateConfig({ stage: 'acme', region: 'eu-west-1', ...parse(s) }));
    // Assert
    expect(snippets.length).toBeGreaterThanOrEqual(3);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  describe('the JSON Schema editors use', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(configJsonSchema());

    it.each(exampleStages)('accepts the %s example and is the one it references', (stage) => {
      // Prepare
      const file = `${EXAMPLES_DIR}steward.${stage}.yaml`;
      const text = readFileSync(file, 'utf8');
      const ref = /^# yaml-language-server: \$schema=(.*)$/m.exec(text)?.[1];
      // Act
      const ok = validate(parse(text));
      // Assert
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
      expect(resolve(dirname(file), ref!)).toBe(resolve(ROOT, JSON_SCHEMA_PATH));
    });

    it('flags an unknown key and a wrong type, as zod does', () => {
      // Act
      const ok = validate({
        region: 'eu-west-1',
        retention: { policies: { standard: { keepAtleast: 5 } } },
        dryRun: 'yes',
      });
      // Assert
      expect(ok).toBe(false);
      expect(validate.errors?.map((e) => `${e.instancePath} ${e.message}`)).toEqual(
        expect.arrayContaining([
          '/retention/policies/standard must NOT have additional properties',
          '/dryRun must be boolean',
        ]),
      );
    });
  });
});
