import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Consistency,
  type ConsistencyDeps,
  type ConsistencyTarget,
  consistencyAround,
  dumpKey,
  type StepRequest,
  type StepResult,
  takeConsistent,
} from '../../../shared/backup/consistency.js';
import { Tag } from '../../../shared/tags.js';

const TARGET: ConsistencyTarget = {
  instanceId: 'i-0abc1234def567890',
  policy: 'daily',
  setId: 'steward-i-0abc1234def567890-202601150300-sched',
  createdBy: 'backup',
};
const FREEZE: Consistency = {
  pre: 'fsfreeze -f /data',
  post: 'fsfreeze -u /data',
  timeoutSeconds: 10,
  maxFreezeSeconds: 60,
  onPreFailure: 'crash-consistent',
};
const DUMP = {
  command: 'mongodump --archive',
  bucket: 'team-dumps',
  prefix: 'steward/',
  timeoutSeconds: 120,
};

type Scripted = StepResult | Error | ((s: StepRequest) => StepResult | Promise<StepResult>);

/**
 * A host whose steps answer from a script per phase (one entry per attempt, the last repeated), a log
 * of everything in order ("pre", "snapshot", "post"...), and a clock that each step advances by 1 s.
 */
const world = (script: Partial<Record<StepRequest['phase'], Scripted[]>> = {}) => {
  const log: string[] = [];
  const sent: StepRequest[] = [];
  const tagged: { bucket: string; key: string; tags: Record<string, string> }[] = [];
  let clock = Date.parse('2026-01-15T03:00:00Z');
  const attempts: Record<string, number> = {};
  let watchdog: (() => void) | undefined;
  let tagFails = false;
  const deps: ConsistencyDeps = {
    runner: {
      run: async (s) => {
        sent.push(s);
        log.push(s.phase);
        clock += 1000;
        const list = script[s.phase] ?? [{ status: 'success' }];
        const i = (attempts[s.phase] = (attempts[s.phase] ?? 0) + 1) - 1;
        const answer = list[Math.min(i, list.length - 1)]!;
        if (answer instanceof Error) throw answer;
        return typeof answer === 'function' ? answer(s) : answer;
      },
    },
    dumps: {
      tag: async (bucket, key, tags) => {
        if (tagFails) throw new Error('AccessDenied');
        tagged.push({ bucket, key, tags });
      },
    },
    now: () => new Date(clock),
    // steward's watchdog fires only when a test fires it.
    sleep: (_ms, signal) =>
      new Promise<void>((resolve) => {
        watchdog = () => !signal.aborted && resolve();
      }),
  };
  return {
    deps,
    log,
    sent,
    tagged,
    fireWatchdog: () => watchdog?.(),
    failTagging: () => (tagFails = true),
    snapshot:
      (result: 'ok' | Error = 'ok') =>
      async () => {
        log.push('snapshot');
        if (result instanceof Error) throw result;
        return 'snap-set-1';
      },
  };
};

describe('takeConsistent: the happy path', () => {
  it('freezes, snapshots, thaws, in that order, and calls the snapshot application-consistent', async () => {
    // Prepare
    const w = world();
    // Act
    const r = await takeConsistent(TARGET, FREEZE, w.deps, w.snapshot());
    // Assert
    expect(w.log).toEqual(['pre', 'snapshot', 'post']);
    expect(r).toMatchObject({
      consistency: 'application',
      thawed: true,
      snapshot: { ok: true, value: 'snap-set-1' },
      severity: 'info',
      problems: [],
      frozenSeconds: 2,
    });
  });

  it('sends the configured commands exactly, with the host watchdog armed to run the post command at maxFreezeSeconds', async () => {
    // Prepare
    const w = world();
    // Act
    await takeConsistent(TARGET, FREEZE, w.deps, w.snapshot());
    // Assert
    expect(w.sent).toEqual([
      {
        phase: 'pre',
        command: 'fsfreeze -f /data',
        runId: 'steward-i-0abc1234def567890-202601150300-sched',
        timeoutSeconds: 10,
        watchdog: { seconds: 60, postCommand: 'fsfreeze -u /data' },
        instanceId: TARGET.instanceId,
      },
      {
        phase: 'post',
        command: 'fsfreeze -u /data',
        runId: 'steward-i-0abc1234def567890-202601150300-sched',
        timeoutSeconds: 10,
        instanceId: TARGET.instanceId,
      },
    ]);
  });

  it('without pre and post commands takes a crash-consistent snapshot and sends nothing', async () => {
    // Prepare
    const w = world();
    // Act
    const r = await takeConsistent(
      TARGET,
      { ...FREEZE, pre: undefined, post: undefined },
      w.deps,
      w.snapshot(),
    );
    // Assert
    expect(w.log).toEqual(['snapshot']);
    expect(r.consistency).toBe('crash');
  });
});

