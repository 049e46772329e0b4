import { describe, expect, it } from 'vitest';
import type { StepRequest, StepResult } from '../../../shared/backup/consistency.js';
import { EbsVerify, VERIFY_BUDGET_SECONDS } from '../../../shared/config/ebs-verifier.js';
import {
  assignDevices,
  type AttachmentState,
  checkRunId,
  type EbsVerifierPort,
  isVerifier,
  type LaunchRequest,
  VERIFY_OVERHEAD_SECONDS,
  verificationOutcome,
  verifierLifetimeMinutes,
  verifierResources,
  verifierTags,
  verifierToken,
  verifyEbsSet,
  verifySeconds,
  type VerifyRequest,
} from '../../../shared/drill/ebs-verifier.js';
import { RUN_ID_PATTERN } from '../../../shared/backup/consistency-document.js';
import { Tag } from '../../../shared/tags.js';

const DRILL = 'monthly-mongo-202602010500';
const REQ: VerifyRequest = {
  drillId: DRILL,
  availabilityZone: 'eu-west-1a',
  volumes: [
    { volumeId: 'vol-new1', sourceVolumeId: 'vol-0root', device: '/dev/xvda' },
    { volumeId: 'vol-new2', sourceVolumeId: 'vol-0data', device: '/dev/sdf' },
  ],
};
const VERIFY = EbsVerify.parse({
  command: "fsck -n /dev/sdf && mount -o ro,norecovery /dev/sdf /mnt && test -s '/mnt/data'",
});

/**
 * EC2 and Systems Manager in memory: the instance registers after `onlineAfterPolls` polls, volumes attach
 * after one describe and detach once the instance is terminated, and every call is logged. Each sleep
 * advances the clock.
 */
const fakes = (
  o: {
    failLaunch?: boolean;
    launchedState?: string;
    onlineAfterPolls?: number;
    failAttach?: string;
    attachSticks?: AttachmentState;
    failTerminate?: boolean;
    neverDetach?: boolean;
    check?: StepResult | Error;
  } = {},
) => {
  const log: string[] = [];
  const steps: StepRequest[] = [];
  const launches: LaunchRequest[] = [];
  let clock = Date.parse('2026-02-01T05:00:00Z');
  let polls = 0;
  let terminated = false;
  let forced = false;
  const attached = new Map<string, number>();
  const verifier: EbsVerifierPort = {
    region: 'eu-west-1',
    launch: async (r) => {
      log.push(`launch ${r.availabilityZone} ${r.instanceType}`);
      launches.push(r);
      if (o.failLaunch) throw new Error('InsufficientInstanceCapacity');
      return { instanceId: 'i-0verifier', state: o.launchedState ?? 'pending', tags: r.tags };
    },
    registered: async () => {
      log.push('registered?');
      return ++polls >= (o.onlineAfterPolls ?? 2);
    },
    attach: async (v, i, d) => {
      log.push(`attach ${v} ${i} ${d}`);
      if (v === o.failAttach) throw new Error('VolumeInUse');
      attached.set(v, 0);
    },
    attachments: async (ids) => {
      log.push(`attachments ${ids.join(',')}`);
      const out: Record<string, AttachmentState> = {};
      for (const id of ids) {
        const n = attached.get(id);
        if (n === undefined) out[id] = 'detached';
        else if ((terminated && !o.neverDetach) || forced) out[id] = 'detached';
        else {
          attached.set(id, n + 1);
          out[id] = o.attachSticks ?? (n >= 1 ? 'attached' : 'attaching');
        }
      }
      return out;
    },
    detach: async (v, _i, force) => {
      log.push(`detach ${v}${force ? ' force' : ''}`);
      forced = true;
    },
    terminate: async (i) => {
      log.push(`terminate ${i}`);
      if (o.failTerminate) throw new Error('UnauthorizedOperation');
      terminated = true;
      return 'terminated';
    },
    listVerifiers: async () => [],
  };
  const runner = {
    run: async (s: StepRequest) => {
      log.push(`check ${s.instanceId}`);
      steps.push(s);
      clock += 20_000;
      if (o.check instanceof Error) throw o.check;
      return o.check ?? { status: 'success' as const, output: 'clean' };
    },
  };
  const deps = {
    verifier,
    runner,
    now: () => new Date(clock),
    sleep: async (ms: number) => {
      clock += ms;
    },
  };
  return { deps, log, steps, launches };
};

