import type { ConsistencyConfig, ConsistencySettings } from '../config/consistency.js';
import { errorMessage, StewardError } from '../errors.js';
import { Tag, type Tags } from '../tags.js';
import type { Phase, StepParameters } from './consistency-document.js';
import type { SnapshotAround } from './ports.js';

/**
 * Application consistency around "take the snapshot": a configured pre command (freeze, lock), the
 * snapshot, a post command (thaw, unlock), and optionally a dump streamed to S3 first. Pure: the steps
 * run through a StepRunner port (SSM Run Command in shipped code), time and waiting come from deps.
 *
 * The guarantee: once a pre command has been attempted, the post command runs, whatever happened to the
 * pre command (failed, timed out, could not be sent or read) or to the snapshot (failed, too slow). The
 * freeze is bounded twice: steward thaws when the snapshot has not returned within `maxFreezeSeconds`,
 * and the host's watchdog (consistency-document.ts) thaws after `maxFreezeSeconds` even if steward never
 * comes back. An EBS snapshot holds the data written when its request was made, and the volume may be
 * used again while it is pending, so thawing right after the create call returns is safe
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSnapshot.html).
 */

/** Per-target application-consistency settings, as the config schema yields them. */
export interface Consistency {
  /** Freeze or lock, e.g. `fsfreeze -f /data`; always paired with `post`. */
  pre?: string;
  /** Thaw or unlock, e.g. `fsfreeze -u /data`; must be safe to run twice (steward may retry it). */
  post?: string;
  /** Execution timeout of the pre and of the post command. */
  timeoutSeconds: number;
  /** The longest the application may stay frozen: steward's and the host watchdog's bound. */
  maxFreezeSeconds: number;
  /** A failed pre command: still take a crash-consistent snapshot (after thawing), or take none. */
  onPreFailure: 'crash-consistent' | 'skip';
  /** A dump streamed to S3 before the freeze, e.g. `mongodump --archive`. */
  dump?: { command: string; bucket: string; prefix: string; timeoutSeconds: number };
}

export type StepStatus = 'success' | 'failed' | 'timed-out' | 'cancelled' | 'undelivered';

/** How one step ended on the host, as Run Command reports it. */
export interface StepResult {
  status: StepStatus;
  /** Run Command's status detail and the end of the step's stderr, for the report. */
  detail?: string;
  /** The end of the step's stdout (drill checks report it). */
  output?: string;
}

/** One step on one instance. */
export type StepRequest = StepParameters & { instanceId: string };

/**
 * Port: run one step on an instance and wait, bounded, for its end. Throws only when the step could not
 * be sent or its end could not be read (an AWS error); a step that ran and failed is a StepResult.
 */
export interface StepRunner {
  run(step: StepRequest): Promise<StepResult>;
}

/** Port: tag a dump object the host wrote, so retention sees it as steward's. */
export interface DumpTagger {
  tag(bucket: string, key: string, tags: Tags): Promise<void>;
}

