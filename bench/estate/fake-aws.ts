import { Tag } from '../../shared/tags.js';
import type { SimClock } from './clock.js';

// A stateful fake of the RDS, ElastiCache, DynamoDB and EC2 (EBS snapshot) APIs steward calls, at the SDK level: a middleware
// placed inside the SDK's retry loop answers every attempt from in-memory state, after a simulated latency,
// so the SDK's own paginators, retry strategy and adaptive rate limiter run unchanged on simulated time.
// Copies and snapshots complete over simulated time and emit the EventBridge events RDS emits.

/** One database of the simulated estate. */
export interface SimDatabase {
  kind: 'rds-instance' | 'aurora-cluster' | 'elasticache';
  id: string;
  region: string;
  /** Allocated (or used) storage, which sets snapshot and copy durations. */
  sizeGb: number;
  /** Share of the data that changes a day: an incremental copy moves this much. */
  dailyChange: number;
  tags: Record<string, string>;
  /** Aurora member instance of a cluster (listed by DescribeDBInstances, not backed up itself). */
  clusterId?: string;
  /** An instance's class (scaling reads and changes it). @default db.r6g.large */
  instanceClass?: string;
}

/** An EventBridge event as RDS delivers it (the fields steward reads). */
export interface SimEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: 'aws.rds';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    EventCategories: string[];
    SourceType: string;
    SourceArn: string;
    Date: string;
    SourceIdentifier: string;
    Message: string;
    EventID: string;
  };
}

export interface FakeAwsOptions {
  clock: SimClock;
  account?: string;
  /**
   * Request rate per service and region: a token bucket of `burst` tokens refilled at `perSecond`. RDS
   * documents 300 burst and 12 per second sustained per account and region ("Request throttling for the
   * Amazon RDS API"); a request over it fails with ThrottlingException. ElastiCache publishes no figure
   * and gets the same. DynamoDB (on-demand) is not throttled here.
   */
  rate?: { burst: number; perSecond: number };
  /**
   * Cross-region snapshot copies in progress per destination region and account, per kind; AWS refuses
   * more (SnapshotQuotaExceeded). The RDS User Guide says 20 DB snapshots ("copy up to 20 DB snapshots at
   * a time from one AWS Region to another"; older editions said 5), the Aurora User Guide 5 DB cluster
   * snapshots. Whether they share one pool is not documented: here they do not.
   */
  copiesPerDestination?: { 'rds-instance': number; 'aurora-cluster': number };
  /** Latency of one request in ms (every attempt, throttled ones included). */
  latencyMs?: (op: string, items: number) => number;
  /** How long a snapshot takes to become available, in minutes. */
  snapshotMinutes?: (db: SimDatabase) => number;
  /** How long a cross-region copy takes, in minutes; `gb` is what it moves (all, or the day's change). */
  copyMinutes?: (gb: number) => number;
  /** Called with every event RDS would put on the default event bus of `event.region`. */
  onEvent?: (event: SimEvent) => void;
  /** Manual snapshot quotas per region (DescribeAccountAttributes); raised well above the default 100. */
  quota?: number;
  /** The bench's own view of state changes (not an AWS feature): a snapshot became available, failed or went. */
  onSnapshot?: (s: Readonly<SnapshotRecord>, change: 'available' | 'failed' | 'deleted') => void;
}

/** RDS event ids the fake emits (RDS event categories and messages, "DB snapshot events"). */
export const RDS_EVENTS = {
  /** Manual DB snapshot created (also sent when a cross-region copy completes: the copy is a manual snapshot). */
  snapshotCreated: 'RDS-EVENT-0042',
  /** Manual DB cluster snapshot created. */
  clusterSnapshotCreated: 'RDS-EVENT-0075',
  /** Finished the copy of a DB snapshot. */
  snapshotCopied: 'RDS-EVENT-0060',
  /** Copy of a DB snapshot failed. */
  snapshotCopyFailed: 'RDS-EVENT-0061',
} as const;

/** One API request as the fake saw it. */
export interface CallRecord {
  service: 'rds' | 'elasticache' | 'dynamodb' | 'tagging' | 'ec2' | 'cloudwatch' | 'other';
  region: string;
  op: string;
  throttled: boolean;
  /** Who sent it: the AsyncLocalStorage store of the clock (a function run). */
  owner: unknown;
}

type Tags = Record<string, string>;

export interface SnapshotRecord {
  kind: SimDatabase['kind'];
  id: string;
  arn: string;
  region: string;
  sourceId: string;
  /** When the data was taken (kept by copies). */
  takenAt: number;
  /** When this snapshot (or copy) was started. */
  startedAt: number;
  status: string;
  tags: Tags;
  /** A cross-region copy: its source ARN and region. */
  copyOf?: { arn: string; region: string };
  encrypted: boolean;
  /** Size in GB (storage of the source database at the time). */
  gb: number;
  /** A copy in progress: when it will complete. */
  doneAt?: number;
  /** The describe shape, built once per status (describes return it as is; callers only read it). */
  shape?: { status: string; value: Record<string, unknown> };
}

/** One EBS snapshot as the fake keeps it (`sourceId`: its set, so a set's parts are found together). */
export interface EbsSnapshotRecord {
  id: string;
  sourceId: string;
  volumeId: string;
  takenAt: number;
  state: string;
  tags: Tags;
  description?: string;
}

interface Collection<T extends { id: string; sourceId?: string }> {
  byId: Map<string, T>;
  /** Ids by `sourceId` (a database's snapshots), so a filter by database does not scan the region. */
  bySource: Map<string, Set<string>>;
  /** Bumped on insert and delete: a cached ordering is then rebuilt. */
  version: number;
  ordered?: { version: number; items: T[] };
}

const collection = <T extends { id: string; sourceId?: string }>(): Collection<T> => ({
  byId: new Map(),
  bySource: new Map(),
  version: 0,
});

const put = <T extends { id: string; sourceId?: string }>(c: Collection<T>, item: T) => {
  const before = c.byId.get(item.id);
  if (!before) c.version++;
  else if (before.sourceId !== undefined) c.bySource.get(before.sourceId)?.delete(item.id);
  c.byId.set(item.id, item);
  if (item.sourceId !== undefined) {
    let ids = c.bySource.get(item.sourceId);
    if (!ids) c.bySource.set(item.sourceId, (ids = new Set()));
    ids.add(item.id);
  }
};

const remove = <T extends { id: string; sourceId?: string }>(c: Collection<T>, id: string) => {
  const item = c.byId.get(id);
  if (!item) return;
  c.byId.delete(id);
  if (item.sourceId !== undefined) c.bySource.get(item.sourceId)?.delete(id);
  c.version++;
};

/** A database's snapshots in a collection, in insertion order of their ids. */
const ofSource = <T extends { id: string; sourceId?: string }>(c: Collection<T>, sourceId: string): T[] =>
  [...(c.bySource.get(sourceId) ?? [])].map((id) => c.byId.get(id)!);

const ordered = <T extends { id: string }>(c: Collection<T>): T[] => {
  if (c.ordered?.version !== c.version) c.ordered = { version: c.version, items: [...c.byId.values()] };
  return c.ordered.items;
};