describe('takeConsistent: every failure point thaws', () => {
  it.each<[string, Scripted]>([
    ['fails (exits non-zero)', { status: 'failed', detail: 'Failed: fsfreeze: /data: not a mount point' }],
    ['times out on the host', { status: 'timed-out', detail: 'Execution Timed Out' }],
    ['is never delivered', { status: 'undelivered', detail: 'Delivery Timed Out' }],
    ['is cancelled', { status: 'cancelled' }],
    ['cannot be sent or read (AWS error)', new Error('InvalidInstanceId: not a managed instance')],
  ])(
    'a pre command that %s: the post command runs first, then a crash-consistent snapshot',
    async (_, pre) => {
      // Prepare
      const w = world({ pre: [pre] });
      // Act
      const r = await takeConsistent(TARGET, FREEZE, w.deps, w.snapshot());
      // Assert
      expect(w.log).toEqual(['pre', 'post', 'snapshot']);
      expect(r).toMatchObject({ consistency: 'crash', thawed: true, severity: 'warning' });
      expect(r.problems[0]).toMatch(/^pre command .*snapshot taken crash-consistent/);
    },
  );

  it('a failed pre command with onPreFailure skip: thaws and takes no snapshot', async () => {
    // Prepare
    const w = world({ pre: [{ status: 'failed' }] });
    // Act
    const r = await takeConsistent(TARGET, { ...FREEZE, onPreFailure: 'skip' }, w.deps, w.snapshot());
    // Assert
    expect(w.log).toEqual(['pre', 'post']);
    expect(r.snapshot).toBeUndefined();
    expect(r.consistency).toBe('none');
    expect(r.problems).toEqual(['pre command failed: no snapshot taken (onPreFailure: skip)']);
  });

  it('a failing snapshot call: the post command still runs, and the error is kept for the caller', async () => {
    // Prepare
    const w = world();
    const error = new Error('SnapshotCreationPerVolumeRateExceeded');
    // Act
    const r = await takeConsistent(TARGET, FREEZE, w.deps, w.snapshot(error));
    // Assert
    expect(w.log).toEqual(['pre', 'snapshot', 'post']);
    expect(r).toMatchObject({ consistency: 'none', thawed: true, snapshot: { ok: false, error } });
  });

  it('a snapshot call slower than the freeze bound: steward thaws before it returns, and calls it crash-consistent', async () => {
    // Prepare: the snapshot returns only once the post command has run.
    let release!: () => void;
    const returned = new Promise<void>((r) => (release = r));
    const w = world({
      post: [
        () => {
          release();
          return { status: 'success' };
        },
      ],
    });
    const snapshot = async () => {
      w.log.push('snapshot sent');
      await returned;
      w.log.push('snapshot returned');
      return 'snap-set-1';
    };
    // Act
    const running = takeConsistent(TARGET, FREEZE, w.deps, snapshot);
    await new Promise((r) => setImmediate(r));
    w.fireWatchdog();
    const r = await running;
    // Assert
    expect(w.log).toEqual(['pre', 'snapshot sent', 'post', 'snapshot returned']);
    expect(r.consistency).toBe('crash');
    expect(r.problems[0]).toMatch(/did not return within 44 s of the 60 s freeze bound/);
  });

  it('a post command that fails on the host: not retried, critical, and the report says when the host watchdog thaws', async () => {
    // Prepare
    const w = world({ post: [{ status: 'failed', detail: 'Failed: fsfreeze: Invalid argument' }] });
    // Act
    const r = await takeConsistent(TARGET, FREEZE, w.deps, w.snapshot());
    // Assert
    expect(w.log).toEqual(['pre', 'snapshot', 'post']);
    expect(r).toMatchObject({
      consistency: 'application',
      thawed: false,
      severity: 'critical',
      watchdogAt: '2026-01-15T03:01:00.000Z',
    });
    expect(r.problems[0]).toMatch(
      /^post command failed .*host watchdog thaws it at 2026-01-15T03:01:00.000Z/,
    );
  });

  it.each<[string, Scripted]>([
    ['cannot be sent', new Error('ThrottlingException')],
    ['is never delivered', { status: 'undelivered' }],
    ['times out', { status: 'timed-out' }],
  ])('a post command that %s is retried once', async (_, first) => {
    // Prepare
    const w = world({ post: [first, { status: 'success' }] });
    // Act
    const r = await takeConsistent(TARGET, FREEZE, w.deps, w.snapshot());
    // Assert
    expect(w.log).toEqual(['pre', 'snapshot', 'post', 'post']);
    expect(r.steps.at(-1)).toMatchObject({ phase: 'post', status: 'success', attempt: 2 });
    expect(r).toMatchObject({ thawed: true, severity: 'info' });
  });

  it('a post command that cannot be sent twice: critical, the watchdog is the last resort', async () => {
    // Prepare
    const w = world({ post: [new Error('ThrottlingException')] });
    // Act
    const r = await takeConsistent(TARGET, FREEZE, w.deps, w.snapshot());
    // Assert
    expect(w.log).toEqual(['pre', 'snapshot', 'post', 'post']);
    expect(r).toMatchObject({ thawed: false, severity: 'critical' });
  });

  it('a failed pre command and a failed post command: both reported, critical first', async () => {
    // Prepare
    const w = world({ pre: [{ status: 'failed' }], post: [{ status: 'failed' }] });
    // Act
    const r = await takeConsistent(TARGET, FREEZE, w.deps, w.snapshot());
    // Assert
    expect(r.severity).toBe('critical');
    expect(r.problems).toHaveLength(2);
    expect(r.problems[0]).toMatch(/^post command failed/);
  });
});

