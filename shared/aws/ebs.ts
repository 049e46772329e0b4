import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  CreateSnapshotsCommand,
  DeleteSnapshotCommand,
  type EC2Client,
  type Filter,
  type Instance,
  paginateDescribeInstances,
  paginateDescribeSnapshots,
  paginateDescribeVolumes,
  type Snapshot as Ec2Snapshot,
  type Volume,
} from '@aws-sdk/client-ec2';
import { backsUpEbs } from '../backup/kinds.js';
import type { SnapshotAround, SnapshotReader } from '../backup/ports.js';
import { AwsCallError, errorName } from '../errors.js';
import type {
  CopySnapshotInput,
  CreateSnapshotInput,
  Database,
  EbsPart,
  Snapshot,
  SnapshotType,
} from '../model.js';
import { Tag, tagList, tagRecord, type Tags } from '../tags.js';
import { attempt } from './call.js';
import { collectPages } from './pages.js';

// The factory of the client this adapter sends through, for the callers that load this module on first use:
// the client's code then loads with the adapter that uses it, never before (test/infra/bundles.test.ts).
export { ec2Client } from './clients/ec2.js';

/**
 * Page sizes: DescribeInstances and DescribeSnapshots take MaxResults 5–1000, DescribeVolumes 5–500
 * (EC2 API reference). Filters select server side, so a page only carries what steward protects.
 */
const INSTANCE_PAGE = 1000;
const VOLUME_PAGE = 500;
const SNAPSHOT_PAGE = 1000;

/** Whether any backup policy backs EBS up: the report reads EC2 only then. */
export { backsUpEbs };

/** Set ids per DescribeSnapshots filter (`tag:steward:set` values): small, like the RDS reader's. */
export const SET_IDS_PER_REQUEST = 20;

/** Instance states whose volumes can be snapshotted; CreateSnapshots works on a running or stopped instance. */
const SNAPSHOTTABLE_INSTANCE = new Set(['running', 'stopped']);
/** Volume states that can be snapshotted: attached (`in-use`) or not (`available`). */
const SNAPSHOTTABLE_VOLUME = new Set(['in-use', 'available']);

const partitionOf = (region: string) =>
  region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';

/**
 * The identifier steward gives a snapshot set. EBS has no set resource and so no ARN; this names the set
 * in reports, copy tags (`steward:copied-from`) and the copy queue, and is never sent to AWS as an ARN.
 */
export const setArn = (region: string, account: string, setId: string): string =>
  `arn:${partitionOf(region)}:ec2:${region}:${account}:snapshot-set/${setId}`;

/** The region a set's identifier names (a copy's source region). */
export const regionOfSetArn = (arn: string): string | undefined => arn.split(':')[3] || undefined;

/** An EC2 instance tagged for backup as a target: all its attached EBS volumes, one set. */
export const fromInstance = (i: Instance, region: string, account: string): Database => {
  const state = i.State?.Name ?? 'unknown';
  const volumes = (i.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs?.VolumeId ? [m.Ebs.VolumeId] : []));
  return {
    kind: 'ebs',
    id: i.InstanceId ?? '',
    arn: `arn:${partitionOf(region)}:ec2:${region}:${account}:instance/${i.InstanceId ?? ''}`,
    region,
    engine: 'ec2-instance',
    // `available` is what the backup plan acts on; any other state is reported as it is.
    status: SNAPSHOTTABLE_INSTANCE.has(state) ? 'available' : state,
    tags: tagRecord(i.Tags),
    encrypted: undefined,
    ebs: { volumes },
  };
};

