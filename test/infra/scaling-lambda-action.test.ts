import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ALARM_ACTION_PRINCIPAL, ALARM_PERMISSIONS, alarmArnPatterns } from '../../infra/scaling.js';
import {
  lambdaResourcePolicy,
  type LambdaStatement,
  SCALING_STAGE_ID,
  scalingStage,
} from '../support/scaling-stage.js';

// `scaling.delivery: lambda-action` at scale: every alarm invokes the scaling function itself, so the function's
// resource-based policy must let them all. One statement per alarm (CDK's LambdaAction adds one per alarm it is
// given, and steward added one per rule on an alarm it does not create) filled the policy's 20 KB at about 45
// rules and, with the alarms, passed CloudFormation's 500 resources: the stage could not deploy.

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
/** Lambda: a function's resource-based policy holds 20 KB (GetPolicy's `Policy`: at most 20,480 characters). */
const POLICY_LIMIT = 20_480;
/** CloudFormation: resources in one stack. */
const RESOURCE_LIMIT = 500;
/** CloudFormation: a template body uploaded to S3 (as `cdk deploy` does) holds 1 MB. */
const TEMPLATE_LIMIT = 1_048_576;

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

const functionPolicy = (t: Template) =>
  lambdaResourcePolicy(t, 'steward-production-scaling', SCALING_STAGE_ID, ACCOUNT, REGION).policy;

const isAlarmAction = (s: LambdaStatement) =>
  'Service' in s.Principal && s.Principal.Service === ALARM_ACTION_PRINCIPAL;

/** IAM's ArnLike on one ARN: `*` any run of characters, `?` one, within each of the six parts. */
const arnLike = (pattern: string, arn: string): boolean => {
  const glob = (p: string, s: string) =>
    new RegExp(
      `^${p
        .split('')
        .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('')}$`,
      's',
    ).test(s);
  const [p, a] = [pattern.split(':'), arn.split(':')];
  const last = (x: string[]) => [...x.slice(0, 5), x.slice(5).join(':')];
  return last(p).every((part, i) => glob(part, last(a)[i] ?? ''));
};

const alarmArn = (name: string, account = ACCOUNT, region = REGION) =>
  `arn:aws:cloudwatch:${region}:${account}:alarm:${name}`;

