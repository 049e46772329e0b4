import {
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeAvailabilityZonesCommand,
  DescribeVolumesCommand,
  DisableFastSnapshotRestoresCommand,
  type EC2Client,
  EnableFastSnapshotRestoresCommand,
  type Filter,
  paginateDescribeFastSnapshotRestores,
  paginateDescribeSnapshots,
  paginateDescribeVolumes,
  type Volume,
} from '@aws-sdk/client-ec2';
import type { CreateVolumeInput, DrillVolume, EbsDrillPort } from '../drill/ebs.js';
import type { SnapshotSetLister } from '../drill/ebs-tasks.js';
import { ConfigError, GuardRefusedError } from '../errors.js';
import type { Snapshot } from '../model.js';
import { once } from '../once.js';
import { Tag, tagList, tagRecord } from '../tags.js';
import { attempt, call } from './call.js';
import { setsOf } from './ebs.js';
import { collectPages } from './pages.js';

const volumeOf = (v: Volume): DrillVolume => ({
  volumeId: v.VolumeId ?? '',
  state: v.State ?? 'unknown',
  ...(v.SnapshotId && { snapshotId: v.SnapshotId }),
  ...(v.AvailabilityZone && { availabilityZone: v.AvailabilityZone }),
  ...(v.CreateTime && { createdAt: v.CreateTime.toISOString() }),
  tags: tagRecord(v.Tags),
});

// DescribeVolumes by filter: pages of up to 500. By ids: one request without MaxResults (EC2 refuses the
// two together); a drill asks for a set's few volumes. An unknown id fails the whole request
// (InvalidVolume.NotFound), so after that each volume is asked for on its own.
const PAGE = 500;
// DescribeFastSnapshotRestores: MaxResults 0-200 (EC2 API reference).
const FSR_PAGE = 200;

/** EBS drill volumes through EC2: create from a snapshot (tagged on create), watch, delete. */
export const ec2EbsDrillPort = (region: string, ec2: EC2Client): EbsDrillPort => {
  const byIds = async (ids: string[]) =>
    ((await ec2.send(new DescribeVolumesCommand({ VolumeIds: ids }))).Volumes ?? []).map(volumeOf);
  const byTag = async () => {
    const out: DrillVolume[] = [];
    const pages = paginateDescribeVolumes(
      { client: ec2, pageSize: PAGE },
      { Filters: [{ Name: 'tag-key', Values: [Tag.drill] }] },
    );
    for await (const page of pages) out.push(...(page.Volumes ?? []).map(volumeOf));
    return out;
  };

  const describe = async (ids: readonly string[]): Promise<DrillVolume[]> => {
    if (!ids.length) return [];
    const r = await attempt('DescribeVolumes', ids.join(', '), () => byIds([...ids]), {
      gone: ['InvalidVolume.NotFound'],
    });
    if (r.ok) return r.value;
    if (ids.length === 1) return [];
    // One of them is gone: ask for each, so the others still answer.
    return (await Promise.all(ids.map((id) => describe([id])))).flat();
  };

  return {
    region,
    createVolume: async (input: CreateVolumeInput) => {
      const v = await call('CreateVolume', input.snapshotId, () =>
        ec2.send(
          new CreateVolumeCommand({
            SnapshotId: input.snapshotId,
            AvailabilityZone: input.availabilityZone,
            VolumeType: input.volumeType,
            ClientToken: input.clientToken,
            // Without KmsKeyId, "your KMS key for Amazon EBS is used" (EC2 API Reference, CreateVolume).
            ...(input.encrypted ? { Encrypted: true } : {}),
            TagSpecifications: [{ ResourceType: 'volume', Tags: tagList(input.tags) }],
          }),
        ),
      );
      return volumeOf(v);
    },
    describe,
    remove: async (volumeId: string) => {
      // Never delete what a drill did not create: the volume must carry steward:drill (the role's policy
      // says the same with a tag condition).
      const [v] = await describe([volumeId]);
      if (!v) return 'gone';
      if (!v.tags[Tag.drill] || v.tags[Tag.managed] !== 'true')
        throw new GuardRefusedError(`refusing to delete ${volumeId}: it is not a steward drill volume`);
      const r = await attempt(
        'DeleteVolume',
        volumeId,
        () => ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId })),
        {
          gone: ['InvalidVolume.NotFound'],
        },
      );
      return r.ok ? 'deleted' : 'gone';
    },
    enableFastRestore: async (snapshotIds, availabilityZone, since, writeAhead) => {
      // On (or being turned on) in the zone since before the drill started: someone else's, left alone.
      const before = Date.parse(since);
      const others = new Set(
        await collectPages(
          paginateDescribeFastSnapshotRestores(
            { client: ec2, pageSize: FSR_PAGE },
            {
              Filters: [
                { Name: 'snapshot-id', Values: [...snapshotIds] },
                { Name: 'availability-zone', Values: [availabilityZone] },
                { Name: 'state', Values: ['enabling', 'optimizing', 'enabled'] },
              ],
            },
          ),
          (p) => p.FastSnapshotRestores,
          (f) => {
            const at = f.EnablingTime?.getTime();
            // No enabling time: not known to be the drill's, so not turned off by it.
            return at === undefined || at < before ? f.SnapshotId : undefined;
          },
          'DescribeFastSnapshotRestores',
          `${snapshotIds.join(', ')} in ${availabilityZone}`,
        ),
      );
      const ours = snapshotIds.filter((id) => !others.has(id));
      if (!ours.length) return [];
      // Recorded first: a drill that ends right after the enable still leaves its record (not only its state).
      await writeAhead?.(ours);
      await call('EnableFastSnapshotRestores', ours.join(', '), () =>
        ec2.send(
          new EnableFastSnapshotRestoresCommand({
            SourceSnapshotIds: ours,
            AvailabilityZones: [availabilityZone],
          }),
        ),
      );
      return ours;
    },
    disableFastRestore: async (snapshotIds, availabilityZone) => {
      await call('DisableFastSnapshotRestores', snapshotIds.join(', '), () =>
        ec2.send(
          new DisableFastSnapshotRestoresCommand({
            SourceSnapshotIds: [...snapshotIds],
            AvailabilityZones: [availabilityZone],
          }),
        ),
      );
    },
    listDrillVolumes: () => call('DescribeVolumes', `tag-key ${Tag.drill}`, byTag),
  };
};