describe('verifyEbsSet', () => {
  it('launches, waits for Systems Manager, attaches, runs the configured check, terminates', async () => {
    // Prepare
    const f = fakes();

    // Act
    const r = await verifyEbsSet(f.deps, REQ, VERIFY);

    // Assert
    expect(r.status).toBe('passed');
    expect(r.problems).toEqual([]);
    expect(r.check).toMatchObject({ status: 'success', output: 'clean', seconds: 20 });
    expect(r.instanceId).toBe('i-0verifier');
    expect(r.registrationSeconds).toBe(10);
    expect([r.startedAt, r.finishedAt]).toEqual(['2026-02-01T05:00:00.000Z', '2026-02-01T05:00:33.000Z']);
    expect(r.devices).toEqual([
      { volumeId: 'vol-new1', sourceVolumeId: 'vol-0root', device: '/dev/sdg' },
      { volumeId: 'vol-new2', sourceVolumeId: 'vol-0data', device: '/dev/sdf' },
    ]);
    expect(r.cleanup).toEqual([
      { resource: 'instance i-0verifier', action: 'terminate', status: 'done' },
      { resource: 'volume vol-new1', action: 'detach', status: 'done' },
      { resource: 'volume vol-new2', action: 'detach', status: 'done' },
    ]);
    expect(f.log).toEqual([
      'launch eu-west-1a t4g.small',
      'registered?',
      'registered?',
      'attach vol-new1 i-0verifier /dev/sdg',
      'attach vol-new2 i-0verifier /dev/sdf',
      'attachments vol-new1,vol-new2',
      'attachments vol-new1,vol-new2',
      'check i-0verifier',
      'terminate i-0verifier',
      'attachments vol-new1,vol-new2',
    ]);
  });

  it('sends exactly the configured command, in the check phase, with a safe run id', async () => {
    // Prepare
    const f = fakes();

    // Act
    await verifyEbsSet(f.deps, { ...REQ, drillId: 'ebs/i-0abc:2026-02-01T05:00' }, VERIFY);

    // Assert
    expect(f.steps).toEqual([
      {
        instanceId: 'i-0verifier',
        phase: 'check',
        command: "fsck -n /dev/sdf && mount -o ro,norecovery /dev/sdf /mnt && test -s '/mnt/data'",
        runId: 'verify-ebs-i-0abc-2026-02-01T05-00',
        timeoutSeconds: 300,
      },
    ]);
    expect(f.steps[0]!.runId).toMatch(new RegExp(RUN_ID_PATTERN));
  });

  it('launches tagged as a drill verifier, with a deterministic token and a bounded lifetime', async () => {
    // Prepare
    const f = fakes();

    // Act
    await verifyEbsSet(f.deps, REQ, { ...VERIFY, instanceType: 'm7g.large' });

    // Assert
    expect(f.launches).toEqual([
      {
        availabilityZone: 'eu-west-1a',
        instanceType: 'm7g.large',
        clientToken: `${DRILL}-verifier`,
        tags: {
          [Tag.drill]: DRILL,
          [Tag.managed]: 'true',
          [Tag.createdBy]: 'drill',
          [Tag.kind]: 'ebs-verifier',
          Name: `steward-verifier-${DRILL}`,
        },
        lifetimeMinutes: verifierLifetimeMinutes(VERIFY),
      },
    ]);
    expect(isVerifier(f.launches[0]!.tags)).toBe(true);
  });

  it('a launch that fails is an error, with nothing to clean up', async () => {
    // Prepare
    const f = fakes({ failLaunch: true });

    // Act
    const r = await verifyEbsSet(f.deps, REQ, VERIFY);

    // Assert
    expect(r.status).toBe('error');
    expect(r.problems).toEqual(['not verified: InsufficientInstanceCapacity']);
    expect(r.cleanup).toEqual([]);
    expect(f.log).toEqual(['launch eu-west-1a t4g.small']);
  });

  it('an instance that never registers is an error after registrationSeconds, and is terminated', async () => {
    // Prepare
    const f = fakes({ onlineAfterPolls: Infinity });

    // Act
    const r = await verifyEbsSet(f.deps, REQ, { ...VERIFY, registrationSeconds: 60 });

    // Assert
    expect(r.status).toBe('error');
    expect(r.problems).toEqual(['not verified: not registered with Systems Manager within 60 s']);
    expect(f.log.filter((l) => l === 'registered?')).toHaveLength(7);
    expect(f.log.some((l) => l.startsWith('attach '))).toBe(false);
    expect(f.steps).toEqual([]);
    expect(r.cleanup).toEqual([{ resource: 'instance i-0verifier', action: 'terminate', status: 'done' }]);
  });

  it('a verifier an earlier attempt already ended is an error, not a wait', async () => {
    // Prepare
    const f = fakes({ launchedState: 'terminated' });

    // Act
    const r = await verifyEbsSet(f.deps, REQ, VERIFY);

    // Assert
    expect(r.status).toBe('error');
    expect(r.problems[0]).toMatch(/already terminated/);
    expect(f.log).not.toContain('registered?');
  });

  it('an attach that fails is an error; what was attached is detached by terminating', async () => {
    // Prepare
    const f = fakes({ failAttach: 'vol-new2' });

    // Act
    const r = await verifyEbsSet(f.deps, REQ, VERIFY);

    // Assert
    expect(r.status).toBe('error');
    expect(r.problems).toEqual(['not verified: VolumeInUse']);
    expect(f.steps).toEqual([]);
    expect(r.cleanup).toEqual([
      { resource: 'instance i-0verifier', action: 'terminate', status: 'done' },
      { resource: 'volume vol-new1', action: 'detach', status: 'done' },
    ]);
  });

  it('an attachment that EC2 reports busy is an error', async () => {
    // Prepare
    const f = fakes({ attachSticks: 'busy' });

    // Act
    const r = await verifyEbsSet(f.deps, REQ, VERIFY);

    // Assert
    expect(r.status).toBe('error');
    expect(r.problems).toEqual(['not verified: attach failed: vol-new1 busy, vol-new2 busy']);
    expect(f.steps).toEqual([]);
  });

  it('an attachment that never completes is an error after its bound', async () => {
    // Prepare
    const f = fakes({ attachSticks: 'attaching' });

    // Act
    const r = await verifyEbsSet(f.deps, REQ, VERIFY);

    // Assert
    expect(r.status).toBe('error');
    expect(r.problems).toEqual(['not verified: not attached within 60 s: vol-new1, vol-new2']);
  });

  it.each([
    [
      { status: 'failed', detail: 'Failed: fsck.xfs: bad superblock', output: 'Phase 1' } as StepResult,
      'failed',
    ],
    [{ status: 'timed-out', detail: 'Execution Timed Out' } as StepResult, 'failed'],
    [{ status: 'undelivered', detail: 'Delivery Timed Out' } as StepResult, 'error'],
    [{ status: 'cancelled' } as StepResult, 'error'],
  ] as const)('a check that ends %o makes the verification %s, with its output', async (check, status) => {
    // Prepare
    const f = fakes({ check });

    // Act
    const r = await verifyEbsSet(f.deps, REQ, VERIFY);

    // Assert
    expect(r.status).toBe(status);
    expect(r.check).toEqual({ ...check, seconds: 20 });
    expect(r.problems[0]).toBe(`check ${check.status}${check.detail ? `: ${check.detail}` : ''}`);
    expect(f.log.at(-2)).toBe('terminate i-0verifier');
  });

  it('a check that cannot be sent is an error, and the instance is still terminated', async () => {
    // Prepare
    const f = fakes({ check: new Error('AccessDeniedException') });

    // Act
    const r = await verifyEbsSet(f.deps, REQ, VERIFY);

    // Assert
    expect(r.status).toBe('error');
    expect(r.check).toMatchObject({
      status: 'error',
      detail: 'check could not be sent or read: AccessDeniedException',
    });
    expect(r.cleanup[0]).toEqual({ resource: 'instance i-0verifier', action: 'terminate', status: 'done' });
  });

  it('a terminate that fails is a failed cleanup; the volumes are then detached by force', async () => {
    // Prepare
    const f = fakes({ failTerminate: true });

    // Act
    const r = await verifyEbsSet(f.deps, REQ, VERIFY);

    // Assert: the check's verdict stands; the cleanup says what failed.
    expect(r.status).toBe('passed');
    expect(r.cleanup).toEqual([
      expect.objectContaining({
        resource: 'instance i-0verifier',
        action: 'terminate',
        status: 'failed',
        error: 'UnauthorizedOperation',
      }),
      { resource: 'volume vol-new1', action: 'detach', status: 'done' },
      { resource: 'volume vol-new2', action: 'detach', status: 'done' },
    ]);
    expect(f.log).toContain('detach vol-new1 force');
    expect(r.problems).toEqual(['cleanup: terminate instance i-0verifier failed: UnauthorizedOperation']);
  });

  it('volumes that stay attached are failed cleanups naming them', async () => {
    // Prepare
    const f = fakes({ neverDetach: true });
    f.deps.verifier.detach = async () => {
      throw new Error('IncorrectState');
    };

    // Act
    const r = await verifyEbsSet(f.deps, REQ, VERIFY);

    // Assert
    expect(r.cleanup.map((o) => `${o.resource} ${o.action} ${o.status}`)).toEqual([
      'instance i-0verifier terminate done',
      'volume vol-new1 detach failed',
      'volume vol-new2 detach failed',
    ]);
  });

  it('a set of more volumes than device names is refused before anything is launched', async () => {
    // Prepare
    const f = fakes();
    const volumes = Array.from({ length: 12 }, (_, i) => ({
      volumeId: `vol-n${i}`,
      sourceVolumeId: `vol-s${i}`,
    }));

    // Act
    const r = await verifyEbsSet(f.deps, { ...REQ, volumes }, VERIFY);

    // Assert
    expect(r.status).toBe('error');
    expect(r.problems).toEqual([
      'not verified: 12 volumes: a verifier attaches at most 11 (/dev/sdf to /dev/sdp)',
    ]);
    expect(f.log).toEqual([]);
  });
});