describe('takeConsistent: the dump', () => {
  const withDump: Consistency = { ...FREEZE, dump: DUMP };

  it('streams the dump before the freeze to a deterministic key, and tags it like a snapshot of the policy', async () => {
    // Prepare
    const w = world();
    // Act
    const r = await takeConsistent(TARGET, withDump, w.deps, w.snapshot());
    // Assert
    expect(w.log).toEqual(['dump', 'pre', 'snapshot', 'post']);
    const uri =
      's3://team-dumps/steward/daily/i-0abc1234def567890/steward-i-0abc1234def567890-202601150300-sched.dump';
    expect(w.sent[0]).toMatchObject({ phase: 'dump', command: 'mongodump --archive', objectUri: uri });
    expect(w.tagged).toEqual([
      {
        bucket: 'team-dumps',
        key: 'steward/daily/i-0abc1234def567890/steward-i-0abc1234def567890-202601150300-sched.dump',
        tags: {
          [Tag.managed]: 'true',
          [Tag.policy]: 'daily',
          [Tag.source]: TARGET.instanceId,
          [Tag.createdBy]: 'backup',
          [Tag.kind]: 'dump',
        },
      },
    ]);
    expect(r.dump).toEqual({ uri, status: 'done' });
  });

  it('a failed dump is a warning: nothing tagged, the snapshot still taken application-consistent', async () => {
    // Prepare
    const w = world({ dump: [{ status: 'failed', detail: 'steward: dump command exited 1' }] });
    // Act
    const r = await takeConsistent(TARGET, withDump, w.deps, w.snapshot());
    // Assert
    expect(w.tagged).toEqual([]);
    expect(r).toMatchObject({ consistency: 'application', severity: 'warning', dump: { status: 'failed' } });
  });

  it('a dump written but not tagged says so: retention would not see it', async () => {
    // Prepare
    const w = world();
    w.failTagging();
    // Act
    const r = await takeConsistent(TARGET, withDump, w.deps, w.snapshot());
    // Assert
    expect(r.dump).toMatchObject({ status: 'failed', detail: 'written but not tagged: AccessDenied' });
    expect(r.problems[0]).toMatch(/not tagged .*retention will not see it/);
  });

  it('names the dump after its snapshot set (a retried run overwrites, never duplicates)', () => {
    expect(dumpKey('', 'daily', 'i-1', TARGET.setId)).toBe(
      'daily/i-1/steward-i-0abc1234def567890-202601150300-sched.dump',
    );
  });
});

