import { synthesize } from './fixed-cost.js';
import {
  type CycleCapability,
  type CycleResult,
  type FleetSpec,
  fleetConfig,
  SCALE_IN_ESTATE,
  simulateCycle,
} from './fleet/simulate.js';
import type { BenchRow } from './stats.js';

// The fleet bench: one scheduled backup cycle, one retention cycle and one scale-in check over 100 accounts x
// 3 regions x 20 databases, on simulated time (bench/fleet/simulate.ts), with the configured MaxConcurrency;
// and the Step Functions transitions of a cycle counted from the synthesized hub's fan-out definitions.

/** Step Functions Standard: $0.025 per 1 000 state transitions (us-east-1, eu-west-1; aws.amazon.com/step-functions/pricing). */
export const USD_PER_TRANSITION = 0.025 / 1000;
/**
 * Step Functions Express: $1.00 per million requests, and duration at $0.06 per GB-hour (the first
 * 1 000 GB-hours a month; $0.03 and $0.01642 beyond), each execution rounded up to 100 ms and its memory
 * (50 MB + the definition + the execution's data) billed in 64 MB chunks (us-east-1;
 * aws.amazon.com/step-functions/pricing, "Express Workflows pricing details" and example 3). A Distributed Map
 * still charges one state transition for each child it starts, Express or Standard (Step Functions
 * Developer Guide, Transitions).
 */
export const USD_PER_EXPRESS_REQUEST = 1 / 1_000_000;
export const USD_PER_EXPRESS_GB_SECOND = 0.06 / 3600;
/** CloudWatch: $0.30 per custom metric-month, prorated by the hours it receives data (730 a month). */
export const USD_PER_METRIC_HOUR = 0.3 / 730;
const CYCLES_PER_MONTH = 30;
const HOURS_PER_MONTH = 730;

/**
 * Cycles a month of a schedule expression: `rate(n minutes|hours|days)` (the scale-in check's); a cron
 * expression counts as daily (backup and retention's).
 */
export const cyclesPerMonth = (expression: string): number => {
  const m = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression.trim());
  if (!m) return CYCLES_PER_MONTH;
  const minutes = Number(m[1]) * { minute: 1, hour: 60, day: 1440 }[m[2] as 'minute' | 'hour' | 'day'];
  return Math.round((HOURS_PER_MONTH * 60) / minutes);
};

type Json = Record<string, unknown>;
interface State extends Json {
  Type: string;
  Next?: string;
  End?: boolean;
  ItemProcessor?: {
    ProcessorConfig?: { Mode?: string; ExecutionType?: string };
    StartAt: string;
    States: Record<string, State>;
  };
}
type Definition = { StartAt: string; States: Record<string, State> };

/** The definition's Distributed Map state, if it has one. */
const distributedMap = (def: Definition): State | undefined =>
  Object.values(def.States).find(
    (s) => s.Type === 'Map' && s.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED',
  );

/** A copy of the definition with its Distributed Map children of `type`. */
const withChildType = (def: Definition, type: 'STANDARD' | 'EXPRESS'): Definition => {
  const copy = structuredClone(def);
  const config = distributedMap(copy)?.ItemProcessor?.ProcessorConfig;
  if (config) config.ExecutionType = type;
  return copy;
};

/** The type of the definition's Distributed Map children (STANDARD when it has none). */
export const childType = (def: Definition): 'STANDARD' | 'EXPRESS' =>
  distributedMap(def)?.ItemProcessor?.ProcessorConfig?.ExecutionType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD';

/**
 * State transitions of one execution that succeeds on the happy path: each state entered once, following
 * `Next` from `StartAt`; a Distributed Map adds, per item, one transition for starting the child
 * ("you are charged one state transition for each child workflow execution that the Distributed Map state
 * starts", Step Functions Developer Guide, Transitions) plus, for STANDARD children, the child's own states
 * (an EXPRESS child's states are billed as its duration, not as transitions).
 */
