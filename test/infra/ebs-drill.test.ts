import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AslDefinition, definitionFromTemplate } from '../../infra/local-drill.js';
import { StewardStack } from '../../infra/stack.js';
import { parseConfig } from '../../shared/config/schema.js';
import type { DrillState } from '../../shared/drill/state.js';
import { type FakeEbsOptions, ebsSet, fakeEbs } from '../fakes/ebs-drill-ports.js';
import { fakeVerifier } from '../fakes/ebs-verifier-ports.js';
import { fakeEndpoints } from '../fakes/drill-endpoints.js';
import { fakeFastRestoreLedger } from '../fakes/drill-ports.js';
import { exampleInput } from '../support/examples.js';
import { allowing, unbundledContext } from './iam.js';
import {
  DRILL_START,
  drillEnd,
  EBS_PASSED_AT_SECOND_POLL,
  FAILED_AT_RESTORE,
  localDrillDeps,
  runLocalEbsDrill,
  runnerClock,
  VERIFIED_EBS_PATH,
} from '../support/local-drill.js';

// The prod example plus an EBS drill of one instance: the synthesized template (states, grants, schedule,
// environment) and its drill definition run locally with the real drill tasks over in-memory EC2.
const INSTANCE = 'i-0abc1234def567890';
const REGION = 'eu-west-1';
const config = parseConfig(
  {
    ...exampleInput('prod'),
    region: REGION,
    drill: {
      ...exampleInput('prod').drill,
      volumes: { [INSTANCE]: { schedule: 'cron(0 6 2 * ? *)', pollSeconds: 10, timeoutSeconds: 120 } },
    },
  },
  'test',
);

let t: Template;
let definition: AslDefinition;
beforeAll(() => {
  const app = new App({ context: unbundledContext });
  const stack = new StewardStack(app, 'Steward-ebs-drill', { config });
  t = Template.fromStack(stack);
  definition = definitionFromTemplate(
    t.toJSON() as Parameters<typeof definitionFromTemplate>[0],
    'steward-prod-drill',
  );
});

describe('the drill state machine with EBS drills', () => {
  it('sends an EBS drill from Restore into its own bounded polling loop, then through VerifyVolumes to Cleanup', () => {
    const s = definition.States;
    expect(s.Restore!.Next).toBe('Volumes?');
    expect(s['Volumes?']!.Choices).toEqual([
      {
        And: [
          { Variable: '$.kind', IsPresent: true },
          { Variable: '$.kind', StringEquals: 'ebs' },
        ],
        Next: 'WaitForVolumes',
      },
    ]);
    expect(s['Volumes?']!.Default).toBe('WaitForRestore');
    expect(s.WaitForVolumes).toMatchObject({ Type: 'Wait', SecondsPath: '$.ebs.settings.pollSeconds' });
    expect(s.WaitForVolumes!.Next).toBe('CheckVolumes');
    expect(s.CheckVolumes!.Next).toBe('VolumesRestored?');
    expect(s.CheckVolumes!.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Cleanup' },
    ]);
    expect(s['VolumesRestored?']!.Default).toBe('WaitForVolumes');
    expect(s['VolumesRestored?']!.Choices?.map((c) => c.Next)).toEqual(['VerifyVolumes', 'Cleanup']);
    expect(s.VerifyVolumes).toMatchObject({ Type: 'Pass', Next: 'Cleanup' });
  });

  it('gives the drill function the drill zone and the EBS grants, tag-conditioned', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('restore drill tasks'),
      Environment: {
        Variables: Match.objectLike({ DRILL_EBS_AZ: Match.anyValue() }),
      },
    });
    const fn = allowing(t, 'ec2:DeleteVolume');
    expect(fn).toHaveLength(1);
    expect(fn[0]!.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/steward:managed': 'true' },
      Null: { 'aws:ResourceTag/steward:drill': 'false' },
    });
    expect(allowing(t, 'ec2:DescribeSnapshots').length).toBeGreaterThan(0);
    // The fast snapshot restore records, in the state table under their own key only.
    const records = allowing(t, 'dynamodb:UpdateItem').filter((x) => x.Sid === 'DrillFastRestores');
    expect(records).toHaveLength(1);
    expect(records[0]!.Condition).toMatchObject({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['drill-fast-restores*'] },
    });
  });

  it('schedules the instance’s drill with its own expression', () => {
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: `steward-prod-drill-${INSTANCE}`,
      ScheduleExpression: 'cron(0 6 2 * ? *)',
      Target: Match.objectLike({ Input: JSON.stringify({ database: INSTANCE }) }),
    });
  });
});

const EXECUTION = 'drill-ebs-local';
// The same target with fast snapshot restore (the definition does not change: the settings are in the state).
const fsrConfig = parseConfig(
  {
    ...exampleInput('prod'),
    region: REGION,
    drill: {
      ...exampleInput('prod').drill,
      volumes: { [INSTANCE]: { pollSeconds: 10, timeoutSeconds: 120, fastSnapshotRestore: true } },
    },
  },
  'test',
);
// Taken an hour before the run (the local execution runs on the real clock): within the 25 h RPO target.
const LATEST = ebsSet(INSTANCE, new Date(Date.now() - 3_600_000).toISOString(), ['vol-0root', 'vol-0data']);