describe('takeConsistent: the guarantee, over any outcome of every step', () => {
  const outcome = fc.oneof(
    fc.constantFrom<StepResult>(
      { status: 'success' },
      { status: 'failed' },
      { status: 'timed-out' },
      { status: 'undelivered' },
      { status: 'cancelled' },
    ),
    fc.constant(new Error('AWS error')),
  );

  it('a post command follows every pre command and every snapshot call, and a failed thaw is critical', async () => {
    await fc.assert(
      fc.asyncProperty(
        outcome,
        fc.array(outcome, { minLength: 1, maxLength: 2 }),
        fc.boolean(),
        fc.constantFrom<Consistency['onPreFailure']>('crash-consistent', 'skip'),
        async (pre, post, snapshotFails, onPreFailure) => {
          // Prepare
          const w = world({ pre: [pre], post });
          // Act
          const r = await takeConsistent(
            TARGET,
            { ...FREEZE, onPreFailure },
            w.deps,
            w.snapshot(snapshotFails ? new Error('snapshot failed') : 'ok'),
          );
          // Assert
          const lastPost = w.log.lastIndexOf('post');
          expect(lastPost).toBeGreaterThan(w.log.indexOf('pre'));
          const snap = w.log.indexOf('snapshot');
          if (snap >= 0 && r.consistency === 'application') expect(lastPost).toBeGreaterThan(snap);
          if (r.consistency === 'application') expect(pre).toEqual({ status: 'success' });
          expect(r.thawed === false).toBe(r.severity === 'critical');
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('consistencyAround (the backup run’s hook around an EBS set)', () => {
  const policies = {
    mongo: {
      consistency: {
        ...FREEZE,
        timeoutSeconds: 15,
        maxFreezeSeconds: 60,
        instances: { 'i-0fedcba9876543210': false as const },
      },
    },
    plain: {},
  };
  const target = (id: string, policy = 'mongo') => ({ id, volumes: ['vol-1'], setId: TARGET.setId, policy });

  it("runs an instance's set inside the freeze and reports it", async () => {
    // Prepare
    const w = world();
    const reported: string[] = [];
    // Act
    await consistencyAround(policies, w.deps, (i, r) => reported.push(`${i} ${r.consistency}`))(
      target(TARGET.instanceId),
      async () => void w.log.push('snapshot'),
    );
    // Assert
    expect(w.log).toEqual(['pre', 'snapshot', 'post']);
    expect(reported).toEqual([`${TARGET.instanceId} application`]);
  });

  it.each([
    ['a volume alone (no instance to run on)', target('vol-0abc')],
    ['an instance of a policy without consistency', target(TARGET.instanceId, 'plain')],
    ['an instance opted out (false)', target('i-0fedcba9876543210')],
  ])('takes %s plainly, sending nothing', async (_, t) => {
    // Prepare
    const w = world();
    // Act
    await consistencyAround(policies, w.deps, () => undefined)(t, async () => void w.log.push('snapshot'));
    // Assert
    expect(w.log).toEqual(['snapshot']);
  });

  it.each([
    [
      'the snapshot’s own error passes through',
      {},
      new Error('SnapshotLimitExceeded'),
      /SnapshotLimitExceeded/,
    ],
    [
      'a thaw that failed fails the create (critical), after the set is taken',
      { post: [{ status: 'failed' as const }] },
      undefined,
      /snapshot set taken, but post command failed/,
    ],
    [
      'a thaw that failed is named beside the snapshot’s own error (the application may still be frozen)',
      { post: [{ status: 'failed' as const }] },
      new Error('SnapshotLimitExceeded'),
      /snapshot set failed \(SnapshotLimitExceeded\), and post command failed.*may stay frozen/,
    ],
  ])('%s', async (_, script, snapshotError, message) => {
    // Prepare
    const w = world(script);
    // Act
    const act = consistencyAround(
      policies,
      w.deps,
      () => undefined,
    )(target(TARGET.instanceId), async () => {
      w.log.push('snapshot');
      if (snapshotError) throw snapshotError;
    });
    // Assert
    await expect(act).rejects.toThrow(message);
    expect(w.log.at(-1)).toBe('post');
  });

  it('a set skipped after a failed pre command is an error naming why', async () => {
    // Prepare
    const w = world({ pre: [{ status: 'failed' }] });
    const skip = { mongo: { consistency: { ...policies.mongo.consistency, onPreFailure: 'skip' as const } } };
    // Act + Assert
    await expect(
      consistencyAround(
        skip,
        w.deps,
        () => undefined,
      )(target(TARGET.instanceId), async () => void w.log.push('snapshot')),
    ).rejects.toThrow(/no snapshot set taken: pre command failed/);
    expect(w.log).toEqual(['pre', 'post']);
  });
});