export const cycleTransitions = (def: Definition, items: number): number => {
  let n = 0;
  for (let name: string | undefined = def.StartAt; name !== undefined;) {
    const s: State | undefined = def.States[name];
    if (!s) throw new Error(`the definition has no state ${name}`);
    n++;
    if (s.Type === 'Map' && s.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED')
      n +=
        items *
        (1 +
          (s.ItemProcessor.ProcessorConfig.ExecutionType === 'EXPRESS'
            ? 0
            : cycleTransitions(s.ItemProcessor, 0)));
    name = s.End ? undefined : s.Next;
  }
  return n;
};

/**
 * What a cycle's EXPRESS children cost: one request each, and each one's duration (rounded up to 100 ms)
 * times its billed memory: 50 MB + the child's definition + its input, in 64 MB chunks.
 */
export const expressChildrenUsd = (
  def: Definition,
  childMs: readonly number[],
  inputBytes: number,
): { usd: number; gb: number; gbSeconds: number } => {
  const processor = distributedMap(def)?.ItemProcessor;
  const mb = 50 + (JSON.stringify(processor ?? {}).length + inputBytes) / 2 ** 20;
  const gb = (Math.ceil(mb / 64) * 64) / 1024;
  const gbSeconds = childMs.reduce((a, ms) => a + (Math.ceil(ms / 100) / 10) * gb, 0);
  return {
    usd: childMs.length * USD_PER_EXPRESS_REQUEST + gbSeconds * USD_PER_EXPRESS_GB_SECOND,
    gb,
    gbSeconds,
  };
};

/** A rendered definition (`Fn::Join` of strings and tokens) as JSON, the tokens as placeholder strings. */
const definitionOf = (resource: Json): Definition => {
  const d = (resource.Properties as Json).DefinitionString;
  const text =
    typeof d === 'string'
      ? d
      : ((d as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1] ?? [])
          .map((p) => (typeof p === 'string' ? p : 'TOKEN'))
          .join('');
  return JSON.parse(text) as Definition;
};

/** The fan-out state machine of `capability` in the synthesized hub, if this build has one. */
export const fanOutDefinition = (template: { Resources: Record<string, Json> }, capability: string) => {
  for (const r of Object.values(template.Resources)) {
    if (r.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const name = (r.Properties as Json | undefined)?.StateMachineName;
    if (typeof name === 'string' && name.endsWith(`-${capability}-fleet`)) return definitionOf(r);
  }
  return undefined;
};

const minutes = (ms: number) =>
  ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The single-account minimum of one target's run, from the estate alone (pages of 100, one call per change). */
export const minimumCalls = (capability: CycleCapability, databases: number): number => {
  const clusters = 2;
  const instances = databases - clusters;
  const pages = (n: number) => Math.max(1, Math.ceil(n / 100));
  if (capability === 'scaling') {
    // The documented protocol (README, Scaling: State, Reliability) over SCALE_IN_ESTATE: one read of each
    // scale-in rule's alarm state; CloudWatch's word on the alarms OK long enough (DescribeAlarms, 100 names
    // a call); for each of them the resource's class and the memory read
    // (was this transition handled, is the resource cooling down: one BatchGetItem); for each step back, the change,
    // the transition's and the resource's conditional claims, the sustained-OK clock's restart, and the
    // outcome recorded before and after it is told.
    const due = SCALE_IN_ESTATE.stepping + SCALE_IN_ESTATE.atFloor;
    return instances + pages(due) + due * (1 + 1) + SCALE_IN_ESTATE.stepping * (1 + 2 + 1 + 2);
  }
  if (capability === 'backup')
    // List instances and clusters, read the snapshot quota once, one create per database.
    return pages(instances) + pages(clusters) + 1 + databases;
  // List each snapshot kind retention judges (8 daily snapshots each; ElastiCache's and ElastiCache
  // Serverless's one empty page each), one conditional write of the day's deletion budget, one delete per
  // expired snapshot (one per database).
  return pages(instances * 8) + pages(clusters * 8) + 1 + 1 + 1 + databases;
};

/**
 * Rows of one simulated cycle: wall time vs perfect packing, calls per target, AssumeRole, metric series.
 * With `rest` (the per-target series of each child's check 15 minutes later, nothing changed: a frequent
 * check's usual run), the metric row prices the check at rest every hour and the one that acts per check.
 */
export const cycleRows = (
  r: CycleResult,
  spec: FleetSpec,
  hoursPerMonth = CYCLES_PER_MONTH,
  rest?: readonly number[],
): BenchRow[] => {
  const bench = 'fleet';
  const tag = r.capability;
  const childMs = r.children.map((c) => c.ms);
  // No schedule of K lanes can finish before the sum of the children's times spread over them, nor before
  // the slowest child.
  const ideal = Math.max(childMs.reduce((a, b) => a + b, 0) / r.maxConcurrency, Math.max(...childMs));
  const failed = r.children.filter((c) => !c.ok);
  const calls = r.children.map((c) => c.calls);
  const min = minimumCalls(r.capability, spec.databases);
  const throttled = r.children.reduce((a, c) => a + c.throttled, 0);
  const viaRole = r.children.filter((c) => c.account !== r.children[0]!.account).length;
  const perChildSeries = Math.max(...r.metricNamesPerChild);
  return [
    {
      bench,
      metric: `${tag}: wall time of one cycle, ${r.targets} targets, MaxConcurrency ${r.maxConcurrency} (simulated clock)`,
      value: `${minutes(r.wallMs)}${failed.length ? `, ${failed.length} children FAILED (${failed[0]!.error})` : ''}`,
      baseline: `${minutes(ideal)} (children's time packed perfectly)`,
      ratio: r.wallMs / ideal,
      target: '<= 1.25x, every child ok',
      ok: r.wallMs <= ideal * 1.25 && failed.length === 0,
    },
    {
      bench,
      metric: `${tag}: API calls per target (median / max), ${spec.databases} databases each`,
      value: `${median(calls)} / ${Math.max(...calls)}${throttled ? `, ${throttled} throttled` : ''}`,
      baseline: `${min} (the single-account minimum)`,
      ratio: Math.max(...calls) / min,
      target: '<= 1.10x',
      ok: Math.max(...calls) <= min * 1.1,
    },
    {
      bench,
      metric: `${tag}: STS AssumeRole per cycle`,
      value: String(r.assumeRoleCalls),
      baseline: `${viaRole} (one per target reached through a role)`,
      ratio: viaRole ? r.assumeRoleCalls / viaRole : undefined,
      target: '<= 1 per role target',
      ok: r.assumeRoleCalls <= viaRole,
    },
    rest
      ? {
          bench,
          metric: `${tag}: custom metric series per target (the Account/Region set): a check that acts / one at rest`,
          value: `${perChildSeries} / ${Math.max(...rest)}: $${(Math.max(...rest) * r.targets * hoursPerMonth * USD_PER_METRIC_HOUR).toFixed(2)}/month at rest for ${r.targets} targets, $${(perChildSeries * USD_PER_METRIC_HOUR).toFixed(4)} per target for each hour with a check that acts`,
          baseline: `${r.metricNames} / 0 (the series a check sends / none when nothing is news)`,
          target: '<= 1x acting, 0 at rest',
          ok: perChildSeries <= r.metricNames && Math.max(...rest) === 0,
        }
      : {
          bench,
          metric: `${tag}: custom metric series per target (the Account/Region set), and their cost`,
          value: `${perChildSeries}: $${(perChildSeries * r.targets * hoursPerMonth * USD_PER_METRIC_HOUR).toFixed(2)}/month for ${r.targets} targets`,
          baseline: `${r.metricNames} (the series a single-account run sends)`,
          ratio: r.metricNames ? perChildSeries / r.metricNames : undefined,
          target: '<= 1x (one per metric sent)',
          ok: perChildSeries <= r.metricNames,
        },
  ];
};

/**
 * Step Functions transitions of each capability's cycle and their monthly cost, from the synthesized hub;
 * for EXPRESS children (the scale-in check) also the cycle's whole Step Functions cost: the transitions, the
 * children's requests and their duration (`childMs`, the simulated children's times), against what the same
 * cycle costs with STANDARD children. `inject`: the self-test's fault, one more state per STANDARD child, or
 * the EXPRESS children made STANDARD.
 */
export const stepFunctionRows = (
  spec: FleetSpec,
  inject = false,
  capabilities: readonly CycleCapability[] = ['backup', 'retention', 'scaling'],
  childMs: Partial<Record<CycleCapability, readonly number[]>> = {},
): BenchRow[] => {
  const config = fleetConfig(spec);
  const template = synthesize(config) as unknown as { Resources: Record<string, Json> };
  const targets = spec.accounts * spec.regions.length;
  return capabilities.flatMap((capability): BenchRow[] => {
    // Backup and retention run daily (cron); the scale-in check at scaling.scaleInSchedule.
    const cycles =
      capability === 'scaling' ? cyclesPerMonth(config.scaling.scaleInSchedule) : CYCLES_PER_MONTH;
    const every = capability === 'scaling' ? config.scaling.scaleInSchedule : 'daily';
    const def = fanOutDefinition(template, capability);
    const metric = `${capability}: Step Functions transitions per cycle, ${targets} targets`;
    if (!def)
      return [
        {
          bench: 'fleet',
          metric,
          value: 'no fan-out state machine in the synthesized hub',
          baseline: `${2 * targets + 1}`,
          target: 'a Distributed Map over the targets',
          ok: false,
        },
      ];
    const type = childType(def);
    // Each child's start (and, STANDARD, at least one state of its own); the parent: at least its Map state.
    const minimum = (type === 'EXPRESS' ? 1 : 2) * targets + 1;
    const map = Object.values(def.States).find((x) => x.ItemProcessor)!;
    if (inject && type === 'EXPRESS') map.ItemProcessor!.ProcessorConfig!.ExecutionType = 'STANDARD';
    else if (inject) {
      const p = map.ItemProcessor!;
      p.States.Extra = { Type: 'Pass', End: true };
      const last = Object.values(p.States).find((x) => x.End && x !== p.States.Extra)!;
      delete last.End;
      last.Next = 'Extra';
    }
    const n = cycleTransitions(def, targets);
    const usd = n * cycles * USD_PER_TRANSITION;
    const rows: BenchRow[] = [
      {
        bench: 'fleet',
        metric,
        value: `${n}: $${usd.toFixed(2)}/month (${every}, ${cycles} cycles, before the 4 000 free a month)`,
        baseline: `${minimum} (each child's start${type === 'EXPRESS' ? ', EXPRESS children' : ' and one state'}, the Map)`,
        ratio: n / minimum,
        target: '<= 1.05x',
        ok: n <= minimum * 1.05,
      },
    ];
    const ms = childMs[capability];
    if (type === 'EXPRESS' && ms && !inject) {
      // The child's input: the scheduled event and its target, as the Map's ItemSelector builds it.
      const input = JSON.stringify({
        event: { action: 'scale-in-check', scheduledTime: '2026-03-02T03:00:00Z' },
        item: { target: { index: 0, account: '111111111111', region: 'eu-west-1', roleArn: 'x'.repeat(90) } },
      }).length;
      const express = expressChildrenUsd(def, ms, input);
      const standard = cycleTransitions(withChildType(def, 'STANDARD'), targets);
      const month = (usd + express.usd * cycles).toFixed(2);
      const standardUsd = standard * cycles * USD_PER_TRANSITION;
      rows.push({
        bench: 'fleet',
        metric: `${capability}: Step Functions cost a month, ${targets} EXPRESS children a cycle (${every})`,
        value: `$${month}: ${n} transitions $${usd.toFixed(2)} + ${targets} requests $${(targets * cycles * USD_PER_EXPRESS_REQUEST).toFixed(2)} + ${express.gbSeconds.toFixed(1)} GB-s a cycle (${(ms.reduce((a, b) => a + b, 0) / ms.length / 1000).toFixed(2)} s a child x ${express.gb * 1024} MB) $${(express.gbSeconds * USD_PER_EXPRESS_GB_SECOND * cycles).toFixed(2)}`,
        baseline: `$${standardUsd.toFixed(2)} with STANDARD children (${standard} transitions a cycle)`,
        ratio: (usd + express.usd * cycles) / standardUsd,
        target: '< 1x (cheaper than STANDARD children)',
        ok: usd + express.usd * cycles < standardUsd,
      });
    }
    return rows;
  });
};

/** The configured MaxConcurrency (`fleet.maxConcurrency`, 10 by default). */
const configuredConcurrency = (spec: Pick<FleetSpec, 'accounts' | 'regions'>): number => {
  const v = (fleetConfig(spec).fleet as Record<string, unknown> | undefined)?.maxConcurrency;
  return typeof v === 'number' ? v : 10;
};

/**
 * `npm run bench -- fleet`: `accounts` x `regions` x `databases`, one backup and one retention cycle, the
 * Step Functions rows, then the self-tests on a tenth of the fleet: children run one at a time (the wall
 * row goes red), credentials without the session cache (AssumeRole goes red), one more state per child
 * (transitions go red).
 */
export const benchFleet = async (accounts = 100, databases = 20): Promise<BenchRow[]> => {
  const regions = ['eu-west-1', 'eu-central-1', 'us-east-1'];
  const spec: FleetSpec = {
    accounts,
    regions,
    databases,
    maxConcurrency: configuredConcurrency({ accounts, regions }),
  };
  const rows: BenchRow[] = [];
  // Metric series are billed by the hours they receive data: a daily cycle's one hour a day, the scale-in
  // check's every hour at its 15-minute default.
  const scaleInHours = Math.min(
    HOURS_PER_MONTH,
    cyclesPerMonth(fleetConfig({ accounts: 1, regions }).scaling.scaleInSchedule),
  );
  const small: FleetSpec = { ...spec, accounts: Math.max(2, Math.ceil(accounts / 10)) };
  // The scale-in check at rest (its usual run: 15 minutes on, nothing changed), on a tenth of the fleet:
  // what it sends per target does not depend on how many targets there are.
  const rest = (await simulateCycle({ ...small, rest: true }, 'scaling')).restNamesPerChild;
  const childMs: Partial<Record<CycleCapability, number[]>> = {};
  for (const capability of ['backup', 'retention', 'scaling'] as const) {
    const r = await simulateCycle(spec, capability);
    childMs[capability] = r.children.map((c) => c.ms);
    rows.push(
      ...(capability === 'scaling'
        ? cycleRows(r, spec, scaleInHours, rest)
        : cycleRows(r, spec, CYCLES_PER_MONTH)),
    );
  }
  rows.push(...stepFunctionRows(spec, false, ['backup', 'retention', 'scaling'], childMs));
  const selfTest = (what: string, row: BenchRow): BenchRow => ({
    bench: 'fleet, self-test',
    metric: `${what}: the "${row.metric.split(':')[1]!.split(',')[0]!.trim()}" row`,
    value: row.ok ? 'yes' : 'NO',
    baseline: row.value,
    target: 'NO (the row can fail)',
    ok: !row.ok,
  });
  const serial = await simulateCycle({ ...small, fault: 'serial' }, 'backup');
  rows.push(selfTest('children run one at a time', cycleRows(serial, small)[0]!));
  const uncached = await simulateCycle({ ...small, fault: 'no-session-cache' }, 'backup');
  rows.push(selfTest('credentials without the session cache', cycleRows(uncached, small)[2]!));
  // Without a fan-out in this build the row is red for another reason: that proves nothing.
  for (const extra of stepFunctionRows(small, true, ['backup', 'scaling'])) {
    const what = extra.metric.startsWith('scaling')
      ? 'scale-in children STANDARD again'
      : `one more state per ${extra.metric.split(':')[0]} child`;
    rows.push(
      extra.ratio === undefined
        ? { ...selfTest(what, extra), value: 'not run', ok: false }
        : selfTest(what, extra),
    );
  }
  const serialScaleIn = await simulateCycle({ ...small, fault: 'serial' }, 'scaling');
  rows.push(selfTest('scale-in children run one at a time', cycleRows(serialScaleIn, small)[0]!));
  const twice = await simulateCycle({ ...small, fault: 'twice' }, 'scaling');
  rows.push(selfTest("each target's scale-in check run twice", cycleRows(twice, small)[1]!));
  const everyMetric = await simulateCycle(
    { ...small, rest: true, fault: 'every-metric-per-target' },
    'scaling',
  );
  rows.push(
    selfTest(
      'every scale-in metric above zero per target',
      cycleRows(everyMetric, small, scaleInHours, everyMetric.restNamesPerChild)[3]!,
    ),
  );
  return rows;
};