/** In-memory EC2 for the drill tasks; with `check`, a verifier too (and the config with `verify`). */
const scenario = (o: FakeEbsOptions, check?: { status: 'success' | 'failed'; output?: string }) => {
  const ebs = fakeEbs([LATEST], o, REGION);
  const now = runnerClock();
  const verifier = fakeVerifier(check ? { check } : {}, now);
  // A verifying drill creates the three Systems Manager endpoints for its duration (drill.endpoints: per-drill).
  const endpoints = fakeEndpoints({}, REGION);
  const deps = localDrillDeps(check ? verifyConfig : config, now, {
    ebs: check ? { ...ebs, verifier } : ebs,
    ...(check ? { endpoints } : {}),
  });
  return { ebs, deps, notifier: deps.notifier, verifier, endpoints };
};

const run = (f: ReturnType<typeof scenario>, def: AslDefinition = definition) =>
  runLocalEbsDrill(def, EXECUTION, INSTANCE, f.deps);

describe('the synthesized drill definition, run locally for an EBS drill', () => {
  it('restores the set, polls until its volumes are available, cleans up and records a pass', async () => {
    // Prepare: the data volume needs two polls
    const f = scenario({ readyAfterPolls: { [LATEST.parts![1]!.id]: 2 } });

    // Act
    const r = await run(f);

    // Assert
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).toEqual(EBS_PASSED_AT_SECOND_POLL);
    const out = r.output as DrillState;
    expect(out.result).toMatchObject({ passed: true, outcome: 'passed' });
    expect(out.ebs?.volumes.every((v) => v.state === 'available' && v.seconds !== undefined)).toBe(true);
    expect(f.ebs.live.size).toBe(0);
  });

  it('a volume that goes to error is caught into Cleanup, which deletes every volume, and ends DrillFailed', async () => {
    // Prepare
    const f = scenario({ errorState: LATEST.parts![0]!.id });

    // Act
    const r = await run(f);

    // Assert
    expect(r.status).toBe('FAILED');
    expect(r.error?.Error).toBe('DrillFailed');
    expect(r.path).toEqual([
      ...DRILL_START,
      'Volumes?',
      'WaitForVolumes',
      'CheckVolumes',
      ...drillEnd(false),
    ]);
    expect(f.ebs.log.filter((l) => l.startsWith('delete'))).toHaveLength(2);
    expect(f.ebs.live.size).toBe(0);
  });

  it('a refused create is caught into Cleanup, which finds the created volume by its tag', async () => {
    // Prepare
    const f = scenario({ failCreate: LATEST.parts![1]!.id });

    // Act
    const r = await run(f);

    // Assert
    expect(r.status).toBe('FAILED');
    expect(r.path).toEqual(FAILED_AT_RESTORE);
    expect(f.ebs.live.size).toBe(0);
    expect(f.notifier.sent.map((m) => [m.severity, m.subject])).toEqual([
      ['critical', `Drill FAILED: ${INSTANCE} at restore`],
    ]);
  });

  it('a Restore that fails after turning fast snapshot restore on: Cleanup turns it off from the record', async () => {
    // Prepare: the enable goes through and the task fails; the Catch hands Cleanup the state before Restore,
    // which names nothing turned on, and no volume exists to carry the tag.
    const ebs = fakeEbs([LATEST], { failEnable: true }, REGION);
    const ledger = fakeFastRestoreLedger();
    const deps = localDrillDeps(fsrConfig, runnerClock(), { ebs: { ...ebs, fastRestores: ledger } });

    // Act
    const r = await runLocalEbsDrill(definition, EXECUTION, INSTANCE, deps);

    // Assert
    expect(r.status).toBe('FAILED');
    expect(r.path).toEqual(FAILED_AT_RESTORE);
    const snaps = LATEST.parts!.map((p) => p.id).sort();
    expect(ebs.log.filter((l) => l.startsWith('fsr'))).toEqual([
      `fsr on ${snaps.join(',')}`,
      `fsr off ${snaps.join(',')}`,
    ]);
    expect(ledger.records.size).toBe(0);
  });
});

// The same instance with a verifier: VerifyVolumes becomes a task of the drill function, and the stack
// deploys the verifier network, its grants and steward's Command document (no backup policy deploys one here).
const verifyConfig = parseConfig(
  {
    ...exampleInput('prod'),
    region: REGION,
    drill: {
      ...exampleInput('prod').drill,
      volumes: {
        [INSTANCE]: {
          schedule: 'cron(0 6 2 * ? *)',
          pollSeconds: 10,
          timeoutSeconds: 120,
          verify: { command: 'fsck -n /dev/sdf1', instanceType: 'm7g.large' },
        },
      },
    },
  },
  'test',
);

