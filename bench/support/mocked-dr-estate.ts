import {
  CopyDBSnapshotCommand,
  type CopyDBSnapshotCommandInput,
  type DBSnapshot,
  DescribeAccountAttributesCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  type DescribeDBSnapshotsCommandInput,
  RDSClient,
} from '@aws-sdk/client-rds';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

// The RDS DB snapshots of two regions and the state table's DR copy queue, as AWS keeps them, behind
// aws-sdk-client-mock: what the backup function's DR copy reconcile reads and writes. Shared by the
// handler tests (test/functions/backup/dr-events.test.ts) and the `dr-copies` bench, so both measure the
// same AWS. Cluster snapshots are not modelled (every DescribeDBClusterSnapshots answers an empty page).

/** The mocked account's regions: snapshots by region, and the one queue item (undefined until written). */
export interface DrEstateState {
  regions: Record<string, DBSnapshot[]>;
  item?: Record<string, unknown>;
}

const stubs = () => ({ rds: mockClient(RDSClient), ddb: mockClient(DynamoDBDocumentClient) });
/** `mockClient(RDSClient)`. */
export type RdsStub = ReturnType<typeof stubs>['rds'];
/** `mockClient(DynamoDBDocumentClient)`. */
export type DocumentStub = ReturnType<typeof stubs>['ddb'];

export interface MockedDrEstate {
  state: DrEstateState;
  rds: RdsStub;
  ddb: DocumentStub;
  /** Requests so far: RDS, DynamoDB, DescribeDBSnapshots, and of those the listings (no identifier named). */
  calls(): { rds: number; dynamodb: number; describes: number; listings: number };
  /** The target ids of every CopyDBSnapshot request, in order. */
  copied(): string[];
  /** A copy in `region` completes: its status becomes `available`. */
  finish(region: string, id: string): void;
  /** Forget the requests so far (the state stays). */
  resetHistory(): void;
}

const PAGE = 100;
/** The mocked account's manual snapshot quotas per region (raised: 500 databases keep 30 days each). */
const MANUAL_SNAPSHOT_QUOTA = 100_000;

const regionOf = async (getClient: () => { config: { region: unknown } }) =>
  (await (getClient().config.region as () => Promise<string>)()) as string;

/** An RDS error as the SDK raises it. */
const fault = (name: string, message: string) =>
  Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 404 } });

/** The ARN of a DB snapshot in the mocked account. */
export const dbSnapshotArn = (region: string, id: string, account = '111122223333'): string =>
  `arn:aws:rds:${region}:${account}:snapshot:${id}`;

/**
 * DescribeDBSnapshots as RDS answers it: a named snapshot (`DBSnapshotIdentifier`; missing is
 * DBSnapshotNotFoundFault), else every snapshot matching `DBInstanceIdentifier`, `SnapshotType` and the
 * `db-snapshot-id`, `db-instance-id` and `snapshot-type` filters, in pages of `MaxRecords` behind a Marker.
 */
const describe = (all: readonly DBSnapshot[], input: DescribeDBSnapshotsCommandInput) => {
  if (input.DBSnapshotIdentifier) {
    const s = all.find((x) => x.DBSnapshotIdentifier === input.DBSnapshotIdentifier);
    if (!s) throw fault('DBSnapshotNotFoundFault', `DBSnapshot ${input.DBSnapshotIdentifier} not found.`);
    return { DBSnapshots: [s] };
  }
  const filter = (name: string) => input.Filters?.find((f) => f.Name === name)?.Values;
  const ids = filter('db-snapshot-id');
  const dbs = filter('db-instance-id');
  const types = filter('snapshot-type');
  const matched = all.filter(
    (s) =>
      (!input.DBInstanceIdentifier || s.DBInstanceIdentifier === input.DBInstanceIdentifier) &&
      (!input.SnapshotType || s.SnapshotType === input.SnapshotType) &&
      (!ids || ids.includes(s.DBSnapshotIdentifier!)) &&
      (!dbs || dbs.includes(s.DBInstanceIdentifier!)) &&
      (!types || types.includes(s.SnapshotType!)),
  );
  const from = Number(input.Marker ?? 0);
  const size = input.MaxRecords ?? PAGE;
  return {
    DBSnapshots: matched.slice(from, from + size),
    ...(from + size < matched.length ? { Marker: String(from + size) } : {}),
  };
};

/**
 * Put the estate behind `rds` and `ddb` (stubs from `mockClient`, reset by the caller when it likes): the
 * describes above; CopyDBSnapshot in the destination region adds a `pending` manual snapshot with the
 * target's identifier, ARN and the request's tags, keeping the source's database and data time; the queue
 * item is written only on the version read, as DynamoDB's condition enforces.
 */