/** An EBS volume tagged for backup on its own as a target (a set of one). */
export const fromVolume = (v: Volume, region: string, account: string): Database => {
  const state = v.State ?? 'unknown';
  const attachedTo = v.Attachments?.find((a) => a.InstanceId)?.InstanceId;
  return {
    kind: 'ebs',
    id: v.VolumeId ?? '',
    arn: `arn:${partitionOf(region)}:ec2:${region}:${account}:volume/${v.VolumeId ?? ''}`,
    region,
    engine: 'ebs-volume',
    status: SNAPSHOTTABLE_VOLUME.has(state) ? 'available' : state,
    tags: tagRecord(v.Tags),
    ...(v.Encrypted !== undefined ? { encrypted: v.Encrypted } : {}),
    ...(v.CreateTime ? { createdAt: v.CreateTime.toISOString() } : {}),
    ebs: { volumes: v.VolumeId ? [v.VolumeId] : [], ...(attachedTo ? { attachedTo } : {}) },
  };
};

// Snapshots AWS services make, which steward never owns or deletes, whatever tags were copied onto them:
// - AWS Backup: system tags `aws:backup:*` on its recovery points, and the description "This snapshot is
//   created by the AWS Backup service" (AWS Backup Developer Guide, "Copying tags onto backups").
// - Data Lifecycle Manager: system tags `aws:dlm:*` (EBS User Guide, "Identify snapshots created with Data
//   Lifecycle Manager": aws:dlm:lifecycle-policy-id, aws:dlm:pre-script, ...).
// - AMI registration: CreateImage's and CopyImage's snapshots are described "Created by CreateImage(i-...)
//   for ami-..." / "Copied for DestinationAmi ami-..."; an AMI's snapshot cannot be deleted while it is
//   registered (InvalidSnapshot.InUse).
const AWS_BACKUP_DESCRIPTION = /created by the AWS Backup service/i;
const AMI_DESCRIPTION = /^(Created by CreateImage\(|Copied for DestinationAmi )/;

/** Whose a snapshot is: `awsbackup`, `automated` (DLM or an AMI's), or `manual` (anyone's own, steward's among them). */
export const ebsSnapshotType = (s: Pick<Ec2Snapshot, 'Tags' | 'Description'>): SnapshotType => {
  const keys = (s.Tags ?? []).map((t) => t.Key ?? '');
  if (keys.some((k) => k.startsWith('aws:backup:')) || AWS_BACKUP_DESCRIPTION.test(s.Description ?? ''))
    return 'awsbackup';
  if (keys.some((k) => k.startsWith('aws:dlm:')) || AMI_DESCRIPTION.test(s.Description ?? ''))
    return 'automated';
  return 'manual';
};

/**
 * What steward describes a set's parts with: `steward <set>` when it takes them, `steward <set> copy of <part>`
 * when it copies them (createSnapshot, copySnapshot). A description is given when a snapshot is made and never
 * changes (EC2 has no call to change it), so it tells steward's parts from a copy someone made with the tags
 * copied (the console's "Copy tags": its copy is described "[Copied snap-… from <region>] <description>", and
 * CopySnapshot without one leaves it empty). Such a copy carries `steward:set` but is no part of the set.
 */
const OWN_DESCRIPTION = /^steward (\S+)(?: copy of \S+)?$/;

/** Whether steward made this snapshot as a part of set `setId` (its create-time description says so). */
export const madeBySteward = (s: Pick<Ec2Snapshot, 'Description'>, setId: string): boolean =>
  OWN_DESCRIPTION.exec(s.Description ?? '')?.[1] === setId;

const TYPE_ORDER: readonly SnapshotType[] = ['awsbackup', 'automated', 'shared', 'public', 'manual'];

const iso = (d: Date | undefined) => d?.toISOString();

/**
 * A set's state from its parts: `failed` when a part failed, `creating`/`copying` while a part is pending,
 * `incomplete` when fewer parts exist than `steward:set-size` says (a run stopped between copies; the next
 * copy completes it), `available` when every part is completed.
 */
const setStatus = (parts: readonly EbsPart[], size: number, copy: boolean): string => {
  if (parts.some((p) => p.state === 'error')) return 'failed';
  if (parts.some((p) => p.state === 'pending')) return copy ? 'copying' : 'creating';
  if (parts.length < size) return 'incomplete';
  const other = parts.find((p) => p.state !== 'completed');
  return other ? other.state : 'available';
};

/**
 * Group EBS snapshots into steward's snapshot sets (by `steward:set`): one `Snapshot` per set, which
 * retention keeps or deletes as a unit and the DR copy copies whole. Its time is the set's point in time
 * (its parts' earliest start; a copy's `steward:taken-at`, the source's), not when a copy was made. A snapshot
 * steward did not make (madeBySteward) is left out whatever its tags: never counted, copied or deleted.
 */
export const setsOf = (snapshots: readonly Ec2Snapshot[], region: string): Snapshot[] => {
  const groups = new Map<string, Ec2Snapshot[]>();
  for (const s of snapshots) {
    const id = s.Tags?.find((t) => t.Key === Tag.set)?.Value;
    if (!id || !s.SnapshotId || !madeBySteward(s, id)) continue;
    const g = groups.get(id);
    if (g) g.push(s);
    else groups.set(id, [s]);
  }
  return [...groups.entries()].map(([id, members]) => {
    members.sort((a, b) => (a.SnapshotId! < b.SnapshotId! ? -1 : 1));
    const tags: Tags = tagRecord(members[0]!.Tags);
    delete tags[Tag.volume];
    // A hold or a later retain-until on any part holds the whole set: retention deletes a set whole, and IAM
    // refuses to delete a held part.
    for (const m of members.slice(1)) {
      const own = tagRecord(m.Tags);
      const hold = own[Tag.hold];
      if (hold !== undefined && tags[Tag.hold] === undefined) tags[Tag.hold] = hold;
      const until = own[Tag.retainUntil];
      const current = tags[Tag.retainUntil];
      if (until !== undefined && (current === undefined || until > current)) tags[Tag.retainUntil] = until;
    }
    const copy = tags[Tag.copiedFrom] !== undefined;
    const parts: EbsPart[] = members.map((m) => {
      const own = tagRecord(m.Tags);
      return {
        id: m.SnapshotId!,
        // A copy's VolumeId is arbitrary (EC2 API reference, CopySnapshot): its source's is in steward:volume.
        volumeId: own[Tag.volume] ?? m.VolumeId ?? '',
        state: m.State ?? 'unknown',
        ...(m.StartTime ? { startedAt: m.StartTime.toISOString() } : {}),
        ...(m.Encrypted !== undefined ? { encrypted: m.Encrypted } : {}),
      };
    });
    const started = members.map((m) => m.StartTime?.getTime()).filter((t): t is number => t !== undefined);
    const earliest = started.length ? new Date(Math.min(...started)) : undefined;
    const takenAt = tags[Tag.takenAt];
    const createdAt = copy && takenAt && Number.isFinite(Date.parse(takenAt)) ? takenAt : iso(earliest);
    const size = Number.parseInt(tags[Tag.setSize] ?? '', 10);
    const types = members.map(ebsSnapshotType);
    const account = members[0]!.OwnerId ?? '';
    const from = tags[Tag.copiedFrom];
    return {
      kind: 'ebs',
      id,
      arn: setArn(region, account, id),
      region,
      sourceId: tags[Tag.source] ?? parts[0]!.volumeId,
      ...(createdAt ? { createdAt } : {}),
      status: setStatus(parts, Number.isFinite(size) ? size : parts.length, copy),
      // One part made by an AWS service makes the whole set not ours.
      type: TYPE_ORDER.find((t) => types.includes(t)) ?? 'manual',
      tags,
      encrypted: parts.some((p) => p.encrypted === true),
      ...(copy && from ? { sourceRegion: regionOfSetArn(from) ?? region } : {}),
      ...(copy && earliest ? { copiedAt: earliest.toISOString() } : {}),
      parts,
    } satisfies Snapshot;
  });
};

/**
 * The sets steward holds in one region, listed and deleted: all retention runs. A factory of its own because
 * esbuild keeps every member of an object a bundle builds: a bundle that calls only this one (retention) leaves
 * `ebsBackup`'s targets, set writers and their EC2 commands out.
 */
export const ebsSetStore = (region: string, ec2: EC2Client) => {
  /** The account's own snapshots in steward sets, filtered by `Filters`, every page, as sets. */
  const describeSets = (Filters: Filter[], what: string): Promise<Snapshot[]> =>
    collectPages(
      paginateDescribeSnapshots(
        { client: ec2, pageSize: SNAPSHOT_PAGE },
        // Only the account's own snapshots, and only those of a steward set (server-side tag filters).
        { OwnerIds: ['self'], Filters: [{ Name: 'tag-key', Values: [Tag.set] }, ...Filters] },
      ),
      (p) => p.Snapshots,
      (s) => s,
      'DescribeSnapshots',
      `${what} in ${region}`,
    ).then((snaps) => setsOf(snaps, region));

  /**
   * Delete a snapshot set: every part (the listed ones, or those its tag finds now), each tried even when
   * another fails, so one refusal leaves no more of the set behind than it must; the first failure is then
   * thrown. A part already gone counts as deleted; the set is `already-gone` only when every part was.
   */
  const removeSet = async (s: Pick<Snapshot, 'id' | 'parts'>): Promise<'deleted' | 'already-gone'> => {
    const parts =
      s.parts ??
      (await describeSets([{ Name: `tag:${Tag.set}`, Values: [s.id] }], `set ${s.id}`)).flatMap(
        (x) => x.parts ?? [],
      );
    let deleted = 0;
    const failures: unknown[] = [];
    for (const p of parts) {
      try {
        const r = await attempt(
          'DeleteSnapshot',
          `ebs snapshot ${p.id} (set ${s.id}) in ${region}`,
          () => ec2.send(new DeleteSnapshotCommand({ SnapshotId: p.id })),
          { gone: ['InvalidSnapshot.NotFound'] },
        );
        if (r.ok) deleted++;
      } catch (e) {
        failures.push(e);
      }
    }
    if (failures.length) throw failures[0];
    return deleted ? 'deleted' : 'already-gone';
  };

  /** Every snapshot set steward holds in this region (any state), with what AWS services made marked. */
  const listSets = () => describeSets([], 'ebs snapshot sets');

  return { region, listSets, removeSet, describeSets };
};

/** The EBS sets of one region as retention keeps them: listed and deleted. */
export type EbsSetStore = Pick<ReturnType<typeof ebsSetStore>, 'listSets' | 'removeSet'>;

/**
 * The EBS side of backups in one region: tagged instances and volumes as targets, crash-consistent snapshot
 * sets (CreateSnapshots for an instance, CreateSnapshot for a volume), cross-region copies of sets, and the
 * sets steward holds, as plain data.
 */
export const ebsBackup = (region: string, ec2: EC2Client) => {
  const { listSets, removeSet, describeSets } = ebsSetStore(region, ec2);

  /** The sets among `ids` that exist, `SET_IDS_PER_REQUEST` ids a request (one for a run of 20 instances). */
  const someSets = async (ids: readonly string[]): Promise<Snapshot[]> => {
    const out: Snapshot[] = [];
    for (let i = 0; i < ids.length; i += SET_IDS_PER_REQUEST) {
      const Values = ids.slice(i, i + SET_IDS_PER_REQUEST);
      out.push(
        ...(await describeSets([{ Name: `tag:${Tag.set}`, Values }], `${Values.length} snapshot sets`)),
      );
    }
    return out;
  };
  const takenSets = async (ids: readonly string[]) => new Set((await someSets(ids)).map((s) => s.id));

  /** Instances and volumes tagged `steward:backup` (any value), server-side filtered, every page. */
  const listTargets = async (): Promise<Database[]> => {
    const tagged: Filter = { Name: 'tag-key', Values: [Tag.backup] };
    const [instances, volumes] = await Promise.all([
      collectPages(
        paginateDescribeInstances(
          { client: ec2, pageSize: INSTANCE_PAGE },
          // Terminated instances stay listed for about an hour: they have nothing left to snapshot.
          {
            Filters: [
              tagged,
              { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
            ],
          },
        ),
        (p) =>
          (p.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => ({ i, owner: r.OwnerId }))),
        (x) => x,
        'DescribeInstances',
        `instances tagged ${Tag.backup} in ${region}`,
      ),
      collectPages(
        paginateDescribeVolumes({ client: ec2, pageSize: VOLUME_PAGE }, { Filters: [tagged] }),
        (p) => p.Volumes,
        (v) => v,
        'DescribeVolumes',
        `volumes tagged ${Tag.backup} in ${region}`,
      ),
    ]);
    const account = instances.find((x) => x.owner)?.owner ?? '';
    return [
      ...instances.map(({ i, owner }) => fromInstance(i, region, owner ?? account)),
      ...volumes.map((v) => fromVolume(v, region, account)),
    ];
  };

  /** Which EBS quota a refusal hit, in words (EBS User Guide, "Quotas for Amazon EBS"). */
  const explainCreate = (target: string) => (e: unknown) => {
    const name = errorName(e);
    if (name === 'SnapshotCreationPerVolumeRateExceeded')
      return new AwsCallError(
        'CreateSnapshots',
        `${target}: a volume already has the most concurrent snapshots EBS allows (5 for most types, 1 for sc1/st1); the next run retries`,
        e,
      );
    if (name === 'SnapshotLimitExceeded' || name === 'ResourceLimitExceeded')
      return new AwsCallError(
        'CreateSnapshots',
        `${target}: the account's EBS snapshot quota for ${region} is reached (Service Quotas, "Snapshots per Region")`,
        e,
      );
    return undefined;
  };

  /**
   * Take one snapshot set, unless the set of this slot exists already (a retry, an overlapping run): EBS
   * snapshot ids are AWS's, so the deterministic id is the `steward:set` tag, looked up first. An instance's
   * volumes are taken together at one point in time (CreateSnapshots: crash-consistent across volumes); a
   * volume alone by CreateSnapshot. Tags are applied on creation (TagSpecifications), so no snapshot of ours
   * is ever untagged. `around` wraps only the create call (application consistency; see SnapshotAround).
   */
  const createSnapshot = async (
    input: CreateSnapshotInput,
    around?: SnapshotAround,
    checked = false,
  ): Promise<'created' | 'already-done'> => {
    if (input.kind !== 'ebs') throw new TypeError('the EBS adapter snapshots EBS only');
    if (!checked && (await takenSets([input.snapshotId])).size) return 'already-done';
    const TagSpecifications = [{ ResourceType: 'snapshot' as const, Tags: tagList(input.tags) }];
    const Description = `steward ${input.snapshotId}`;
    const target = `ebs ${input.dbId} (set ${input.snapshotId}) in ${region}`;
    const instance = input.dbId.startsWith('i-');
    const take = async () => {
      await attempt(
        instance ? 'CreateSnapshots' : 'CreateSnapshot',
        target,
        () =>
          instance
            ? ec2.send(
                new CreateSnapshotsCommand({
                  InstanceSpecification: { InstanceId: input.dbId, ExcludeBootVolume: false },
                  Description,
                  TagSpecifications,
                }),
              )
            : ec2.send(new CreateSnapshotCommand({ VolumeId: input.dbId, Description, TagSpecifications })),
        {},
        explainCreate(target),
      );
    };
    if (around)
      await around(
        {
          id: input.dbId,
          volumes: input.volumes ?? [],
          setId: input.snapshotId,
          policy: input.tags[Tag.policy] ?? '',
        },
        take,
      );
    else await take();
    return 'created';
  };

  /**
   * Copy a snapshot set from another region into this one (call it on the DR region's adapter): each part
   * whose copy is not here yet (by `steward:set` and `steward:volume`), so a run that stopped half-way is
   * completed by the next. EBS copies each snapshot on its own ("To copy multi-volume snapshots ... copy
   * them individually", EBS User Guide, "Copy an Amazon EBS snapshot"); the SDK presigns the source half.
   * With a key, every copy is encrypted with it (an unencrypted source too); without, an encrypted source
   * is copied under the destination's default EBS key. `onStarted` hears each part whose copy was started
   * (the vault flow keeps those parts shared when a later part fails).
   */
  const copySnapshot = async (
    input: CopySnapshotInput,
    onStarted?: (volumeId: string) => void,
  ): Promise<'started' | 'already-done'> => {
    if (input.kind !== 'ebs') throw new TypeError('the EBS adapter copies EBS only');
    const sourceRegion = regionOfSetArn(input.sourceArn);
    const parts = input.parts ?? [];
    if (!sourceRegion || !parts.length)
      throw new TypeError(`EBS set ${input.targetId}: a copy needs the source region and its parts`);
    const here = await describeSets(
      [{ Name: `tag:${Tag.set}`, Values: [input.targetId] }],
      `copies of set ${input.targetId}`,
    );
    const copied = new Set(here.flatMap((s) => s.parts ?? []).map((p) => p.volumeId));
    const todo = parts.filter((p) => !copied.has(p.volumeId));
    if (!todo.length) return 'already-done';
    const started = parts
      .map((p) => p.startedAt)
      .filter((t): t is string => t !== undefined)
      .sort();
    const takenAt = input.tags[Tag.takenAt] ?? started[0];
    for (const p of todo) {
      const target = `ebs snapshot ${p.id} (set ${input.targetId}) ${sourceRegion} -> ${region}`;
      await attempt(
        'CopySnapshot',
        target,
        () =>
          ec2.send(
            new CopySnapshotCommand({
              SourceRegion: sourceRegion,
              SourceSnapshotId: p.id,
              Description: `steward ${input.targetId} copy of ${p.id}`,
              ...(input.kmsKeyId ? { Encrypted: true, KmsKeyId: input.kmsKeyId } : {}),
              TagSpecifications: [
                {
                  ResourceType: 'snapshot',
                  Tags: tagList({
                    ...input.tags,
                    [Tag.volume]: p.volumeId,
                    ...(takenAt ? { [Tag.takenAt]: takenAt } : {}),
                  }),
                },
              ],
            }),
          ),
        {},
        (e) =>
          errorName(e) === 'ResourceLimitExceeded'
            ? new AwsCallError(
                'CopySnapshot',
                `${target}: 20 EBS snapshot copies are already in flight to ${region} (EBS quota "Concurrent snapshot copies per destination Region"); the next run continues`,
                e,
              )
            : undefined,
      );
      onStarted?.(p.volumeId);
    }
    return 'started';
  };

  /** Targeted reads of sets, for the copy queue between full listings. */
  const reader: Omit<SnapshotReader, 'region'> = {
    ofDatabase: (_kind, db) =>
      describeSets([{ Name: `tag:${Tag.source}`, Values: [db] }], `snapshot sets of ${db}`),
    // A set id, or one of its volumes' snapshots (an EBS event names those): its `steward:set` tag names the set.
    get: async (_kind, id) => {
      const setId = id.startsWith('snap-')
        ? (await describeSets([{ Name: 'snapshot-id', Values: [id] }], `snapshot ${id}`))[0]?.id
        : id;
      return setId === undefined
        ? undefined
        : (await describeSets([{ Name: `tag:${Tag.set}`, Values: [setId] }], `set ${setId}`))[0];
    },
    some: (_kind, ids) => someSets(ids),
  };

  return { region, listTargets, createSnapshot, takenSets, copySnapshot, removeSet, listSets, reader };
};

/** The EBS backup adapter of one region. */
export type EbsBackup = ReturnType<typeof ebsBackup>;