describe.each([60, 300])(
  'scaling.delivery lambda-action with %i rules, every other one on an alarm steward creates',
  (count) => {
    let template: Template;
    let names: string[];
    let policy: ReturnType<typeof functionPolicy>;

    beforeAll(() => {
      ({ template, names } = scalingStage(count, { delivery: 'lambda-action', created: (i) => i % 2 === 0 }));
      policy = functionPolicy(template);
    });

    it('fits the function’s 20 KB resource policy: a few alarm permissions, not one per alarm', () => {
      const alarms = policy.Statement.filter(isAlarmAction);
      expect(alarms.length).toBeGreaterThan(0);
      expect(alarms.length).toBeLessThanOrEqual(ALARM_PERMISSIONS);
      expect(JSON.stringify(policy).length).toBeLessThanOrEqual(POLICY_LIMIT);
    });

    it('stays within CloudFormation’s 500 resources a stack', () => {
      expect(Object.keys(template.toJSON().Resources as Resources).length).toBeLessThanOrEqual(
        RESOURCE_LIMIT,
      );
    });

    it('lets every rule’s alarm invoke the function, and only this account’s alarms in this region', () => {
      const alarms = policy.Statement.filter(isAlarmAction);
      for (const s of alarms) {
        expect(s.Action).toBe('lambda:InvokeFunction');
        // The confused-deputy guard: another account's alarm never invokes it, whatever its name.
        expect(s.Condition?.StringEquals).toEqual({ 'AWS:SourceAccount': ACCOUNT });
        expect(s.Condition?.ArnLike?.['AWS:SourceArn']).toMatch(
          new RegExp(`^arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:`),
        );
      }
      const allows = (arn: string) =>
        alarms.some((s) => arnLike(s.Condition!.ArnLike!['AWS:SourceArn']!, arn));
      for (const name of names) expect(allows(alarmArn(name)), name).toBe(true);
      expect(allows(alarmArn(names[0]!, '444455556666'))).toBe(false);
      expect(allows(alarmArn(names[0]!, ACCOUNT, 'us-east-1'))).toBe(false);
    });

    it('makes the alarms steward creates invoke the function, none with a permission of its own', () => {
      const resources = template.toJSON().Resources as Resources;
      const created = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
      const ours = created.filter(([, r]) => String(r.Properties!.AlarmName).startsWith('orders-db-'));
      expect(ours).toHaveLength(Math.ceil(count / 2));
      for (const [id, r] of ours) {
        const fn = { 'Fn::GetAtt': [expect.stringMatching(/^ScalingFunction/), 'Arn'] };
        expect(r.Properties!.AlarmActions, id).toEqual([fn]);
        // Every created alarm here is rule 0, 2, 4 …: all of them scale in.
        expect(r.Properties!.OKActions, id).toEqual([fn]);
      }
      // CDK's LambdaAction scoped a permission to each alarm's ARN (`Fn::GetAtt [<alarm>, Arn]`).
      const alarmIds = new Set(created.map(([id]) => id));
      const perAlarm = Object.values(resources).filter(
        (r) =>
          r.Type === 'AWS::Lambda::Permission' &&
          alarmIds.has(
            (r.Properties?.SourceArn as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt']?.[0] ?? '',
          ),
      );
      expect(perAlarm).toEqual([]);
    });

    it('creates each alarm after the one permission that lets it invoke the function, and no other', () => {
      // On the first deploy CloudFormation creates what nothing orders in parallel: an alarm created before its
      // permission could fire into a refused invoke (its history shows it; the scaling never happens).
      const resources = template.toJSON().Resources as Resources & Record<string, { DependsOn?: string[] }>;
      const permissions = Object.entries(resources).filter(
        ([, r]) => r.Type === 'AWS::Lambda::Permission' && r.Properties?.Principal === ALARM_ACTION_PRINCIPAL,
      );
      const pattern = (id: string) => {
        const arn = resources[id]!.Properties!.SourceArn as { 'Fn::Join': [string, unknown[]] };
        return String(arn['Fn::Join'][1].at(-1)).replace(/^:alarm:/, '');
      };
      const covers = (p: string, name: string) =>
        p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : p === name;
      const ours = Object.entries(resources).filter(
        ([, r]) =>
          r.Type === 'AWS::CloudWatch::Alarm' && String(r.Properties!.AlarmName).startsWith('orders-db-'),
      );
      for (const [id, r] of ours) {
        const name = String(r.Properties!.AlarmName);
        const ordered = (r.DependsOn ?? []).filter((d) => permissions.some(([p]) => p === d));
        expect(ordered, id).toHaveLength(1);
        expect(covers(pattern(ordered[0]!), name), `${id} after ${ordered[0]}`).toBe(true);
      }
    });

    it('keeps the template within CloudFormation’s 1 MB', () => {
      expect(JSON.stringify(template.toJSON()).length).toBeLessThanOrEqual(TEMPLATE_LIMIT);
    });
  },
);

describe('alarmArnPatterns: a few name patterns covering every rule’s alarm', () => {
  const covered = (patterns: string[], name: string) =>
    patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : p === name));

  it('keeps the names and prefixes themselves while they are few', () => {
    expect(alarmArnPatterns(['b-high', 'a-high', 'billing-*', 'billing-load-1', 'a-high'], 10)).toEqual([
      'a-high',
      'b-high',
      'billing-*',
    ]);
  });

  it('groups many names by their longest shared prefixes, and only names that share nothing by `*`', () => {
    const names = Array.from({ length: 300 }, (_, i) => `orders-db-${String(i).padStart(3, '0')}-cpu-high`);
    expect(alarmArnPatterns(names, 10)).toEqual(['orders-db-0*', 'orders-db-1*', 'orders-db-2*']);
    expect(alarmArnPatterns([...names, 'billing-*', 'sessions-redis-memory-high'], 3)).toEqual([
      'billing-*',
      'orders-db-*',
      'sessions-redis-memory-high',
    ]);
    expect(alarmArnPatterns(['a', 'b', 'c'], 2)).toEqual(['*']);
  });

  it('returns at most `max` patterns, covering every name it was given and no pattern twice', () => {
    const name = fc.string({ unit: fc.constantFrom('a', 'b', '-', '0', '1'), minLength: 1, maxLength: 8 });
    const pattern = fc.oneof(
      name,
      name.map((n) => `${n}*`),
    );
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 60 }), fc.integer({ min: 1, max: 12 }), (patterns, max) => {
        const out = alarmArnPatterns(patterns, max);
        expect(out.length).toBeLessThanOrEqual(Math.max(1, max));
        expect(new Set(out).size).toBe(out.length);
        for (const p of patterns) {
          // A prefix is covered by a pattern whose prefix is its own or shorter.
          const stem = p.endsWith('*') ? p.slice(0, -1) : p;
          expect(
            out.some((o) =>
              o.endsWith('*') ? stem.startsWith(o.slice(0, -1)) : !p.endsWith('*') && o === p,
            ),
            p,
          ).toBe(true);
        }
        const exact = patterns.filter((p) => !p.endsWith('*'));
        for (const n of exact) expect(covered(out, n)).toBe(true);
      }),
    );
  });
});