export interface ConsistencyDeps {
  runner: StepRunner;
  dumps: DumpTagger;
  now: () => Date;
  /** Resolve after `ms`, or never once `signal` aborts (steward's own freeze watchdog). */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * Where the instances are (the run's account and region): tagged on each dump, so retention keeps a spoke
   * instance's dumps, which land in the stage's buckets, with its target's retention overrides.
   */
  place?: DumpPlace;
}

/** The account (when known) and region of a dump's instance. */
export interface DumpPlace {
  account?: string;
  region: string;
  /**
   * The organizational units (OU target ids, config order) the fan-out child reached the account through:
   * tagged `steward:ou`, so the hub's retention applies those targets' overrides (fleet/place.ts).
   */
  organizationalUnits?: readonly string[];
}

/** S3 holds at most 256 characters in a tag value (S3 User Guide, "Categorizing your objects using tags"). */
const TAG_VALUE_MAX = 256;

/**
 * The `steward:ou` value: the OU ids, space-separated. When they do not fit in one tag value, a word no OU id
 * matches: retention then cannot resolve the dump's target and keeps it with the longest candidate policies.
 */
export const ouTagValue = (ous: readonly string[]): string => {
  const v = ous.join(' ');
  return v.length <= TAG_VALUE_MAX ? v : 'too-many-to-tag';
};

/** The target: one instance, its policy, and the snapshot set being taken. */
export interface ConsistencyTarget {
  instanceId: string;
  policy: string;
  /** The set's deterministic id (names the dump and the run on the host): a retried run reuses it. */
  setId: string;
  /** `steward:created-by` of the dump object. */
  createdBy: string;
}

export type Consistent = 'application' | 'crash' | 'none';

/** One step as it went. */
export interface StepRecord {
  phase: Phase;
  /** The step's result, or `error` when it could not be sent or read (then `detail` says why). */
  status: StepStatus | 'error';
  detail?: string;
  seconds: number;
  /** 2: the post command was retried once. */
  attempt?: number;
}

export interface ConsistentRun<T> {
  /** `application`: taken while frozen; `crash`: taken without (pre failed, freeze too long); `none`: not taken. */
  consistency: Consistent;
  /** The snapshot call's result; absent when no snapshot was attempted (`onPreFailure: skip`). */
  snapshot?: { ok: true; value: T } | { ok: false; error: unknown };
  steps: StepRecord[];
  /** From sending the pre command to the post command's end; absent without a pre command. */
  frozenSeconds?: number;
  /** False when the post command did not succeed: the host watchdog thaws at `watchdogAt`. */
  thawed?: boolean;
  watchdogAt?: string;
  dump?: { uri: string; status: 'done' | 'failed'; detail?: string };
  /** What went wrong, one line each, worst first. */
  problems: string[];
  severity: 'critical' | 'warning' | 'info';
}

/** `<prefix><policy>/<instance>/<set id>.dump`: the dump of one snapshot set; a retried run writes the same key. */
export const dumpKey = (prefix: string, policy: string, instanceId: string, setId: string): string =>
  `${prefix}${policy}/${instanceId}/${setId}.dump`;

/**
 * The dump buckets and prefixes of every policy that dumps (per-instance settings included): where the
 * backup role tags dumps and where retention lists and deletes them.
 */
export const dumpLocations = (config: {
  backup: { policies: Readonly<Record<string, { consistency?: ConsistencyConfig | undefined }>> };
}): { bucket: string; prefix: string }[] => {
  const out = new Map<string, { bucket: string; prefix: string }>();
  for (const p of Object.values(config.backup.policies)) {
    const c = p.consistency;
    if (!c) continue;
    for (const s of [c, ...Object.values(c.instances)]) {
      if (s && s.dump)
        out.set(`${s.dump.bucket}/${s.dump.prefix}`, { bucket: s.dump.bucket, prefix: s.dump.prefix });
    }
  }
  return [...out.values()];
};

/** The tags of a dump object: steward's, kept by the policy's retention like its snapshots. */
export const dumpTags = (t: ConsistencyTarget, place?: DumpPlace): Tags => ({
  [Tag.managed]: 'true',
  [Tag.policy]: t.policy,
  [Tag.source]: t.instanceId,
  [Tag.createdBy]: t.createdBy,
  [Tag.kind]: 'dump',
  // The instance's account and region, as on snapshots (fleet/place.ts placeTags): the target whose
  // retention overrides keep this dump.
  ...(place
    ? { [Tag.region]: place.region, ...(place.account ? { [Tag.account]: place.account } : {}) }
    : {}),
  // The OU targets the account was reached through (none: an account target, or a run outside a fan-out).
  // Eight tags of S3's ten per object.
  ...(place?.organizationalUnits?.length ? { [Tag.ou]: ouTagValue(place.organizationalUnits) } : {}),
});

/**
 * Names this run on the host (the watchdog's pid file): the set's id, deterministic (a retry finds its
 * watchdog) and within the document's pattern (steward ids are lowercase letters, digits and hyphens).
 */
export const runIdOf = (t: ConsistencyTarget): string => t.setId.slice(0, 64);

// Time the post command is given on top of its own timeout inside the freeze bound: steward's watchdog
// fires this much before the host's, so the host's is the last resort, not the usual thaw.
const POST_MARGIN_SECONDS = 5;

/** Seconds steward waits for the snapshot call while frozen before it thaws anyway. */
export const snapshotDeadlineSeconds = (c: Consistency, frozenSoFar: number): number =>
  Math.max(0, c.maxFreezeSeconds - frozenSoFar - c.timeoutSeconds - POST_MARGIN_SECONDS);

/** Run `snapshot` with the target's application consistency; never leaves the application frozen. */
export const takeConsistent = async <T>(
  target: ConsistencyTarget,
  c: Consistency,
  deps: ConsistencyDeps,
  snapshot: () => Promise<T>,
): Promise<ConsistentRun<T>> => {
  const run: ConsistentRun<T> = { consistency: 'none', steps: [], problems: [], severity: 'info' };
  const runId = runIdOf(target);
  const seconds = (from: Date) => (deps.now().getTime() - from.getTime()) / 1000;
  const problem = (severity: 'critical' | 'warning', line: string) => {
    if (severity === 'critical') run.problems.unshift(line);
    else run.problems.push(line);
    if (severity === 'critical' || run.severity === 'info') run.severity = severity;
  };
  const step = async (s: StepParameters, attempt?: number): Promise<StepRecord> => {
    const started = deps.now();
    let record: StepRecord;
    try {
      const r = await deps.runner.run({ ...s, instanceId: target.instanceId });
      record = { phase: s.phase, status: r.status, ...(r.detail && { detail: r.detail }), seconds: 0 };
    } catch (e) {
      record = { phase: s.phase, status: 'error', detail: errorMessage(e), seconds: 0 };
    }
    record.seconds = seconds(started);
    if (attempt) record.attempt = attempt;
    run.steps.push(record);
    return record;
  };
  const take = async (): Promise<void> => {
    try {
      run.snapshot = { ok: true, value: await snapshot() };
    } catch (e) {
      run.snapshot = { ok: false, error: e };
    }
  };

  if (c.dump) await dumpFirst(target, c.dump, deps, step, run, problem);

  if (!c.pre || !c.post) {
    await take();
    run.consistency = run.snapshot?.ok ? 'crash' : 'none';
    return run;
  }
  const post = c.post;
  const frozenFrom = deps.now();
  const pre = await step({
    phase: 'pre',
    command: c.pre,
    runId,
    timeoutSeconds: c.timeoutSeconds,
    watchdog: { seconds: c.maxFreezeSeconds, postCommand: post },
  });
  const thaw = async () => {
    let r = await step({ phase: 'post', command: post, runId, timeoutSeconds: c.timeoutSeconds });
    // A post command that never ran (not sent, not delivered, cut off) is retried once; one that ran and
    // failed is not (the same command would fail the same way): the watchdog is the last resort.
    if (r.status === 'error' || r.status === 'undelivered' || r.status === 'timed-out')
      r = await step({ phase: 'post', command: post, runId, timeoutSeconds: c.timeoutSeconds }, 2);
    run.thawed = r.status === 'success';
    run.frozenSeconds = seconds(frozenFrom);
    if (!run.thawed) {
      run.watchdogAt = new Date(frozenFrom.getTime() + c.maxFreezeSeconds * 1000).toISOString();
      problem(
        'critical',
        `post command ${r.status}${r.detail ? ` (${r.detail})` : ''}: the application may stay frozen until the host watchdog thaws it at ${run.watchdogAt}`,
      );
    }
  };

  if (pre.status !== 'success') {
    // Whatever the pre command did (maybe froze, maybe not), thaw first.
    await thaw();
    problem(
      'warning',
      `pre command ${pre.status}${pre.detail ? ` (${pre.detail})` : ''}: ${c.onPreFailure === 'skip' ? 'no snapshot taken (onPreFailure: skip)' : 'snapshot taken crash-consistent, after the post command'}`,
    );
    if (c.onPreFailure === 'crash-consistent') {
      await take();
      if (run.snapshot?.ok) run.consistency = 'crash';
    }
    return run;
  }

  // Frozen: the snapshot call races steward's own watchdog; whichever ends first, the post command runs.
  const stop = new AbortController();
  const deadline = snapshotDeadlineSeconds(c, seconds(frozenFrom));
  const taking = take();
  const winner = await Promise.race([
    taking.then(() => 'snapshot' as const),
    deps.sleep(deadline * 1000, stop.signal).then(() => 'watchdog' as const),
  ]);
  stop.abort();
  await thaw();
  if (winner === 'watchdog') {
    problem(
      'warning',
      `the snapshot call did not return within ${deadline} s of the ${c.maxFreezeSeconds} s freeze bound: thawed before it returned, so the snapshot counts as crash-consistent`,
    );
    await taking;
    if (run.snapshot?.ok) run.consistency = 'crash';
  } else if (run.snapshot?.ok) run.consistency = 'application';
  return run;
};

const dumpFirst = async <T>(
  target: ConsistencyTarget,
  d: NonNullable<Consistency['dump']>,
  deps: ConsistencyDeps,
  step: (s: StepParameters) => Promise<StepRecord>,
  run: ConsistentRun<T>,
  problem: (severity: 'warning', line: string) => void,
): Promise<void> => {
  const key = dumpKey(d.prefix, target.policy, target.instanceId, target.setId);
  const uri = `s3://${d.bucket}/${key}`;
  const r = await step({
    phase: 'dump',
    command: d.command,
    runId: runIdOf(target),
    timeoutSeconds: d.timeoutSeconds,
    objectUri: uri,
  });
  if (r.status !== 'success') {
    run.dump = { uri, status: 'failed', ...(r.detail && { detail: r.detail }) };
    problem('warning', `dump ${r.status}${r.detail ? ` (${r.detail})` : ''}: no dump object this run`);
    return;
  }
  try {
    await deps.dumps.tag(d.bucket, key, dumpTags(target, deps.place));
    run.dump = { uri, status: 'done' };
  } catch (e) {
    run.dump = { uri, status: 'failed', detail: `written but not tagged: ${errorMessage(e)}` };
    problem(
      'warning',
      `dump written to ${uri} but not tagged (${errorMessage(e)}): retention will not see it`,
    );
  }
};

/** The settings that apply to one instance of a policy; undefined: crash-consistent, nothing sent. */
// Here, not beside the schema, so a function bundle that runs it does not carry the config schema.
export const consistencyFor = (
  c: ConsistencyConfig | undefined,
  instanceId: string,
): ConsistencySettings | undefined => {
  if (!c) return undefined;
  const own = c.instances[instanceId];
  if (own === false) return undefined;
  if (own) return own;
  const { instances: _, ...policyWide } = c;
  return policyWide.pre || policyWide.dump ? policyWide : undefined;
};

/** What a backup run is told about one consistent snapshot set (it logs it; a critical one also fails). */
export type ConsistencyReport = (instanceId: string, run: ConsistentRun<void>) => void;

/**
 * The backup run's SnapshotAround: application consistency for the instances of policies that configure
 * it (`consistencyFor`), a plain create for everything else (a volume alone has no instance to run on).
 * The snapshot's own error passes through (named beside a thaw that did not succeed, if one did not); a set
 * not taken (`onPreFailure: skip`) and a thaw that did not succeed are errors too, so the create's outcome
 * fails and the run's error alarms see it.
 */
export const consistencyAround =
  (
    policies: Readonly<Record<string, { consistency?: ConsistencyConfig | undefined }>>,
    deps: ConsistencyDeps,
    report: ConsistencyReport,
    createdBy = 'backup',
  ): SnapshotAround =>
  async (target, snapshot) => {
    const c = target.id.startsWith('i-')
      ? consistencyFor(policies[target.policy]?.consistency, target.id)
      : undefined;
    if (!c) return snapshot();
    const run = await takeConsistent(
      { instanceId: target.id, policy: target.policy, setId: target.setId, createdBy },
      c,
      deps,
      snapshot,
    );
    report(target.id, run);
    if (run.snapshot && !run.snapshot.ok) {
      // A thaw that did not succeed is never hidden behind the snapshot's own error: the alert must say the
      // application may still be frozen.
      if (run.severity === 'critical')
        throw new StewardError(
          `${target.id}: snapshot set failed (${errorMessage(run.snapshot.error)}), and ${run.problems[0]}`,
          { cause: run.snapshot.error },
        );
      throw run.snapshot.error;
    }
    if (!run.snapshot)
      throw new StewardError(`${target.id}: no snapshot set taken: ${run.problems.join('; ')}`);
    if (run.severity === 'critical')
      throw new StewardError(`${target.id}: snapshot set taken, but ${run.problems[0]}`);
  };
