import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ladderFor,
  nextScaleStep,
  parseInstanceClass,
  previousScaleStep,
  STANDARD_SIZES,
} from '../../../shared/scaling/ladder.js';

const LADDER = ['db.r6g.large', 'db.r6g.xlarge', 'db.r6g.2xlarge'];

describe('nextScaleStep', () => {
  it.each<[string, string, string]>([
    ['db.r6g.large', 'db.r6g.2xlarge', 'next db.r6g.xlarge'],
    ['db.r6g.xlarge', 'db.r6g.2xlarge', 'next db.r6g.2xlarge'],
    ['db.r6g.2xlarge', 'db.r6g.2xlarge', 'at-max'],
    ['db.r6g.xlarge', 'db.r6g.xlarge', 'at-max'],
    ['db.r5.large', 'db.r6g.2xlarge', 'not-on-ladder'],
  ])('from %s with max %s: %s', (current, max, expected) => {
    // Act
    const s = nextScaleStep(LADDER, current, max);

    // Assert
    expect(s.step === 'next' ? `next ${s.to}` : s.step).toBe(expected);
  });
});

describe('previousScaleStep', () => {
  it.each<[string, string | undefined, string]>([
    ['db.r6g.2xlarge', undefined, 'next db.r6g.xlarge'],
    ['db.r6g.large', undefined, 'at-min'],
    ['db.r6g.xlarge', 'db.r6g.xlarge', 'at-min'],
    ['db.m6g.large', undefined, 'not-on-ladder'],
  ])('from %s with floor %s: %s', (current, min, expected) => {
    // Act
    const s = previousScaleStep(LADDER, current, min);

    // Assert
    expect(s.step === 'next' ? `next ${s.to}` : s.step).toBe(expected);
  });
});

describe('ladderFor', () => {
  it('uses the configured ladder as given', () => {
    expect(ladderFor(LADDER, 'db.r6g.xlarge')).toEqual(LADDER);
  });

  it("derives the family's standard sizes up to max when none is configured", () => {
    expect(ladderFor(undefined, 'db.r6g.2xlarge')).toEqual([
      'db.r6g.micro',
      'db.r6g.small',
      'db.r6g.medium',
      'db.r6g.large',
      'db.r6g.xlarge',
      'db.r6g.2xlarge',
    ]);
  });

  it('parses instance classes and refuses anything else', () => {
    expect(parseInstanceClass('db.r6gd.12xlarge')).toEqual({ family: 'r6gd', size: '12xlarge' });
    expect(parseInstanceClass('cache.r6g.large')).toBeUndefined();
  });
});

describe('ladder invariants', () => {
  const family = fc.constantFrom('r6g', 'm6i', 'x2g');
  const sizeIndex = fc.integer({ min: 0, max: STANDARD_SIZES.length - 1 });

  it('never steps above max, and every step up is exactly one rung', () => {
    fc.assert(
      fc.property(family, sizeIndex, sizeIndex, (f, cur, top) => {
        // Prepare
        const max = `db.${f}.${STANDARD_SIZES[top]}`;
        const ladder = ladderFor(undefined, max);
        const current = `db.${f}.${STANDARD_SIZES[cur]}`;

        // Act
        const s = nextScaleStep(ladder, current, max);

        // Assert
        if (cur >= top) expect(s.step).not.toBe('next');
        if (s.step === 'next') {
          expect(ladder.indexOf(s.to)).toBe(cur + 1);
          expect(ladder.indexOf(s.to)).toBeLessThanOrEqual(ladder.indexOf(max));
        }
      }),
    );
  });

  it('never steps below the floor', () => {
    fc.assert(
      fc.property(family, sizeIndex, sizeIndex, (f, cur, floor) => {
        // Prepare
        const ladder = ladderFor(undefined, `db.${f}.48xlarge`);
        const min = `db.${f}.${STANDARD_SIZES[floor]}`;

        // Act
        const s = previousScaleStep(ladder, `db.${f}.${STANDARD_SIZES[cur]}`, min);

        // Assert
        if (s.step === 'next') expect(ladder.indexOf(s.to)).toBeGreaterThanOrEqual(floor);
        else expect(cur).toBeLessThanOrEqual(floor);
      }),
    );
  });
});