interface Region {
  name: string;
  databases: Collection<SimDatabase>;
  dbSnapshots: Collection<SnapshotRecord>;
  clusterSnapshots: Collection<SnapshotRecord>;
  cacheSnapshots: Collection<SnapshotRecord>;
  /** EBS snapshots (one per volume; a steward set is the ones sharing `steward:set`), keyed by snapshot id. */
  ebsSnapshots: Collection<EbsSnapshotRecord>;
  /** EC2 instances and lone volumes (`seedEc2`): what DescribeInstances / DescribeVolumes list. */
  instances: { id: string; volumes: string[]; tags: Tags }[];
  volumes: { id: string; volumes: string[]; tags: Tags }[];
  tables: Map<string, Map<string, Record<string, unknown>>>;
  /** CloudWatch alarms (`setAlarm`): their state and when it last changed, as DescribeAlarms answers. */
  alarms: Map<string, { state: string; since: Date }>;
  buckets: Map<string, { tokens: number; at: number }>;
}

/** The services the fake answers, by the SDK client's `serviceId`; any other service's request is refused. */
const SERVICES: Record<string, CallRecord['service']> = {
  RDS: 'rds',
  ElastiCache: 'elasticache',
  DynamoDB: 'dynamodb',
  'Resource Groups Tagging API': 'tagging',
  EC2: 'ec2',
  CloudWatch: 'cloudwatch',
};

/** An AWS error as the SDK raises it: `name` is the error code. */
export const awsError = (name: string, message: string, status = 400): Error =>
  Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, attempts: 1, totalRetryDelay: 0 },
  });

const PAGE_LIMITS: Record<string, { min: number; max: number }> = {
  DescribeDBInstances: { min: 20, max: 100 },
  DescribeDBClusters: { min: 20, max: 100 },
  DescribeDBSnapshots: { min: 20, max: 100 },
  DescribeDBClusterSnapshots: { min: 20, max: 100 },
  DescribeReplicationGroups: { min: 20, max: 100 },
  // "The default is 50. The Validation Constraints are a maximum of 50." (API Reference, MaxResults)
  DescribeServerlessCaches: { min: 1, max: 50 },
  DescribeServerlessCacheSnapshots: { min: 1, max: 50 },
  // ElastiCache DescribeSnapshots: MaxRecords 20–50, default 50.
  DescribeSnapshots: { min: 20, max: 50 },
  DescribeAlarms: { min: 1, max: 100 },
};

/** `MaxRecords` exactly as RDS and ElastiCache check it: absent = the maximum, outside the range = an error. */
const pageSize = (op: string, maxRecords: unknown): number => {
  const { min, max } = PAGE_LIMITS[op]!;
  if (maxRecords === undefined) return max;
  const n = Number(maxRecords);
  if (!Number.isInteger(n) || n < min || n > max)
    throw awsError(
      'InvalidParameterValue',
      `Invalid value ${String(maxRecords)} for MaxRecords. Must be between ${min} and ${max}`,
    );
  return n;
};

/**
 * One page of `items` after `marker`: markers are opaque to callers; here they carry the last id returned
 * and its position, so a listing continues correctly while snapshots come and go.
 */
const page = <T extends { id: string }>(
  items: readonly T[],
  size: number,
  marker: unknown,
): { items: T[]; marker?: string } => {
  let start = 0;
  if (marker !== undefined && marker !== '') {
    const text = Buffer.from(String(marker), 'base64url').toString('utf8');
    const sep = text.indexOf(':');
    const pos = Number(text.slice(0, sep));
    const lastId = text.slice(sep + 1);
    if (sep < 0 || !Number.isInteger(pos)) throw awsError('InvalidParameterValue', 'Invalid Marker');
    if (items[pos]?.id === lastId) start = pos + 1;
    else {
      // The last item returned was deleted or moved: resume after it, or at the same position.
      const found = items.findIndex((x) => x.id === lastId);
      start = found >= 0 ? found + 1 : Math.min(pos, items.length);
    }
  }
  const slice = items.slice(start, start + size);
  const end = start + slice.length;
  return end < items.length && slice.length
    ? {
        items: slice,
        marker: Buffer.from(`${end - 1}:${slice.at(-1)!.id}`, 'utf8').toString('base64url'),
      }
    : { items: slice };
};

const tagList = (tags: Tags) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const tagsFrom = (list: unknown): Tags => {
  const out: Tags = {};
  for (const t of (list as { Key?: string; Value?: string }[] | undefined) ?? [])
    if (t.Key) out[t.Key] = t.Value ?? '';
  return out;
};

const DAY_MS = 86_400_000;
const MINUTE = 60_000;
// Every snapshot states its database as RDS and ElastiCache do (resource id, creation time): one database per
// name here, created before any history the benches seed. Retention reads them to tell namesakes apart.
const SOURCE_CREATED = new Date('2020-01-01T00:00:00Z');

const defaults = {
  rate: { burst: 300, perSecond: 12 },
  copiesPerDestination: { 'rds-instance': 20, 'aurora-cluster': 5 },
  // Control-plane requests answer in about a tenth of a second; a full describe page takes longer.
  latencyMs: (op: string, items: number) =>
    op.startsWith('Describe') ? 120 + items * 1.5 : op.endsWith('Item') ? 8 : 90,
  // Incremental snapshots: a few minutes plus the day's changed blocks.
  snapshotMinutes: (db: SimDatabase) => 4 + (db.sizeGb * db.dailyChange) / 4,
  // A cross-region copy: about 10 minutes of set-up and verification, then ~2 GB a minute.
  copyMinutes: (gb: number) => 10 + gb / 2,
  quota: 100_000,
};

/** The simulated AWS account: every region's state, the requests it answered, and the clients it serves. */
export class FakeAws {
  readonly account: string;
  readonly calls: CallRecord[] = [];
  private readonly regions = new Map<string, Region>();
  private readonly o: Required<Omit<FakeAwsOptions, 'onEvent' | 'onSnapshot'>> &
    Pick<FakeAwsOptions, 'onEvent' | 'onSnapshot'>;
  private eventSeq = 0;
  private ebsSeq = 0;
  /** CPU microseconds the fake itself spent answering (to subtract from a run's CPU time). */
  cpuMicros = new Map<unknown, number>();

  constructor(options: FakeAwsOptions) {
    this.o = { ...defaults, account: '111122223333', ...options } as typeof this.o;
    this.account = this.o.account;
  }

  private get clock(): SimClock {
    return this.o.clock;
  }

  region(name: string): Region {
    let r = this.regions.get(name);
    if (!r) {
      r = {
        name,
        databases: collection(),
        dbSnapshots: collection(),
        clusterSnapshots: collection(),
        cacheSnapshots: collection(),
        ebsSnapshots: collection(),
        instances: [],
        volumes: [],
        tables: new Map(),
        alarms: new Map(),
        buckets: new Map(),
      };
      this.regions.set(name, r);
    }
    return r;
  }

  // ---------------------------------------------------------------------------------------------------
  // Seeding and inspection (the bench's view of the account, not an API)

  addDatabase(db: SimDatabase): void {
    put(this.region(db.region).databases, structuredClone(db));
  }

  /** Put an available snapshot (or copy) in place, as if taken at `takenAt`. */
  seedSnapshot(s: {
    kind: SimDatabase['kind'];
    id: string;
    region: string;
    sourceId: string;
    takenAt: number;
    tags: Tags;
    copyOf?: { arn: string; region: string };
    gb?: number;
  }): string {
    const arn = this.arn(s.kind, s.region, s.id);
    put(this.snapshots(s.region, s.kind), {
      ...s,
      arn,
      startedAt: s.takenAt,
      status: 'available',
      encrypted: s.kind !== 'elasticache',
      gb: s.gb ?? 0,
    });
    return arn;
  }