export const installDrEstate = (state: DrEstateState, rds: RdsStub, ddb: DocumentStub): MockedDrEstate => {
  rds
    .on(DescribeDBSnapshotsCommand)
    .callsFake(async (input: DescribeDBSnapshotsCommandInput, getClient) =>
      describe(state.regions[await regionOf(getClient)] ?? [], input),
    );
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
  // The DR copy guard's quota read: every manual snapshot of the region counts, under a quota raised as an
  // estate this size needs (the default is 100 a region).
  rds.on(DescribeAccountAttributesCommand).callsFake(async (_input: unknown, getClient) => {
    const all = state.regions[await regionOf(getClient)] ?? [];
    const used = all.filter((s) => s.SnapshotType === 'manual').length;
    return {
      AccountQuotas: [
        { AccountQuotaName: 'ManualSnapshots', Used: used, Max: MANUAL_SNAPSHOT_QUOTA },
        { AccountQuotaName: 'ManualClusterSnapshots', Used: 0, Max: MANUAL_SNAPSHOT_QUOTA },
      ],
    };
  });
  rds.on(CopyDBSnapshotCommand).callsFake(async (input: CopyDBSnapshotCommandInput, getClient) => {
    const region = await regionOf(getClient);
    const sourceRegion = input.SourceDBSnapshotIdentifier!.split(':')[3]!;
    const source = state.regions[sourceRegion]?.find(
      (s) => s.DBSnapshotArn === input.SourceDBSnapshotIdentifier,
    );
    if (!source) throw fault('DBSnapshotNotFoundFault', `${input.SourceDBSnapshotIdentifier} not found.`);
    const target = input.TargetDBSnapshotIdentifier!;
    if (state.regions[region]?.some((s) => s.DBSnapshotIdentifier === target))
      throw fault('DBSnapshotAlreadyExistsFault', `${target} already exists.`);
    const copy: DBSnapshot = {
      ...source,
      DBSnapshotIdentifier: target,
      DBSnapshotArn: dbSnapshotArn(region, target, source.DBSnapshotArn!.split(':')[4]),
      SourceRegion: sourceRegion,
      OriginalSnapshotCreateTime: source.OriginalSnapshotCreateTime ?? source.SnapshotCreateTime,
      Status: 'pending',
      SnapshotType: 'manual',
      TagList: input.Tags ?? [],
    };
    (state.regions[region] ??= []).push(copy);
    return { DBSnapshot: copy };
  });
  ddb.on(GetCommand).callsFake(async () => (state.item ? { Item: structuredClone(state.item) } : {}));
  ddb
    .on(PutCommand)
    .callsFake(
      async (input: {
        Item: Record<string, unknown>;
        ExpressionAttributeValues?: Record<string, unknown>;
      }) => {
        const seen = input.ExpressionAttributeValues?.[':seen'];
        if (seen === undefined ? state.item !== undefined : state.item?.version !== seen)
          throw Object.assign(new Error('The conditional request failed'), {
            name: 'ConditionalCheckFailedException',
          });
        state.item = structuredClone(input.Item);
        return {};
      },
    );
  const describes = () => rds.commandCalls(DescribeDBSnapshotsCommand).map((c) => c.args[0].input);
  return {
    state,
    rds,
    ddb,
    calls: () => ({
      rds: rds.calls().length,
      dynamodb: ddb.calls().length,
      describes: describes().length,
      listings: describes().filter((i) => !i.DBSnapshotIdentifier && !i.DBInstanceIdentifier && !i.Filters)
        .length,
    }),
    copied: () =>
      rds.commandCalls(CopyDBSnapshotCommand).map((c) => c.args[0].input.TargetDBSnapshotIdentifier!),
    finish: (region, id) => {
      const copy = state.regions[region]?.find((s) => s.DBSnapshotIdentifier === id);
      if (!copy) throw new Error(`no snapshot ${id} in ${region}`);
      copy.Status = 'available';
    },
    resetHistory: () => {
      rds.resetHistory();
      ddb.resetHistory();
    },
  };
};

/** A mocked estate on fresh stubs of its own (the bench); `restore` gives the clients back their AWS. */
export const mockDrEstate = (state: DrEstateState): MockedDrEstate & { restore(): void } => {
  const { rds, ddb } = stubs();
  return {
    ...installDrEstate(state, rds, ddb),
    restore: () => {
      rds.restore();
      ddb.restore();
    },
  };
};