describe('the drill state machine with an EBS verifier', () => {
  let vt: Template;
  let vdef: AslDefinition;
  beforeAll(() => {
    const app = new App({ context: unbundledContext });
    vt = Template.fromStack(new StewardStack(app, 'Steward-ebs-verify', { config: verifyConfig }));
    vdef = definitionFromTemplate(
      vt.toJSON() as Parameters<typeof definitionFromTemplate>[0],
      'steward-prod-drill',
    );
  });

  it('gives up on no task before its Lambda function does: a timed-out Restore or CheckRestore must not act after Cleanup', () => {
    // Step Functions stops waiting at a task's TimeoutSeconds but the invocation runs on to the function's own
    // timeout: a Restore still running after its Catch sent the drill to Cleanup would create the copy after
    // Cleanup found none (left to the janitor), a CheckRestore would add an Aurora writer to a deleted drill's copy.
    const resources = (
      vt.toJSON() as { Resources: Record<string, { Type: string; Properties?: { Timeout?: number } }> }
    ).Resources;
    // Not WaitForRestore: its timeout is the wait for the RDS event's token (then polling), not the invocation's.
    const tasks = Object.entries(vdef.States).filter(
      ([, st]) => st.Type === 'Task' && !st.Resource?.startsWith('arn:aws:states:'),
    );
    expect(tasks.length).toBeGreaterThan(5);
    for (const [name, st] of tasks) {
      const fn = /function:([A-Za-z0-9]+)$/.exec(st.Resource ?? '')?.[1];
      const timeout = fn ? resources[fn]?.Properties?.Timeout : undefined;
      expect(timeout, `${name} invokes a function with a timeout`).toBeGreaterThan(0);
      expect((st as { TimeoutSeconds?: number }).TimeoutSeconds, name).toBeGreaterThan(timeout!);
    }
  });

  it('makes VerifyVolumes the verify-volumes task of the drill function, caught into Cleanup', () => {
    const v = vdef.States.VerifyVolumes!;
    expect(v).toMatchObject({ Type: 'Task', Next: 'Cleanup' });
    expect(JSON.stringify(v)).toContain('"task":"verify-volumes"');
    expect(v.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Cleanup' }]);
  });

  it('gives the drill function 15 minutes, the verifier network and steward’s document (one), and the grants', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('restore drill tasks'),
      Timeout: 300,
    });
    vt.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('restore drill tasks'),
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          DRILL_VERIFIER_SUBNETS: Match.anyValue(),
          DRILL_VERIFIER_SECURITY_GROUP: Match.anyValue(),
          DRILL_VERIFIER_INSTANCE_PROFILE: Match.anyValue(),
          CONSISTENCY_DOCUMENT: 'steward-prod-consistency',
        }),
      },
    });
    vt.resourceCountIs('AWS::SSM::Document', 1);
    t.resourceCountIs('AWS::SSM::Document', 0);
    const launch = allowing(vt, 'ec2:RunInstances').filter((s) => s.Condition?.StringEquals);
    expect(JSON.stringify(launch)).toContain('m7g.large');
    expect(allowing(vt, 'ec2:TerminateInstances').length).toBeGreaterThan(0);
    expect(allowing(t, 'ec2:RunInstances')).toEqual([]);
  });

  const verifyRun = async (check: { status: 'success' | 'failed'; output?: string }) => {
    const f = scenario({}, check);
    return { r: await run(f, vdef), f, verifier: f.verifier };
  };
  // The endpoints are asked for after the selection, waited for (one Wait) before VerifyVolumes, and
  // released after Cleanup.
  const PATH = VERIFIED_EBS_PATH;

  it('runs the verifier on the restored volumes, cleans up and records a pass', async () => {
    // Act
    const { r, f, verifier } = await verifyRun({ status: 'success', output: 'clean' });

    // Assert
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).toEqual([...PATH, 'DrillSucceeded']);
    const out = r.output as DrillState;
    expect(out.ebs?.verification).toMatchObject({ outcome: 'passed', output: 'clean' });
    expect(verifier.log.filter((l) => l.startsWith('attach'))).toHaveLength(2);
    expect(verifier.live.size).toBe(0);
    expect(f.ebs.live.size).toBe(0);
    expect(f.endpoints.log.filter((l) => l.startsWith('create')).sort()).toEqual([
      'create ec2messages',
      'create ssm',
      'create ssmmessages',
    ]);
    expect(f.endpoints.live()).toEqual([]);
    expect(out.endpointsClosed).toMatchObject({ status: 'deleted' });
  });

  it('a failed check ends DrillFailed, with the volumes and the verifier gone', async () => {
    // Act
    const { r, f, verifier } = await verifyRun({ status: 'failed' });

    // Assert
    expect(r.status).toBe('FAILED');
    expect(r.path).toEqual([...PATH, 'DrillFailed']);
    expect(verifier.live.size).toBe(0);
    expect(f.ebs.live.size).toBe(0);
    expect(f.notifier.sent.map((m) => m.severity)).toEqual(['critical']);
  });
});