  /** Put a completed EBS snapshot in place (one volume of a set: `steward:set` in its tags, if steward's). */
  seedEbsSnapshot(region: string, s: Omit<EbsSnapshotRecord, 'sourceId' | 'state'>): void {
    put(this.region(region).ebsSnapshots, { ...s, sourceId: s.tags[Tag.set] ?? s.id, state: 'completed' });
  }

  /** An EC2 instance (with its attached volumes) or a lone volume, tagged as the bench decides. */
  seedEc2(region: string, target: { id: string; volumes: string[]; tags: Tags; instance: boolean }): void {
    const r = this.region(region);
    if (target.instance) r.instances.push(target);
    else r.volumes.push(target);
  }

  /** Every EBS snapshot of a region, as the bench inspects them. */
  ebsSnapshotsIn(region: string): readonly EbsSnapshotRecord[] {
    return ordered(this.region(region).ebsSnapshots);
  }

  /** Every snapshot of a region (any kind), as the bench inspects them. */
  snapshotsIn(region: string): readonly SnapshotRecord[] {
    const r = this.region(region);
    return [...ordered(r.dbSnapshots), ...ordered(r.clusterSnapshots), ...ordered(r.cacheSnapshots)];
  }

  /** Copies in progress into `region` (of one kind, or all). */
  copiesInFlight(region: string, kind?: SimDatabase['kind']): SnapshotRecord[] {
    return [...this.copying].filter(
      (s) =>
        s.region === region &&
        (!kind || s.kind === kind) &&
        this.snapshots(region, s.kind).byId.get(s.id) === s,
    );
  }

  /** Copies not yet completed (or failed), in any region. */
  private readonly copying = new Set<SnapshotRecord>();

  arn(kind: SimDatabase['kind'], region: string, id: string): string {
    return kind === 'elasticache'
      ? `arn:aws:elasticache:${region}:${this.account}:snapshot:${id}`
      : `arn:aws:rds:${region}:${this.account}:${kind === 'aurora-cluster' ? 'cluster-snapshot' : 'snapshot'}:${id}`;
  }

  private dbArn(db: SimDatabase): string {
    return db.kind === 'elasticache'
      ? `arn:aws:elasticache:${db.region}:${this.account}:replicationgroup:${db.id}`
      : `arn:aws:rds:${db.region}:${this.account}:${db.kind === 'aurora-cluster' ? 'cluster' : 'db'}:${db.id}`;
  }

  private snapshots(region: string, kind: SimDatabase['kind']): Collection<SnapshotRecord> {
    const r = this.region(region);
    return kind === 'rds-instance'
      ? r.dbSnapshots
      : kind === 'aurora-cluster'
        ? r.clusterSnapshots
        : r.cacheSnapshots;
  }

  // ---------------------------------------------------------------------------------------------------
  // The SDK hook

  /**
   * Answer every request of `client` (an RDS, ElastiCache or DynamoDB (document) client of `region`) from
   * this fake. The middleware takes the place of the HTTP round trip: everything up to it runs as shipped
   * (serialization, the retry strategy, steward's own middleware, signing), each attempt is answered here,
   * and a ThrottlingException goes back through the SDK's retry strategy.
   */
  attach(client: { middlewareStack: unknown; config?: unknown }, region: string): void {
    const id = (client.config as { serviceId?: string } | undefined)?.serviceId ?? '';
    const service: CallRecord['service'] = SERVICES[id] ?? 'other';
    const stack = client.middlewareStack as {
      addRelativeTo(mw: unknown, o: Record<string, unknown>): void;
      remove(name: string): boolean;
    };
    stack.remove('stewardFakeAws');
    stack.addRelativeTo(
      (_next: unknown, context: HandlerContext) => async (args: { input: Record<string, unknown> }) => {
        const op = (context.commandName ?? '').replace(/Command$/, '');
        // State-table items are stored and answered as they are, not copied: the document client marshals
        // a fresh request and unmarshals into fresh objects. A plain DynamoDB client's caller holds its
        // own objects, so those are copied in and out.
        const mapped = context.__aws_sdk_context?.features?.DDB_MAPPER !== undefined;
        const own = service === 'dynamodb' && !mapped;
        const answer = await this.answer(service, region, op, own ? structuredClone(args.input) : args.input);
        // The document client unmarshalls in a middleware this one answers in front of: do it here.
        const output = mapped ? unmarshallOutput(answer) : own ? structuredClone(answer) : answer;
        return {
          response: { statusCode: 200, headers: {} },
          output: { ...output, $metadata: { httpStatusCode: 200, requestId: `sim-${this.calls.length}` } },
        };
      },
      { relation: 'before', toMiddleware: 'deserializerMiddleware', name: 'stewardFakeAws', override: true },
    );
  }

  private throttled(service: string, region: Region): boolean {
    if (service === 'dynamodb' || service === 'other') return false;
    const { burst, perSecond } = this.o.rate;
    const now = this.clock.now;
    const b = region.buckets.get(service) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    region.buckets.set(service, b);
    if (b.tokens < 1) return true;
    b.tokens -= 1;
    return false;
  }

  /** One request: latency first, then the rate limit, then the answer from the state at that moment. */
  async answer(
    service: CallRecord['service'],
    regionName: string,
    op: string,
    input: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const owner = this.clock.context.getStore();
    const region = this.region(regionName);
    await this.clock.sleep(this.o.latencyMs(op, 0));
    const throttled = this.throttled(service, region);
    this.calls.push({ service, region: regionName, op, throttled, owner });
    if (throttled) throw awsError('ThrottlingException', 'Rate exceeded');
    const before = performance.now();
    const out = this.handle(service, region, op, input);
    this.cpuMicros.set(owner, (this.cpuMicros.get(owner) ?? 0) + (performance.now() - before) * 1000);
    const items = Object.values(out).find(Array.isArray)?.length ?? 0;
    // A describe's page takes longer the more it carries.
    if (items) await this.clock.sleep(this.o.latencyMs(op, items) - this.o.latencyMs(op, 0));
    return out;
  }