describe('verificationOutcome', () => {
  it('passes with the check named, fails with its problem, and an error is inconclusive', async () => {
    const passed = await verifyEbsSet(fakes().deps, REQ, VERIFY);
    expect(verificationOutcome(passed)).toEqual({
      outcome: 'passed',
      startedAt: passed.startedAt,
      finishedAt: passed.finishedAt,
      summary:
        'check passed in 20 s on i-0verifier (t4g.small; vol-0root at /dev/sdg, vol-0data at /dev/sdf)',
      output: 'clean',
    });
    const failed = await verifyEbsSet(
      fakes({ check: { status: 'failed', detail: 'exit 8', output: 'bad' } }).deps,
      REQ,
      VERIFY,
    );
    expect(verificationOutcome(failed)).toMatchObject({
      outcome: 'failed',
      summary: 'check failed: exit 8',
      output: 'bad',
    });
    const error = await verifyEbsSet(fakes({ failLaunch: true }).deps, REQ, VERIFY);
    expect(verificationOutcome(error)).toMatchObject({
      outcome: 'inconclusive',
      summary: 'not verified: InsufficientInstanceCapacity',
    });
    expect(verificationOutcome(error)).not.toHaveProperty('output');
  });
});

describe('assignDevices', () => {
  it.each([
    [
      ['/dev/sdf', '/dev/sdg'],
      ['/dev/sdf', '/dev/sdg'],
    ],
    [
      ['/dev/xvda', '/dev/sdf'],
      ['/dev/sdg', '/dev/sdf'],
    ],
    [
      ['/dev/xvdh', undefined, '/dev/sda1'],
      ['/dev/xvdh', '/dev/sdf', '/dev/sdg'],
    ],
    // Two source names with one letter: the second takes a free one.
    [
      ['/dev/sdf', '/dev/xvdf'],
      ['/dev/sdf', '/dev/sdg'],
    ],
    [
      ['/dev/sdz', '/dev/nvme1n1'],
      ['/dev/sdf', '/dev/sdg'],
    ],
  ])('maps source devices %j to %j', (source, expected) => {
    // Act
    const r = assignDevices(
      source.map((device, i) => ({ volumeId: `v${i}`, sourceVolumeId: `s${i}`, device })),
    );

    // Assert
    expect('error' in r ? r : r.map((d) => d.device)).toEqual(expected);
  });

  it('never assigns one device twice', () => {
    // Prepare
    const all = 'fghijklmnop'.split('').reverse();

    // Act
    const r = assignDevices(
      all.map((l, i) => ({
        volumeId: `v${i}`,
        sourceVolumeId: `s${i}`,
        device: i % 2 ? `/dev/xvd${l}` : undefined,
      })),
    );

    // Assert
    const devices = 'error' in r ? [] : r.map((d) => d.device.replace('xvd', 'sd'));
    expect(new Set(devices).size).toBe(11);
  });
});

