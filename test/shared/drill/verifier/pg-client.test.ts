import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pgDriver } from '../../../../shared/drill/verifier/pg-client.js';

describe('pgDriver', () => {
  it("is pg's own Client class, loaded without pg's index (its pool and native binding)", () => {
    expect(pgDriver.Client).toBe(pg.Client);
  });
});