// DescribeSnapshots takes MaxResults 5-1000 (EC2 API reference); the filters select server side.
const SNAPSHOT_PAGE = 1000;

/**
 * The snapshot sets `ec2`'s account owns in `region` whose parts carry a set tag and match `filters` (tag
 * filters, server side), over every page; `what` names them in errors. The caller's credentials decide whose
 * sets they are: the hub drill role's own (ec2SnapshotSets) or the vault's (shared/aws/ebs-vault-drill.ts).
 */
export const ownedSnapshotSets = async (
  ec2: EC2Client,
  region: string,
  filters: Filter[],
  what: string,
): Promise<Snapshot[]> =>
  setsOf(
    await collectPages(
      paginateDescribeSnapshots(
        { client: ec2, pageSize: SNAPSHOT_PAGE },
        { OwnerIds: ['self'], Filters: [{ Name: 'tag-key', Values: [Tag.set] }, ...filters] },
      ),
      (p) => p.Snapshots,
      (x) => x,
      'DescribeSnapshots',
      what,
    ),
    region,
  );

/** The snapshot sets of one source for the drill: the account's own snapshots tagged with its set and source. */
export const ec2SnapshotSets = (region: string, ec2: EC2Client): SnapshotSetLister => ({
  // Awaited here, so that this adapter is on the call's stack (test/iam/attribution.ts).
  setsOf: async (sourceId) =>
    await ownedSnapshotSets(
      ec2,
      region,
      [{ Name: `tag:${Tag.source}`, Values: [sourceId] }],
      `snapshot sets of ${sourceId} in ${region}`,
    ),
});

/**
 * The first available Availability Zone of a region (by name), asked once: where a drill from the DR copies
 * restores when its target names no zone. Only zones proper (`zone-type` availability-zone): Local Zones and
 * Wavelength Zones are left out, and so are zones not `available` (EC2 API reference,
 * DescribeAvailabilityZones: with no AllAvailabilityZones, only the zones enabled for the account are listed).
 */
export const ec2FirstZone = (region: string, ec2: EC2Client): (() => Promise<string>) => {
  const ask = async () => {
    const r = await call('DescribeAvailabilityZones', `zones of ${region}`, () =>
      ec2.send(
        new DescribeAvailabilityZonesCommand({
          Filters: [
            { Name: 'zone-type', Values: ['availability-zone'] },
            { Name: 'state', Values: ['available'] },
          ],
        }),
      ),
    );
    const names = (r.AvailabilityZones ?? [])
      .filter((z) => z.State === undefined || z.State === 'available')
      .flatMap((z) => (z.ZoneName ? [z.ZoneName] : []))
      .sort();
    if (!names.length)
      throw new ConfigError(`No available Availability Zone in ${region}`, [
        `drill.volumes.<id>.availabilityZone: name a zone of ${region} to restore into`,
      ]);
    return names[0]!;
  };
  return once(ask);
};