describe('verifier bounds and names', () => {
  it('lives a few minutes longer than steward waits for it, and fits one Lambda invocation', () => {
    expect(VERIFY_OVERHEAD_SECONDS).toBe(60 + (30 + 15) + 2 * 120);
    expect(verifySeconds(VERIFY)).toBe(180 + 300 + VERIFY_OVERHEAD_SECONDS);
    expect(verifierLifetimeMinutes(VERIFY)).toBe(Math.ceil(825 / 60) + 5);
    // The config's budget is what is left of Lambda's 900 s after the overhead and 30 s for the task.
    expect(VERIFY_BUDGET_SECONDS).toBe(900 - 30 - VERIFY_OVERHEAD_SECONDS);
    expect(verifySeconds({ registrationSeconds: 200, timeoutSeconds: VERIFY_BUDGET_SECONDS - 200 })).toBe(
      870,
    );
  });

  it('keeps tokens and run ids within their limits', () => {
    const long = 'x'.repeat(100);
    expect(verifierToken(long)).toHaveLength(64);
    expect(checkRunId(long)).toMatch(new RegExp(RUN_ID_PATTERN));
  });

  it('tells a verifier by all three of its tags', () => {
    const tags = verifierTags(DRILL);
    expect(isVerifier(tags)).toBe(true);
    expect(isVerifier({ ...tags, [Tag.kind]: 'dump' })).toBe(false);
    expect(isVerifier({ ...tags, [Tag.managed]: 'false' })).toBe(false);
    const { [Tag.drill]: _, ...noDrill } = tags;
    expect(isVerifier(noDrill)).toBe(false);
  });

  it('gives the janitor each verifier with its launch time; one shutting down is already deleting', () => {
    expect(
      verifierResources([
        {
          instanceId: 'i-1',
          state: 'running',
          launchedAt: '2026-02-01T05:00:00.000Z',
          tags: verifierTags('d1'),
        },
        { instanceId: 'i-2', state: 'shutting-down', tags: verifierTags('d2') },
      ]),
    ).toEqual([
      {
        kind: 'ebs-verifier',
        id: 'i-1',
        drillId: 'd1',
        createdAt: '2026-02-01T05:00:00.000Z',
        status: 'running',
      },
      { kind: 'ebs-verifier', id: 'i-2', drillId: 'd2', status: 'deleting' },
    ]);
  });
});