  private handle(
    service: CallRecord['service'],
    r: Region,
    op: string,
    input: Record<string, unknown>,
  ): Record<string, unknown> {
    const key = `${service}:${op}`;
    switch (key) {
      case 'rds:DescribeDBInstances':
        return this.describeInstances(r, input);
      case 'rds:DescribeDBClusters':
        return this.describeClusters(r, input);
      case 'rds:DescribeDBSnapshots':
        return this.describeRdsSnapshots(r, 'rds-instance', input);
      case 'rds:DescribeDBClusterSnapshots':
        return this.describeRdsSnapshots(r, 'aurora-cluster', input);
      case 'rds:DescribeAccountAttributes':
        return this.accountAttributes(r);
      case 'rds:CreateDBSnapshot':
        return this.createSnapshot(r, 'rds-instance', input);
      case 'rds:CreateDBClusterSnapshot':
        return this.createSnapshot(r, 'aurora-cluster', input);
      case 'rds:CopyDBSnapshot':
        return this.copySnapshot(r, 'rds-instance', input);
      case 'rds:CopyDBClusterSnapshot':
        return this.copySnapshot(r, 'aurora-cluster', input);
      case 'rds:DeleteDBSnapshot':
        return this.deleteSnapshot(r, 'rds-instance', String(input.DBSnapshotIdentifier));
      case 'rds:DeleteDBClusterSnapshot':
        return this.deleteSnapshot(r, 'aurora-cluster', String(input.DBClusterSnapshotIdentifier));
      case 'rds:ModifyDBInstance': {
        // Applied at once (ApplyImmediately; the bench counts requests, not the modification's duration).
        const id = String(input.DBInstanceIdentifier);
        const db = r.databases.byId.get(id);
        if (db?.kind !== 'rds-instance')
          throw awsError('DBInstanceNotFoundFault', `DBInstance ${id} not found.`, 404);
        if (typeof input.DBInstanceClass === 'string') db.instanceClass = input.DBInstanceClass;
        return { DBInstance: { DBInstanceIdentifier: id, DBInstanceClass: db.instanceClass } };
      }
      case 'rds:ListTagsForResource':
      case 'elasticache:ListTagsForResource':
        return { TagList: tagList(this.tagsOf(r, String(input.ResourceName))) };
      case 'elasticache:DescribeReplicationGroups':
        return this.describeGroups(r, input);
      case 'elasticache:DescribeSnapshots':
        return this.describeCacheSnapshots(r, input);
      // The simulated estate has no serverless caches: steward lists them (and their snapshots) all the same.
      case 'elasticache:DescribeServerlessCaches':
        pageSize('DescribeServerlessCaches', input.MaxResults);
        return { ServerlessCaches: [] };
      case 'elasticache:DescribeServerlessCacheSnapshots':
        pageSize('DescribeServerlessCacheSnapshots', input.MaxResults);
        return { ServerlessCacheSnapshots: [] };
      case 'elasticache:CreateSnapshot':
        return this.createSnapshot(r, 'elasticache', input);
      case 'elasticache:DeleteSnapshot':
        return this.deleteSnapshot(r, 'elasticache', String(input.SnapshotName));
      case 'tagging:GetResources':
        return this.getResources(r, input);
      case 'ec2:DescribeSnapshots':
        return this.describeEbsSnapshots(r, input);
      case 'ec2:DescribeInstances':
        return this.describeEc2(r, r.instances, input, 'Reservations');
      case 'ec2:DescribeVolumes':
        return this.describeEc2(r, r.volumes, input, 'Volumes');
      case 'ec2:CreateSnapshots': {
        const id = String((input.InstanceSpecification as { InstanceId?: string }).InstanceId);
        const instance = r.instances.find((i) => i.id === id);
        if (!instance) throw awsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
        return { Snapshots: instance.volumes.map((v) => this.takeEbs(r, v, input)) };
      }
      case 'ec2:CreateSnapshot':
        return this.takeEbs(r, String(input.VolumeId), input);
      case 'ec2:DeleteSnapshot': {
        const id = String(input.SnapshotId);
        if (!r.ebsSnapshots.byId.has(id))
          throw awsError('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
        remove(r.ebsSnapshots, id);
        return {};
      }
      case 'dynamodb:GetItem':
        return this.getItem(r, input);
      case 'cloudwatch:DescribeAlarms':
        return this.describeAlarms(r, input);
      case 'dynamodb:BatchGetItem':
        return this.batchGetItem(r, input);
      case 'dynamodb:PutItem':
        return this.putItem(r, input);
      case 'dynamodb:UpdateItem':
        return this.updateItem(r, input);
      case 'dynamodb:DeleteItem':
        return this.deleteItem(r, input);
      default:
        throw awsError('UnsupportedOperation', `the simulated AWS does not implement ${service} ${op}`);
    }
  }

  /** An alarm's state in `region` as CloudWatch would answer it. */
  setAlarm(region: string, name: string, state: string, since: Date): void {
    this.region(region).alarms.set(name, { state, since });
  }

  /** DescribeAlarms by AlarmNames (at most 100), metric alarms only, MaxRecords pages with NextToken. */
  private describeAlarms(r: Region, input: Record<string, unknown>) {
    const names = (input.AlarmNames as string[] | undefined) ?? [...r.alarms.keys()];
    if (names.length > 100)
      throw awsError('ValidationError', `${names.length} AlarmNames: the maximum is 100`);
    const found = names.flatMap((id) => {
      const a = r.alarms.get(id);
      return a ? [{ id, ...a }] : [];
    });
    const p = page(found, pageSize('DescribeAlarms', input.MaxRecords), input.NextToken);
    return {
      MetricAlarms: p.items.map((a) => ({
        AlarmName: a.id,
        StateValue: a.state,
        StateTransitionedTimestamp: a.since,
      })),
      ...(p.marker ? { NextToken: p.marker } : {}),
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // EC2 (EBS snapshots)

  /** DescribeInstances / DescribeVolumes: the `tag-key` filter, MaxResults pages with NextToken. */
  private describeEc2(
    _r: Region,
    items: { id: string; volumes: string[]; tags: Tags }[],
    input: Record<string, unknown>,
    field: 'Reservations' | 'Volumes',
  ) {
    const keys =
      (input.Filters as { Name?: string; Values?: string[] }[] | undefined)?.find((f) => f.Name === 'tag-key')
        ?.Values ?? [];
    const all = items.filter((i) => !keys.length || keys.some((k) => k in i.tags));
    const p = page(all, Number(input.MaxResults ?? 1000), input.NextToken);
    const out =
      field === 'Reservations'
        ? p.items.map((i) => ({
            OwnerId: this.account,
            Instances: [
              {
                InstanceId: i.id,
                State: { Name: 'running' },
                Tags: tagList(i.tags),
                BlockDeviceMappings: i.volumes.map((v) => ({ Ebs: { VolumeId: v } })),
              },
            ],
          }))
        : p.items.map((v) => ({ VolumeId: v.id, State: 'available', Tags: tagList(v.tags) }));
    return { [field]: out, ...(p.marker ? { NextToken: p.marker } : {}) };
  }

  /** A new EBS snapshot of `volume`, tagged on creation, completed at once (the bench counts requests). */
  private takeEbs(r: Region, volume: string, input: Record<string, unknown>) {
    const spec = (input.TagSpecifications as { Tags?: unknown }[] | undefined)?.[0];
    const tags = tagsFrom(spec?.Tags);
    const id = `snap-${(++this.ebsSeq).toString(16).padStart(17, '0')}`;
    put(r.ebsSnapshots, {
      id,
      sourceId: tags[Tag.set] ?? id,
      volumeId: volume,
      takenAt: this.clock.now,
      state: 'completed',
      tags,
      ...(typeof input.Description === 'string' ? { description: input.Description } : {}),
    });
    return { SnapshotId: id, VolumeId: volume, State: 'pending' };
  }

  /**
   * DescribeSnapshots as EC2 answers the filters steward sends: `tag-key` and `tag:<key>` (values OR'ed, filters
   * AND'ed), the account's own snapshots, MaxResults 5–1000 (default: all in one page) with NextToken.
   */
  private describeEbsSnapshots(r: Region, input: Record<string, unknown>) {
    const filters = (input.Filters as { Name?: string; Values?: string[] }[] | undefined) ?? [];
    const max = input.MaxResults === undefined ? Infinity : Number(input.MaxResults);
    if (max !== Infinity && (!Number.isInteger(max) || max < 5 || max > 1000))
      throw awsError(
        'InvalidParameterValue',
        `Value ( ${String(input.MaxResults)} ) for parameter maxResults is invalid.`,
      );
    // A filter on the set's own tag goes through the set index, as a tag filter would in EC2.
    const bySet = filters.find((f) => f.Name === `tag:${Tag.set}`)?.Values;
    const candidates = bySet ? bySet.flatMap((id) => ofSource(r.ebsSnapshots, id)) : ordered(r.ebsSnapshots);
    const match = (s: EbsSnapshotRecord) =>
      filters.every((f) =>
        f.Name === 'tag-key'
          ? (f.Values ?? []).some((k) => k in s.tags)
          : f.Name?.startsWith('tag:')
            ? (f.Values ?? []).includes(s.tags[f.Name.slice(4)] ?? '\u0000')
            : true,
      );
    const p = page(
      candidates.filter(match),
      max === Infinity ? Number.MAX_SAFE_INTEGER : max,
      input.NextToken,
    );
    return {
      Snapshots: p.items.map((s) => ({
        SnapshotId: s.id,
        VolumeId: s.volumeId,
        State: s.state,
        StartTime: new Date(s.takenAt),
        OwnerId: this.account,
        Encrypted: true,
        ...(s.description ? { Description: s.description } : {}),
        Tags: tagList(s.tags),
      })),
      ...(p.marker ? { NextToken: p.marker } : {}),
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // RDS

  private describeInstances(r: Region, input: Record<string, unknown>) {
    const size = pageSize('DescribeDBInstances', input.MaxRecords);
    const id = input.DBInstanceIdentifier as string | undefined;
    const all = ordered(r.databases).filter((d) => d.kind === 'rds-instance' && (!id || d.id === id));
    if (id && !all.length) throw awsError('DBInstanceNotFoundFault', `DBInstance ${id} not found.`, 404);
    const p = page(all, size, input.Marker);
    return {
      DBInstances: p.items.map((d) => ({
        DBInstanceIdentifier: d.id,
        DBInstanceArn: this.dbArn(d),
        Engine: d.clusterId ? 'aurora-postgresql' : 'postgres',
        DBInstanceStatus: 'available',
        DBInstanceClass: d.instanceClass ?? 'db.r6g.large',
        PendingModifiedValues: {},
        StorageEncrypted: true,
        AllocatedStorage: d.sizeGb,
        BackupRetentionPeriod: 7,
        TagList: tagList(d.tags),
        ...(d.clusterId ? { DBClusterIdentifier: d.clusterId } : {}),
      })),
      ...(p.marker ? { Marker: p.marker } : {}),
    };
  }

  private describeClusters(r: Region, input: Record<string, unknown>) {
    const size = pageSize('DescribeDBClusters', input.MaxRecords);
    const all = ordered(r.databases).filter((d) => d.kind === 'aurora-cluster');
    const p = page(all, size, input.Marker);
    return {
      DBClusters: p.items.map((d) => ({
        DBClusterIdentifier: d.id,
        DBClusterArn: this.dbArn(d),
        Engine: 'aurora-postgresql',
        Status: 'available',
        StorageEncrypted: true,
        BackupRetentionPeriod: 7,
        TagList: tagList(d.tags),
      })),
      ...(p.marker ? { Marker: p.marker } : {}),
    };
  }

  /** The filters DescribeDB(Cluster)Snapshots takes: identifiers, SnapshotType, and `Filters`. */
  private describeRdsSnapshots(
    r: Region,
    kind: 'rds-instance' | 'aurora-cluster',
    input: Record<string, unknown>,
  ) {
    const cluster = kind === 'aurora-cluster';
    const op = cluster ? 'DescribeDBClusterSnapshots' : 'DescribeDBSnapshots';
    const size = pageSize(op, input.MaxRecords);
    const c = cluster ? r.clusterSnapshots : r.dbSnapshots;
    const snapshotId = (cluster ? input.DBClusterSnapshotIdentifier : input.DBSnapshotIdentifier) as
      string | undefined;
    const sourceId = (cluster ? input.DBClusterIdentifier : input.DBInstanceIdentifier) as string | undefined;
    const filters = new Map<string, string[]>();
    for (const f of (input.Filters as { Name?: string; Values?: string[] }[] | undefined) ?? [])
      if (f.Name) filters.set(f.Name, f.Values ?? []);
    const type = (input.SnapshotType as string | undefined) ?? filters.get('snapshot-type')?.[0];
    const ids = snapshotId
      ? [snapshotId]
      : filters.get(cluster ? 'db-cluster-snapshot-id' : 'db-snapshot-id');
    const sources = sourceId ? [sourceId] : filters.get(cluster ? 'db-cluster-id' : 'db-instance-id');
    let all: SnapshotRecord[];
    if (ids) {
      all = ids.flatMap((id) => {
        const s = c.byId.get(id) ?? (id.startsWith('arn:') ? this.findByArn(id) : undefined);
        return s && s.region === r.name && s.kind === kind ? [s] : [];
      });
      // Naming one snapshot that does not exist is an error, not an empty page.
      if (snapshotId && !all.length)
        throw awsError(
          cluster ? 'DBClusterSnapshotNotFoundFault' : 'DBSnapshotNotFoundFault',
          `${cluster ? 'DBClusterSnapshot' : 'DBSnapshot'} ${snapshotId} not found.`,
          404,
        );
    } else if (sources) all = sources.flatMap((id) => ofSource(c, id));
    else all = ordered(c);
    if (sources) all = all.filter((s) => sources.includes(s.sourceId));
    // Every snapshot here is manual (steward's, or copies); automated ones are not simulated.
    if (type && type !== 'manual') all = [];
    const p = page(all, size, input.Marker);
    const items = p.items.map((s) => (cluster ? this.clusterSnapshotShape(s) : this.dbSnapshotShape(s)));
    return {
      [cluster ? 'DBClusterSnapshots' : 'DBSnapshots']: items,
      ...(p.marker ? { Marker: p.marker } : {}),
    };
  }

  private shaped(s: SnapshotRecord, build: (s: SnapshotRecord) => Record<string, unknown>) {
    if (s.shape?.status !== s.status) s.shape = { status: s.status, value: build(s) };
    return s.shape.value;
  }

  private dbSnapshotShape(s: SnapshotRecord) {
    return this.shaped(s, () => ({
      DBSnapshotIdentifier: s.id,
      DBSnapshotArn: s.arn,
      DBInstanceIdentifier: s.sourceId,
      DbiResourceId: `db-${s.sourceId.toUpperCase()}`,
      InstanceCreateTime: SOURCE_CREATED,
      SnapshotCreateTime: new Date(s.startedAt),
      ...(s.copyOf
        ? {
            OriginalSnapshotCreateTime: new Date(s.takenAt),
            SourceRegion: s.copyOf.region,
            SourceDBSnapshotIdentifier: s.copyOf.arn,
          }
        : {}),
      Engine: 'postgres',
      Status: s.status,
      SnapshotType: 'manual',
      Encrypted: s.encrypted,
      AllocatedStorage: s.gb,
      PercentProgress: s.status === 'available' ? 100 : 0,
      TagList: tagList(s.tags),
    }));
  }

  private clusterSnapshotShape(s: SnapshotRecord) {
    return this.shaped(s, () => ({
      DBClusterSnapshotIdentifier: s.id,
      DBClusterSnapshotArn: s.arn,
      DBClusterIdentifier: s.sourceId,
      DbClusterResourceId: `cluster-${s.sourceId.toUpperCase()}`,
      ClusterCreateTime: SOURCE_CREATED,
      // A copy keeps the time its data was taken.
      SnapshotCreateTime: new Date(s.takenAt),
      ...(s.copyOf ? { SourceDBClusterSnapshotArn: s.copyOf.arn } : {}),
      Engine: 'aurora-postgresql',
      Status: s.status,
      SnapshotType: 'manual',
      StorageEncrypted: s.encrypted,
      AllocatedStorage: s.gb,
      PercentProgress: s.status === 'available' ? 100 : 0,
      TagList: tagList(s.tags),
    }));
  }

  private accountAttributes(r: Region) {
    const count = (c: Collection<SnapshotRecord>) => c.byId.size;
    return {
      AccountQuotas: [
        { AccountQuotaName: 'ManualSnapshots', Used: count(r.dbSnapshots), Max: this.o.quota },
        { AccountQuotaName: 'ManualClusterSnapshots', Used: count(r.clusterSnapshots), Max: this.o.quota },
      ],
    };
  }

  private createSnapshot(r: Region, kind: SimDatabase['kind'], input: Record<string, unknown>) {
    const [dbKey, idKey] =
      kind === 'rds-instance'
        ? ['DBInstanceIdentifier', 'DBSnapshotIdentifier']
        : kind === 'aurora-cluster'
          ? ['DBClusterIdentifier', 'DBClusterSnapshotIdentifier']
          : ['ReplicationGroupId', 'SnapshotName'];
    const dbId = String(input[dbKey]);
    const id = String(input[idKey]);
    const db = r.databases.byId.get(dbId);
    if (!db || db.kind !== kind)
      throw awsError(
        kind === 'rds-instance'
          ? 'DBInstanceNotFoundFault'
          : kind === 'aurora-cluster'
            ? 'DBClusterNotFoundFault'
            : 'ReplicationGroupNotFoundFault',
        `${dbId} not found`,
        404,
      );
    const c = this.snapshots(r.name, kind);
    if (c.byId.has(id))
      throw awsError(
        kind === 'rds-instance'
          ? 'DBSnapshotAlreadyExistsFault'
          : kind === 'aurora-cluster'
            ? 'DBClusterSnapshotAlreadyExistsFault'
            : 'SnapshotAlreadyExistsFault',
        `snapshot ${id} already exists`,
      );
    const now = this.clock.now;
    const s: SnapshotRecord = {
      kind,
      id,
      arn: this.arn(kind, r.name, id),
      region: r.name,
      sourceId: dbId,
      takenAt: now,
      startedAt: now,
      status: 'creating',
      tags: tagsFrom(input.Tags),
      encrypted: kind !== 'elasticache',
      gb: db.sizeGb,
    };
    put(c, s);
    this.clock.within(undefined, () =>
      this.clock.at(this.o.snapshotMinutes(db) * MINUTE, () => {
        if (c.byId.get(id) !== s) return;
        s.status = 'available';
        this.o.onSnapshot?.(s, 'available');
        if (kind !== 'elasticache')
          this.emit(
            r.name,
            s,
            kind === 'aurora-cluster' ? RDS_EVENTS.clusterSnapshotCreated : RDS_EVENTS.snapshotCreated,
            'Manual snapshot created',
          );
      }),
    );
    if (kind === 'elasticache') return { Snapshot: this.cacheSnapshotShape(s) };
    return kind === 'aurora-cluster'
      ? { DBClusterSnapshot: this.clusterSnapshotShape(s) }
      : { DBSnapshot: this.dbSnapshotShape(s) };
  }

  private findByArn(arn: string): SnapshotRecord | undefined {
    const region = arn.split(':')[3] ?? '';
    const r = this.regions.get(region);
    if (!r) return undefined;
    const id = arn.split(':').slice(6).join(':');
    return r.dbSnapshots.byId.get(id) ?? r.clusterSnapshots.byId.get(id);
  }

  /**
   * A cross-region copy, requested in the destination region: the source must be available; the copy is
   * refused past the per-destination limit; it is incremental when an earlier copy of the same database is
   * in this region, else full; it fails if its source is deleted before it completes.
   */
  private copySnapshot(r: Region, kind: 'rds-instance' | 'aurora-cluster', input: Record<string, unknown>) {
    const cluster = kind === 'aurora-cluster';
    const sourceArn = String(
      cluster ? input.SourceDBClusterSnapshotIdentifier : input.SourceDBSnapshotIdentifier,
    );
    const targetId = String(
      cluster ? input.TargetDBClusterSnapshotIdentifier : input.TargetDBSnapshotIdentifier,
    );
    const src = this.findByArn(sourceArn);
    if (!src || src.kind !== kind)
      throw awsError(
        cluster ? 'DBClusterSnapshotNotFoundFault' : 'DBSnapshotNotFoundFault',
        `snapshot ${sourceArn} not found`,
        404,
      );
    if (src.status !== 'available')
      throw awsError(
        cluster ? 'InvalidDBClusterSnapshotStateFault' : 'InvalidDBSnapshotStateFault',
        `snapshot ${sourceArn} is ${src.status}, not available`,
      );
    const c = this.snapshots(r.name, kind);
    if (c.byId.has(targetId))
      throw awsError(
        cluster ? 'DBClusterSnapshotAlreadyExistsFault' : 'DBSnapshotAlreadyExistsFault',
        `snapshot ${targetId} already exists`,
      );
    const limit = this.o.copiesPerDestination[kind];
    const inFlight = this.copiesInFlight(r.name, kind);
    if (inFlight.length >= limit)
      throw awsError(
        'SnapshotQuotaExceededFault',
        `Cannot copy snapshot: ${limit} snapshot copies are already in progress to ${r.name}`,
      );
    const now = this.clock.now;
    const previous = ofSource(c, src.sourceId).some((x) => x.copyOf && x.status === 'available');
    const db = this.region(src.region).databases.byId.get(src.sourceId);
    const gb = previous ? src.gb * (db?.dailyChange ?? 0.05) : src.gb;
    // An incremental copy waits for the copy of the same database ahead of it (it holds its slot meanwhile).
    const ahead = inFlight.filter((x) => x.sourceId === src.sourceId).map((x) => x.doneAt ?? now);
    const doneAt = Math.max(now, ...ahead) + this.o.copyMinutes(gb) * MINUTE;
    const copy: SnapshotRecord = {
      kind,
      id: targetId,
      arn: this.arn(kind, r.name, targetId),
      region: r.name,
      sourceId: src.sourceId,
      takenAt: src.takenAt,
      startedAt: now,
      status: 'copying',
      tags: { ...(input.CopyTags ? src.tags : {}), ...tagsFrom(input.Tags) },
      copyOf: { arn: src.arn, region: src.region },
      encrypted: src.encrypted,
      gb: src.gb,
      doneAt,
    };
    put(c, copy);
    this.copying.add(copy);
    this.clock.within(undefined, () =>
      this.clock.at(doneAt - now, () => {
        this.copying.delete(copy);
        if (c.byId.get(targetId) !== copy) return;
        const stillThere = this.findByArn(src.arn) === src;
        copy.status = stillThere ? 'available' : 'failed';
        this.o.onSnapshot?.(copy, copy.status === 'available' ? 'available' : 'failed');
        this.emit(
          r.name,
          copy,
          stillThere ? RDS_EVENTS.snapshotCopied : RDS_EVENTS.snapshotCopyFailed,
          stillThere
            ? `Finished the copy of the DB snapshot ${src.arn} from ${src.region}`
            : `Failed to copy the DB snapshot ${src.arn}: the source was deleted`,
        );
      }),
    );
    return cluster
      ? { DBClusterSnapshot: this.clusterSnapshotShape(copy) }
      : { DBSnapshot: this.dbSnapshotShape(copy) };
  }

  private deleteSnapshot(r: Region, kind: SimDatabase['kind'], id: string) {
    const c = this.snapshots(r.name, kind);
    const s = c.byId.get(id);
    if (!s)
      throw awsError(
        kind === 'rds-instance'
          ? 'DBSnapshotNotFoundFault'
          : kind === 'aurora-cluster'
            ? 'DBClusterSnapshotNotFoundFault'
            : 'SnapshotNotFoundFault',
        `snapshot ${id} not found`,
        404,
      );
    if (s.status !== 'available' && s.status !== 'failed')
      throw awsError(
        kind === 'rds-instance'
          ? 'InvalidDBSnapshotStateFault'
          : kind === 'aurora-cluster'
            ? 'InvalidDBClusterSnapshotStateFault'
            : 'InvalidSnapshotStateFault',
        `snapshot ${id} is ${s.status}`,
      );
    remove(c, id);
    this.o.onSnapshot?.(s, 'deleted');
    if (kind === 'elasticache') return { Snapshot: this.cacheSnapshotShape(s) };
    return kind === 'aurora-cluster'
      ? { DBClusterSnapshot: this.clusterSnapshotShape(s) }
      : { DBSnapshot: this.dbSnapshotShape(s) };
  }

  private tagsOf(r: Region, arn: string): Tags {
    const id = arn.split(':').at(-1) ?? '';
    const kind = arn.split(':')[5];
    if (kind === 'snapshot' && arn.startsWith('arn:aws:elasticache')) {
      const s = r.cacheSnapshots.byId.get(id);
      if (s) return s.tags;
    } else if (kind === 'snapshot' || kind === 'cluster-snapshot') {
      const s = this.findByArn(arn);
      if (s) return s.tags;
    } else {
      const db = r.databases.byId.get(id);
      if (db) return db.tags;
    }
    throw awsError(
      arn.startsWith('arn:aws:elasticache') ? 'InvalidARN' : 'DBSnapshotNotFoundFault',
      `${arn} not found`,
      404,
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // ElastiCache

  private describeGroups(r: Region, input: Record<string, unknown>) {
    const size = pageSize('DescribeReplicationGroups', input.MaxRecords);
    let all = ordered(r.databases).filter((d) => d.kind === 'elasticache');
    if (input.ReplicationGroupId) {
      all = all.filter((d) => d.id === input.ReplicationGroupId);
      if (!all.length)
        throw awsError('ReplicationGroupNotFoundFault', `${String(input.ReplicationGroupId)} not found`, 404);
    }
    const p = page(all, size, input.Marker);
    return {
      ReplicationGroups: p.items.map((d) => ({
        ReplicationGroupId: d.id,
        ARN: this.dbArn(d),
        Status: 'available',
        Engine: 'redis',
        AtRestEncryptionEnabled: true,
        SnapshotRetentionLimit: 1,
        SnapshotWindow: '05:00-06:00',
      })),
      ...(p.marker ? { Marker: p.marker } : {}),
    };
  }

  private cacheSnapshotShape(s: SnapshotRecord) {
    return this.shaped(s, () => ({
      SnapshotName: s.id,
      ARN: s.arn,
      ReplicationGroupId: s.sourceId,
      CacheClusterCreateTime: SOURCE_CREATED,
      SnapshotStatus: s.status,
      SnapshotSource: 'manual',
      Engine: 'redis',
      KmsKeyId: undefined,
      NodeSnapshots: [
        { CacheNodeId: '0001', SnapshotCreateTime: new Date(s.takenAt), CacheSize: `${s.gb} GB` },
      ],
    }));
  }

  private describeCacheSnapshots(r: Region, input: Record<string, unknown>) {
    const size = pageSize('DescribeSnapshots', input.MaxRecords);
    let all = ordered(r.cacheSnapshots);
    if (input.SnapshotName) {
      all = all.filter((s) => s.id === input.SnapshotName);
      if (!all.length)
        throw awsError('SnapshotNotFoundFault', `${String(input.SnapshotName)} not found`, 404);
    }
    if (input.ReplicationGroupId) all = all.filter((s) => s.sourceId === input.ReplicationGroupId);
    // The request says `user` | `system`; every simulated cache snapshot is a user (manual) one.
    if (input.SnapshotSource === 'system') all = [];
    const p = page(all, size, input.Marker);
    return {
      Snapshots: p.items.map((s) => this.cacheSnapshotShape(s)),
      ...(p.marker ? { Marker: p.marker } : {}),
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // Resource Groups Tagging API: GetResources over the snapshots, by resource type and tag filters.

  private getResources(r: Region, input: Record<string, unknown>) {
    const size = Number(input.ResourcesPerPage ?? 100);
    if (!Number.isInteger(size) || size < 1 || size > 100)
      throw awsError('InvalidParameterException', 'ResourcesPerPage must be between 1 and 100');
    const types = (input.ResourceTypeFilters as string[] | undefined) ?? [];
    const filters = (input.TagFilters as { Key: string; Values?: string[] }[] | undefined) ?? [];
    const typeOf = (s: SnapshotRecord) =>
      s.kind === 'elasticache'
        ? 'elasticache:snapshot'
        : s.kind === 'aurora-cluster'
          ? 'rds:cluster-snapshot'
          : 'rds:snapshot';
    const all = [
      ...ordered(r.cacheSnapshots),
      ...ordered(r.dbSnapshots),
      ...ordered(r.clusterSnapshots),
    ].filter(
      (s) =>
        (!types.length || types.some((t) => t === typeOf(s) || t === typeOf(s).split(':')[0])) &&
        filters.every((f) => f.Key in s.tags && (!f.Values?.length || f.Values.includes(s.tags[f.Key]!))),
    );
    const p = page(all, size, input.PaginationToken || undefined);
    return {
      ResourceTagMappingList: p.items.map((s) => ({ ResourceARN: s.arn, Tags: tagList(s.tags) })),
      PaginationToken: p.marker ?? '',
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // DynamoDB (the state table): items keyed by `pk`, the expressions steward writes.

  private table(r: Region, input: Record<string, unknown>) {
    const name = String(input.TableName);
    let t = r.tables.get(name);
    if (!t) r.tables.set(name, (t = new Map()));
    return t;
  }

  private getItem(r: Region, input: Record<string, unknown>) {
    const item = this.table(r, input).get(keyOf(input.Key));
    return item ? { Item: item } : {};
  }

  /** BatchGetItem: every key of every table answered at once (the fake never leaves keys unprocessed). */
  private batchGetItem(r: Region, input: Record<string, unknown>) {
    const Responses: Record<string, Record<string, unknown>[]> = {};
    for (const [name, req] of Object.entries(input.RequestItems as Record<string, { Keys: unknown[] }>)) {
      const t = this.table(r, { TableName: name });
      Responses[name] = req.Keys.map((k) => t.get(keyOf(k))).filter((i) => i !== undefined);
    }
    return { Responses, UnprocessedKeys: {} };
  }

  private putItem(r: Region, input: Record<string, unknown>) {
    const t = this.table(r, input);
    const item = input.Item as Record<string, unknown>;
    const k = keyOf({ pk: item.pk });
    checkCondition(t.get(k), input);
    t.set(k, item);
    return {};
  }

  private deleteItem(r: Region, input: Record<string, unknown>) {
    const t = this.table(r, input);
    const k = keyOf(input.Key);
    checkCondition(t.get(k), input);
    t.delete(k);
    return {};
  }

  private updateItem(r: Region, input: Record<string, unknown>) {
    const t = this.table(r, input);
    const k = keyOf(input.Key);
    const current = t.get(k);
    checkCondition(current, input);
    const item: Record<string, unknown> = structuredClone(current ?? (input.Key as Record<string, unknown>));
    applyUpdate(item, input);
    t.set(k, item);
    return input.ReturnValues === 'ALL_NEW' ? { Attributes: structuredClone(item) } : {};
  }

  // ---------------------------------------------------------------------------------------------------

  private emit(region: string, s: SnapshotRecord, eventId: string, message: string): void {
    if (!this.o.onEvent) return;
    const at = new Date(this.clock.now).toISOString();
    const cluster = s.kind === 'aurora-cluster';
    this.o.onEvent({
      version: '0',
      id: `sim-${++this.eventSeq}`,
      'detail-type': cluster ? 'RDS DB Cluster Snapshot Event' : 'RDS DB Snapshot Event',
      source: 'aws.rds',
      account: this.account,
      time: at.replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: [s.arn],
      detail: {
        EventCategories: [eventId === RDS_EVENTS.snapshotCopyFailed ? 'failure' : 'creation'],
        SourceType: cluster ? 'CLUSTER_SNAPSHOT' : 'SNAPSHOT',
        SourceArn: s.arn,
        Date: at,
        SourceIdentifier: s.id,
        Message: message,
        EventID: eventId,
      },
    });
  }
}

// --- DynamoDB marshalled values and the expressions steward uses ------------------------------------------

type Attr = {
  S?: string;
  N?: string;
  BOOL?: boolean;
  NULL?: boolean;
  SS?: string[];
  NS?: string[];
  L?: Attr[];
  M?: Record<string, Attr>;
};

/** What the middleware sees of the SDK's handler context. */
interface HandlerContext {
  commandName?: string;
  /** Set by the document client's marshalling middleware (`DDB_MAPPER`). */
  __aws_sdk_context?: { features?: Record<string, string> };
}

/** A DynamoDB attribute value as plain JavaScript, as the document client returns it. */
const plain = (a: Attr): unknown => {
  if (a.S !== undefined) return a.S;
  if (a.N !== undefined) return Number(a.N);
  if (a.BOOL !== undefined) return a.BOOL;
  if (a.NULL) return null;
  if (a.SS) return new Set(a.SS);
  if (a.NS) return new Set(a.NS.map(Number));
  if (a.L) return a.L.map(plain);
  return a.M ? plainItem(a.M) : undefined;
};

const plainItem = (m: Record<string, Attr>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k, plain(v)]));

/** A response as the document client gives it back: Item, Attributes and Items unmarshalled. */
const unmarshallOutput = (out: Record<string, unknown>): Record<string, unknown> => ({
  ...out,
  ...(out.Item ? { Item: plainItem(out.Item as Record<string, Attr>) } : {}),
  ...(out.Attributes ? { Attributes: plainItem(out.Attributes as Record<string, Attr>) } : {}),
  ...(out.Items ? { Items: (out.Items as Record<string, Attr>[]).map(plainItem) } : {}),
});

const keyOf = (key: unknown): string => JSON.stringify((key as Record<string, Attr>).pk ?? key);

const num = (a: Attr | undefined): number | undefined => (a?.N !== undefined ? Number(a.N) : undefined);

const same = (a: Attr | undefined, b: Attr | undefined): boolean => JSON.stringify(a) === JSON.stringify(b);

const resolveName = (token: string, input: Record<string, unknown>): string =>
  token.startsWith('#') ? String((input.ExpressionAttributeNames as Record<string, string>)[token]) : token;

const resolveValue = (
  token: string,
  item: Record<string, unknown> | undefined,
  input: Record<string, unknown>,
): Attr | undefined =>
  token.startsWith(':')
    ? (input.ExpressionAttributeValues as Record<string, Attr>)[token]
    : (item?.[resolveName(token, input)] as Attr | undefined);

/** ConditionExpression: `a AND b`, `a OR b`, comparisons, attribute_exists / attribute_not_exists. */
const checkCondition = (item: Record<string, unknown> | undefined, input: Record<string, unknown>): void => {
  const expr = input.ConditionExpression as string | undefined;
  if (!expr) return;
  const holds = expr.split(/\s+OR\s+/i).some((alt) =>
    alt.split(/\s+AND\s+/i).every((raw) => {
      const t = raw.trim();
      const c = /^\(.*\)$/.test(t) && !/^\w+\(/.test(t) ? t.slice(1, -1).trim() : t;
      const fn = /^(attribute_exists|attribute_not_exists)\(\s*([#\w]+)\s*\)$/.exec(c);
      if (fn) {
        const present = item !== undefined && item[resolveName(fn[2]!, input)] !== undefined;
        return fn[1] === 'attribute_exists' ? present : !present;
      }
      const cmp = /^([#:\w]+)\s*(=|<>|<=|>=|<|>)\s*([#:\w]+)$/.exec(c);
      if (!cmp) throw new Error(`the simulated DynamoDB cannot evaluate the condition "${c}"`);
      const [, l, o, rr] = cmp;
      const a = resolveValue(l!, item, input);
      const b = resolveValue(rr!, item, input);
      if (o === '=') return a !== undefined && same(a, b);
      if (o === '<>') return !same(a, b);
      const x = num(a);
      const y = num(b);
      if (x === undefined || y === undefined) return false;
      return o === '<' ? x < y : o === '<=' ? x <= y : o === '>' ? x > y : x >= y;
    }),
  );
  if (!holds) throw awsError('ConditionalCheckFailedException', 'The conditional request failed');
};

/** UpdateExpression: `SET a = v, b = b + v, c = if_not_exists(c, v)` and `REMOVE a, b`. */
const applyUpdate = (item: Record<string, unknown>, input: Record<string, unknown>): void => {
  const expr = String(input.UpdateExpression ?? '');
  const parts = expr
    .split(/\b(SET|REMOVE)\b/i)
    .map((s) => s.trim())
    .filter(Boolean);
  for (let i = 0; i < parts.length; i += 2) {
    const verb = parts[i]!.toUpperCase();
    const body = parts[i + 1] ?? '';
    for (const clause of body
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (verb === 'REMOVE') {
        delete item[resolveName(clause, input)];
        continue;
      }
      const [lhs, rhs] = clause.split('=').map((s) => s.trim()) as [string, string];
      const name = resolveName(lhs, input);
      const ine = /^if_not_exists\(\s*([#\w]+)\s*,\s*([:\w]+)\s*\)$/.exec(rhs);
      const arith = /^([#:\w]+)\s*([+-])\s*([#:\w]+)$/.exec(rhs);
      if (ine) item[name] = item[resolveName(ine[1]!, input)] ?? resolveValue(ine[2]!, item, input);
      else if (arith) {
        const a = num(resolveValue(arith[1]!, item, input)) ?? 0;
        const b = num(resolveValue(arith[3]!, item, input)) ?? 0;
        item[name] = { N: String(arith[2] === '+' ? a + b : a - b) };
      } else item[name] = resolveValue(rhs, item, input);
    }
  }
};

export { DAY_MS, MINUTE };
