/**
 * What a synthesized stack template costs to keep deployed, counted from its resources: alarms and the
 * metrics each one evaluates, dashboards, KMS keys, budgets, interface endpoints, functions (memory), schedules
 * (expression, target, input) and the state machine's states. No prices here, only counts.
 */

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties?: Json;
}
export interface CfnTemplate {
  Resources: Record<string, Resource>;
}

export interface AlarmCount {
  name: string;
  /** Metrics the alarm evaluates (CloudWatch bills each one as an alarm metric); expressions are free. */
  metrics: number;
  namespaces: string[];
}

export interface ScheduleCount {
  name: string;
  expression: string;
  /** The Lambda function's name, or `state-machine` for a drill. */
  target: string;
  input: Json;
}

export interface TemplateCounts {
  alarms: AlarmCount[];
  compositeAlarms: number;
  dashboards: number;
  kmsKeys: number;
  /** AWS Budgets (cost alerts with `alertsBy: budgets`), and how many of them have actions (billed). */
  budgets: number;
  actionBudgets: number;
  /** Interface endpoints × the subnets (AZs) each one has. */
  endpointAzs: number;
  functions: Record<string, { memoryMb: number; logicalId: string }>;
  schedules: ScheduleCount[];
  eventRules: number;
  stateMachineStates: number;
  topics: number;
}

const nameOf = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** Count what costs money in one template. */
export const countTemplate = (t: CfnTemplate): TemplateCounts => {
  const all = Object.entries(t.Resources);
  const of = (type: string) => all.filter(([, r]) => r.Type === type);
  const functions: TemplateCounts['functions'] = {};
  const byLogicalId = new Map<string, string>();
  for (const [id, r] of of('AWS::Lambda::Function')) {
    const p = r.Properties ?? {};
    const name = nameOf(p.FunctionName ?? id);
    functions[name] = { memoryMb: Number(p.MemorySize ?? 128), logicalId: id };
    byLogicalId.set(id, name);
  }
  const alarms = of('AWS::CloudWatch::Alarm').map(([id, r]): AlarmCount => {
    const p = r.Properties ?? {};
    const queries = (p.Metrics as Json[] | undefined) ?? [];
    const stats = queries.filter((q) => q.MetricStat !== undefined);
    const namespaces = p.Namespace
      ? [String(p.Namespace)]
      : stats.map((q) => String(((q.MetricStat as Json).Metric as Json).Namespace));
    return { name: nameOf(p.AlarmName ?? id), metrics: p.MetricName ? 1 : stats.length, namespaces };
  });
  const schedules = of('AWS::Scheduler::Schedule').map(([id, r]): ScheduleCount => {
    const p = r.Properties ?? {};
    const target = p.Target as Json;
    const arn = target.Arn as Json;
    const getAtt = arn['Fn::GetAtt'] as string[] | undefined;
    return {
      name: nameOf(p.Name ?? id),
      expression: String(p.ScheduleExpression),
      target: getAtt ? (byLogicalId.get(getAtt[0]!) ?? getAtt[0]!) : 'state-machine',
      input: typeof target.Input === 'string' ? (JSON.parse(target.Input) as Json) : {},
    };
  });
  const endpointAzs = of('AWS::EC2::VPCEndpoint')
    .filter(([, r]) => r.Properties?.VpcEndpointType === 'Interface')
    .reduce((n, [, r]) => n + ((r.Properties?.SubnetIds as unknown[] | undefined)?.length ?? 1), 0);
  const stateMachineStates = of('AWS::StepFunctions::StateMachine').reduce((n, [, r]) => {
    const d = r.Properties?.DefinitionString;
    // The definition is a Fn::Join of strings and tokens: count the states' "Type" keys in its literal parts.
    const text = typeof d === 'string' ? d : JSON.stringify(d);
    return (
      n + (text.match(/\\?"Type\\?":\\?"(Task|Choice|Wait|Pass|Parallel|Map|Succeed|Fail)/g)?.length ?? 0)
    );
  }, 0);
  return {
    alarms,
    compositeAlarms: of('AWS::CloudWatch::CompositeAlarm').length,
    dashboards: of('AWS::CloudWatch::Dashboard').length,
    kmsKeys: of('AWS::KMS::Key').length,
    budgets: of('AWS::Budgets::Budget').length,
    actionBudgets: new Set(
      of('AWS::Budgets::BudgetsAction').map(([, r]) => JSON.stringify(r.Properties?.BudgetName)),
    ).size,
    endpointAzs,
    functions,
    schedules,
    eventRules: of('AWS::Events::Rule').length,
    stateMachineStates,
    topics: of('AWS::SNS::Topic').length,
  };
};

const FIELD_NAMES: Record<string, number> = { SUN: 1, MON: 2, TUE: 3, WED: 4, THU: 5, FRI: 6, SAT: 7 };

/** Does one EventBridge cron field match `value`? (`*`, `?`, lists, ranges, steps, day names.) */
const fieldMatches = (field: string, value: number): boolean =>
  field.split(',').some((part) => {
    if (part === '*' || part === '?') return true;
    const [range, step] = part.split('/') as [string, string | undefined];
    const num = (s: string) => FIELD_NAMES[s.toUpperCase()] ?? Number(s);
    const [lo, hi] =
      range === '*' ? [0, 9999] : range.includes('-') ? range.split('-').map(num) : [num(range)];
    if (Number.isNaN(lo) || (hi !== undefined && Number.isNaN(hi)))
      throw new Error(`cron field "${field}" is not supported by the cost model`);
    const top = hi ?? (step ? 9999 : lo!);
    return value >= lo! && value <= top && (value - lo!) % Number(step ?? 1) === 0;
  });

/** The reference month: 30 days from 2026-11-01 00:00 UTC, hour by hour (scaled to 730 h by the caller). */
export const MONTH_START = Date.UTC(2026, 10, 1);
export const MONTH_HOURS = 720;

/**
 * The hours of the reference month (0..719) in which `expression` fires, and how many times in all:
 * EventBridge Scheduler's rate() and cron() (UTC), evaluated minute by minute.
 */
export const firings = (expression: string): { hours: Set<number>; count: number } => {
  const hours = new Set<number>();
  let count = 0;
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (!rate && !cron) throw new Error(`schedule "${expression}" is not supported by the cost model`);
  const every = rate
    ? Number(rate[1]) * (rate[2]!.startsWith('minute') ? 1 : rate[2]!.startsWith('hour') ? 60 : 1440)
    : 0;
  const fields = cron ? cron[1]!.trim().split(/\s+/) : [];
  for (let m = 0; m < MONTH_HOURS * 60; m++) {
    let fire: boolean;
    if (rate) fire = m % every === 0;
    else {
      const d = new Date(MONTH_START + m * 60_000);
      const [min, hour, dom, mon, dow, year] = fields as [string, string, string, string, string, string];
      fire =
        fieldMatches(min, d.getUTCMinutes()) &&
        fieldMatches(hour, d.getUTCHours()) &&
        fieldMatches(dom, d.getUTCDate()) &&
        fieldMatches(mon, d.getUTCMonth() + 1) &&
        fieldMatches(dow, d.getUTCDay() + 1) &&
        fieldMatches(year, d.getUTCFullYear());
    }
    if (fire) {
      count++;
      hours.add(Math.floor(m / 60));
    }
  }
  return { hours, count };
};