describe('EbsVerify config', () => {
  it('defaults to a t4g.small, 180 s to register and 300 s for the check', () => {
    expect(EbsVerify.parse({ command: 'fsck -n /dev/sdf' })).toEqual({
      command: 'fsck -n /dev/sdf',
      timeoutSeconds: 300,
      instanceType: 't4g.small',
      registrationSeconds: 180,
    });
  });

  it.each([
    [{ command: 'fsck -n /dev/sdf', instanceType: 't3.small' }, 'arm64'],
    [{ command: '  ' }, 'blank'],
    [{ command: 'echo {{ssm:/secret}}' }, 'parameter reference'],
    [{ command: 'true', timeoutSeconds: 5 }, ''],
    [{ command: 'true', extra: 1 }, ''],
    [{ command: 'true', registrationSeconds: 300, timeoutSeconds: 300 }, 'one Lambda invocation'],
  ])('refuses %j', (input, message) => {
    const r = EbsVerify.safeParse(input);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain(message);
  });

  it.each(['t4g.nano', 'm7g.large', 'c6gn.16xlarge', 'r8gd.metal', 'm6gd.xlarge'])(
    'accepts %s',
    (instanceType) => {
      expect(EbsVerify.safeParse({ command: 'true', instanceType }).success).toBe(true);
    },
  );
});
