import * as v from '../valid.js';
import type { StewardConfig } from '../config/schema.js';
import { hasTarget } from './kinds.js';
import { configAt } from './place.js';
import { clip, errorCode, errorMessage, EventShapeError, formatIssues, StewardError } from '../errors.js';
import {
  expandTargets,
  isHub,
  SPOKE_CAPABILITIES,
  type SpokeCapability,
  type TargetRef,
  targetRoleArn,
} from './targets.js';

// The fan-out's pure half: which children a scheduled cycle starts, what each child's event carries, the
// stage config a child runs with, and what the parent's summary says. No SDK, no environment.

/**
 * The target of one child of a fan-out: `target` in the capability's scheduled event. `index` is the
 * position in config `targets` (its overrides); without `roleArn` the target is the hub's own account,
 * reached with the function's own credentials.
 */
export const FanOutTarget = /* @__PURE__ */ v.onFirstUse(() =>
  v.strictObject({
    index: v.int().check(v.minimum(0)),
    // Not the config schema's own AccountId and Region: a function bundle carries no config schema (the
    // config is data); the state machine's items come from a validated config anyway.
    account: v.string().check(v.regex(/^\d{12}$/, 'must be a 12-digit account id')),
    region: v
      .string()
      .check(v.regex(/^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region such as eu-west-1')),
    roleArn: v.optional(
      v
        .string()
        .check(v.regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be a role ARN')),
    ),
    externalId: v.optional(v.string().check(v.minLength(2), v.maxLength(1224))),
    /**
     * Other targets (positions in config `targets`) whose overrides apply under `index`'s, in this order: the
     * organizational units an account belongs to (see shared/fleet/organization.ts).
     */
    inherits: v.optional(v.array(v.int().check(v.minimum(0)))),
  }),
);
export type FanOutTarget = v.infer<typeof FanOutTarget>;

/**
 * Split a handler event into the capability's own event and its fan-out target. An event without `target`
 * is returned as it came (the handler behaves as it always did); a malformed target is an EventShapeError
 * naming the field, before anything is called.
 */
export const splitTarget = (raw: unknown): { event: unknown; target?: FanOutTarget } => {
  if (!hasTarget(raw)) return { event: raw };
  const { target, ...event } = raw as Record<string, unknown>;
  const r = FanOutTarget.safeParse(target);
  if (!r.success)
    throw new EventShapeError(
      'Invalid fan-out target',
      formatIssues(r.error.issues).map((i) => `target.${i}`),
    );
  return { event, target: r.data };
};

/**
 * The children of one scheduled cycle of `capability` known at synth: every account-region of the config's
 * account targets, in config order, each with the role the hub assumes there (none for the hub's own
 * account and region). Targets given by organizational unit are left out: their accounts are known only to
 * Organizations, listed at the start of each cycle (shared/fleet/organization.ts).
 */
export const fanOutTargets = (
  c: StewardConfig,
  capability: SpokeCapability,
  partition = 'aws',
): FanOutTarget[] => planFanOut(c, capability, { partition }).targets;

/** An account-region of an OU target that gets no child, and why. */
export interface SkippedTarget {
  account: string;
  region: string;
  index: number;
  reason: string;
}

export interface PlanFanOutOptions {
  partition?: string;
  /**
   * The ACTIVE accounts of each OU target (nested OUs included), as Organizations lists them; an OU
   * missing here gets no child (synth, where nothing is listed).
   */
  accountsOf?: ReadonlyMap<string, readonly string[]>;
  /** The organization's management account: a service-managed StackSet deploys no spoke there. */
  managementAccount?: string;
}

/**
 * The children of one cycle: one per account-region, in config order (an OU's accounts in ascending order
 * where the OU stands). An account-region that several targets cover runs once, with the overrides of
 * each: the OU targets containing it in config order, then its own account target (the most specific)
 * last. Its role is the account target's, else the last OU target's. Pure.
 */
export const planFanOut = (
  c: StewardConfig,
  capability: SpokeCapability,
  o: PlanFanOutOptions = {},
): { targets: FanOutTarget[]; skipped: SkippedTarget[] } => {
  const covers = new Map<
    string,
    { account: string; region: string; byAccount?: TargetRef; ous: TargetRef[] }
  >();
  for (const t of expandTargets(c)) {
    const ou = t.organizationalUnit;
    const accounts = ou !== undefined ? [...(o.accountsOf?.get(ou) ?? [])].sort() : [t.account ?? c.account];
    for (const account of accounts) {
      if (account === undefined) continue;
      const key = `${account} ${t.region}`;
      const cover = covers.get(key) ?? { account, region: t.region, ous: [] };
      if (ou !== undefined) cover.ous.push(t);
      else cover.byAccount = t;
      covers.set(key, cover);
    }
  }
  const targets: FanOutTarget[] = [];
  const skipped: SkippedTarget[] = [];
  for (const { account, region, byAccount, ous } of covers.values()) {
    const primary = byAccount ?? ous[ous.length - 1]!;
    const inherits = (byAccount ? ous : ous.slice(0, -1)).map((t) => t.index);
    const own: TargetRef & { account: string } = {
      index: primary.index,
      region,
      account,
      ...(primary.role !== undefined ? { role: primary.role } : {}),
    };
    const hub = isHub(c, own) && primary.role === undefined;
    // AWS CloudFormation User Guide, "StackSets with service-managed permissions": stack instances are
    // never deployed to the management account, even when it is in a target OU; no spoke, no child.
    if (!byAccount && !hub && account === o.managementAccount) {
      skipped.push({
        account,
        region,
        index: primary.index,
        reason: `the organization's management account: a service-managed StackSet deploys no spoke there (list it as an account target with its own spoke or role)`,
      });
      continue;
    }
    targets.push({
      index: primary.index,
      account,
      region,
      ...(hub
        ? {}
        : {
            roleArn: targetRoleArn(c, own, capability, o.partition),
            ...(c.fleet?.externalId ? { externalId: c.fleet.externalId } : {}),
          }),
      ...(inherits.length ? { inherits } : {}),
    });
  }
  return { targets, skipped };
};

/** Targets of the config given by organizational unit: their accounts are listed at the start of a cycle. */
export const organizationalUnitTargets = (c: StewardConfig): TargetRef[] =>
  expandTargets(c).filter((t) => t.organizationalUnit !== undefined);

/**
 * The stage config one child runs with: the target's region (and account), and the stage's policies and
 * thresholds with the target's overrides. Today's backup and retention code reads everything from it.
 */
export const targetConfig = (
  c: StewardConfig,
  t: Pick<FanOutTarget, 'index' | 'account' | 'region' | 'inherits' | 'roleArn'>,
): StewardConfig => configAt(c, t, t.roleArn?.split(':')[1]);

/** `<account> <region>`: how messages, keys and errors name a target. */
export const targetLabel = (t: Pick<FanOutTarget, 'account' | 'region'>): string =>
  `${t.account} ${t.region}`;

/** Why a target failed, as an operator reads it. */
export type TargetFailureKind =
  'access-denied' | 'credentials-refused' | 'region-disabled' | 'throttled' | 'failed';

// A call signed with valid credentials to a region the account has not enabled is answered "The security token
// included in the request is invalid": InvalidClientTokenId (HTTP 403) by the query-protocol services (RDS,
// ElastiCache, STS, IAM), UnrecognizedClientException (HTTP 400) by the JSON ones, AuthFailure by EC2
// (aws-nuke#774 in ap-east-1, remotion-dev/github-unwrapped-2022#34 and aws-sdk-ruby#2850 in eu-south-1). The
// hub assumes a target's role through its own region's STS, whose session tokens are valid in every region (IAM
// User Guide, "Manage AWS STS in an AWS Region"), so after a successful AssumeRole these codes most likely mean
// the region is not enabled; but wrong, revoked or global-endpoint (v1) credentials answer exactly the same,
// and nothing in the error tells the two apart. They are checked before access-denied: they are not a policy's
// refusal, and "is the spoke deployed?" would send the operator the wrong way.
const KINDS: [TargetFailureKind, RegExp][] = [
  ['credentials-refused', /InvalidClientTokenId|UnrecognizedClient|AuthFailure/],
  ['access-denied', /AccessDenied|UnauthorizedOperation|NotAuthorized|ExpiredToken/],
  ['region-disabled', /RegionDisabled|OptInRequired/],
  ['throttled', /Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/],
];

/** Classify an error of a target's run by its code (and message, for errors wrapped by the run). */
export const targetFailureKind = (e: unknown): TargetFailureKind => {
  const text = `${errorCode(e)} ${errorMessage(e)}`;
  return KINDS.find(([, re]) => re.test(text))?.[0] ?? 'failed';
};

const why = (kind: TargetFailureKind, t: Pick<FanOutTarget, 'account' | 'region'>, e: unknown): string => {
  switch (kind) {
    case 'access-denied':
      return 'access denied (is the spoke deployed there, and does its role trust this hub?)';
    case 'credentials-refused':
      return `${t.region} refused the credentials: the region is not enabled for account ${t.account} (an opt-in region answers so), or the credentials are invalid; InvalidClientTokenId, UnrecognizedClientException and AuthFailure cannot tell which`;
    case 'region-disabled':
      // STS API Reference, AssumeRole: "STS is not activated in the requested region for the account that is
      // being asked to generate credentials" (the role's account; the request went to the hub region's STS).
      return /RegionDisabled/.test(`${errorCode(e)} ${errorMessage(e)}`)
        ? `STS is not activated for account ${t.account} in the region the hub assumes its role from (IAM account settings), or the region is not enabled`
        : `the region ${t.region} is not enabled (opted in) for account ${t.account}`;
    case 'throttled':
      return 'throttled by AWS after retries';
    case 'failed':
      return 'the run failed';
  }
};

/**
 * One child's run failed: names the account and region first (the fan-out's summary and the Map Run's
 * console show this message), then why, then the original error (kept as `cause`).
 */
export class TargetFailedError extends StewardError {
  override name = 'TargetFailedError';
  readonly kind: TargetFailureKind;
  constructor(
    readonly target: FanOutTarget,
    cause: unknown,
  ) {
    const kind = targetFailureKind(cause);
    super(
      `Target ${targetLabel(target)} (targets[${target.index}]): ${why(kind, target, cause)}: ${clip(`${errorCode(cause)}: ${errorMessage(cause)}`, 900)}`,
      { cause },
    );
    this.kind = kind;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The parent's summary, from the Distributed Map's ResultWriter export.

/**
 * One child execution as ResultWriter exports it (`SUCCEEDED_<n>.json` / `FAILED_<n>.json`, a JSON array
 * of these): Input and Output are the execution's JSON as strings; a failed one has Error and Cause.
 * (AWS Step Functions Developer Guide, "ResultWriter (Map)": results of executions with the same status
 * go to their own files, listed by `manifest.json`.)
 */
export const ChildExecution = /* @__PURE__ */ v.onFirstUse(() =>
  v.looseObject({
    ExecutionArn: v.optional(v.string()),
    Input: v.optional(v.string()),
    Output: v.optional(v.string()),
    Status: v.optional(v.string()),
    Error: v.optional(v.string()),
    Cause: v.optional(v.string()),
  }),
);
export type ChildExecution = v.infer<typeof ChildExecution>;

/** `manifest.json` of one Map Run's export: the result files by status. */
export const ResultManifest = /* @__PURE__ */ v.onFirstUse(() =>
  v.looseObject({
    DestinationBucket: v.optional(v.string()),
    MapRunArn: v.optional(v.string()),
    ResultFiles: v.looseObject({
      SUCCEEDED: v._default(v.array(v.looseObject({ Key: v.string() })), []),
      FAILED: v._default(v.array(v.looseObject({ Key: v.string() })), []),
      PENDING: v._default(v.array(v.looseObject({ Key: v.string() })), []),
    }),
  }),
);
export type ResultManifest = v.infer<typeof ResultManifest>;

/** One target's line in the summary. */
export interface TargetResult {
  account: string;
  region: string;
  index?: number;
  status: 'succeeded' | 'failed' | 'pending';
  /** For a failed child: the error's name and its message (the TargetFailedError names the target). */
  error?: string;
}

/** What one scheduled cycle of the fan-out came to. */
export interface FanOutSummary {
  capability: SpokeCapability;
  /** Children the cycle was to start (the config's account targets). */
  targets: number;
  succeeded: TargetResult[];
  failed: TargetResult[];
  /** Children with no result (the Map Run stopped before they ended). */
  pending: TargetResult[];
  /** The Map Run failed as a whole (tolerated failures exceeded, a result write failed): its error. */
  runError?: string;
  /** Where the children's results are (the manifest's S3 URI), when the Map Run wrote them. */
  results?: string;
  /** Organizational units whose accounts could not be listed: none of them ran (shared/fleet/organization.ts). */
  unlisted?: { organizationalUnit: string; targets?: number[]; error: string }[];
}

const jsonOf = (s: string | undefined): unknown => {
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
};

/** The `target` of a child's input. */
const targetOf = (c: ChildExecution): Pick<TargetResult, 'account' | 'region' | 'index'> => {
  // The child's input is the Map's ItemSelector output, { event, item: { target } }.
  const input = jsonOf(c.Input) as { item?: { target?: unknown } } | undefined;
  const t = FanOutTarget.safeParse(input?.item?.target);
  return t.success
    ? { account: t.data.account, region: t.data.region, index: t.data.index }
    : { account: 'unknown', region: 'unknown' };
};

/** A child's failure, as the summary prints it: the Lambda error document's type and message when it is one. */
const failureText = (c: ChildExecution): string => {
  const doc = jsonOf(c.Cause) as { errorType?: unknown; errorMessage?: unknown } | undefined;
  const message = typeof doc?.errorMessage === 'string' ? doc.errorMessage : (c.Cause ?? '');
  const type = typeof doc?.errorType === 'string' ? doc.errorType : (c.Error ?? 'Error');
  return clip(`${type}: ${message}`, 600);
};

/** Summarise one cycle from its exported child executions. Pure. */
export const summariseFanOut = (
  capability: SpokeCapability,
  targets: number,
  children: {
    succeeded: readonly ChildExecution[];
    failed: readonly ChildExecution[];
    pending: readonly ChildExecution[];
  },
  extra: Pick<FanOutSummary, 'runError' | 'results' | 'unlisted'> = {},
): FanOutSummary => {
  const order = (a: TargetResult, b: TargetResult) =>
    (a.index ?? Infinity) - (b.index ?? Infinity) ||
    a.account.localeCompare(b.account) ||
    a.region.localeCompare(b.region);
  return {
    capability,
    targets,
    succeeded: children.succeeded.map((c) => ({ ...targetOf(c), status: 'succeeded' as const })).sort(order),
    failed: children.failed
      .map((c) => ({ ...targetOf(c), status: 'failed' as const, error: failureText(c) }))
      .sort(order),
    pending: children.pending.map((c) => ({ ...targetOf(c), status: 'pending' as const })).sort(order),
    ...extra,
  };
};

/**
 * The error the summary ends with after it notified that targets failed (shared/fleet/summary.ts): the state
 * machine catches it into the cycle's output (the cycle ends SUCCEEDED, told once), and parks any other error
 * of the summary in the failure queue, since that summary may have told nobody (infra/fan-out.ts).
 */
export const CYCLE_FAILED_ERROR = 'FleetCycleFailedError';

/** The summary event the state machine sends after the Map: its results location, or the Map Run's error. */
export const FanOutSummaryEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.strictObject({
    action: v.literal('fan-out-summary'),
    capability: v.enum(SPOKE_CAPABILITIES),
    /** Children the cycle started with. */
    targets: v.int().check(v.minimum(0)),
    /** The Map state's output: where ResultWriter put the manifest. */
    results: v.optional(
      v.looseObject({
        MapRunArn: v.optional(v.string()),
        ResultWriterDetails: v.looseObject({ Bucket: v.string(), Key: v.string() }),
      }),
    ),
    /** The Map state's error, when it failed (caught into `error`). */
    error: v.optional(v.looseObject({ Error: v.optional(v.string()), Cause: v.optional(v.string()) })),
    /** The listing's OUs that could not be listed (shared/fleet/organization.ts, UnlistedUnit). */
    unlisted: v.optional(
      v.array(
        v.looseObject({
          organizationalUnit: v.string(),
          targets: v.optional(v.array(v.int())),
          error: v.string(),
        }),
      ),
    ),
    /** The scheduled event of the cycle (for the message). */
    event: v.optional(v.record(v.string(), v.unknown())),
  }),
);
export type FanOutSummaryEvent = v.infer<typeof FanOutSummaryEvent>;

export { isFanOutSummary } from './kinds.js';

/** Parse the summary event; throws EventShapeError naming every bad field. */
export const parseFanOutSummary = (raw: unknown): FanOutSummaryEvent => {
  const r = FanOutSummaryEvent.safeParse(raw);
  if (!r.success) throw new EventShapeError('Invalid fan-out summary event', formatIssues(r.error.issues));
  return r.data;
};
