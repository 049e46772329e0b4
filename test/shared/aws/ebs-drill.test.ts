import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeAvailabilityZonesCommand,
  DescribeFastSnapshotRestoresCommand,
  DescribeVolumesCommand,
  DisableFastSnapshotRestoresCommand,
  EC2Client,
  EnableFastSnapshotRestoresCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ec2EbsDrillPort, ec2FirstZone, ec2SnapshotSets } from '../../../shared/aws/ebs-drill.js';
import { drillSnapshotSet, type SnapshotSetRef } from '../../../shared/drill/ebs.js';
import { ConfigError, GuardRefusedError } from '../../../shared/errors.js';
import { Tag, tagList } from '../../../shared/tags.js';
import { motoClient, useMoto } from '../../support/moto.js';

const REGION = 'eu-west-1';
const meta = { $metadata: {} };
const notFound = () =>
  Object.assign(new Error('The volume does not exist'), { name: 'InvalidVolume.NotFound' });
const drillTags = { [Tag.drill]: 'd1', [Tag.managed]: 'true' };
/** When the drill started. */
const SINCE = '2026-02-01T05:00:00.000Z';

describe('ec2EbsDrillPort (mocked EC2)', () => {
  const ec2 = mockClient(EC2Client);
  const port = () => ec2EbsDrillPort(REGION, new EC2Client({ region: REGION }));
  beforeEach(() => ec2.reset());
  afterAll(() => ec2.restore());

  it('creates the volume from the snapshot in the zone, tagged on create, with the idempotency token', async () => {
    // Prepare
    ec2
      .on(CreateVolumeCommand)
      .resolves({ ...meta, VolumeId: 'vol-1', State: 'creating', SnapshotId: 'snap-1' });
    // Act
    const v = await port().createVolume({
      snapshotId: 'snap-1',
      availabilityZone: 'eu-west-1a',
      volumeType: 'gp3',
      clientToken: 'd1-snap-1',
      tags: drillTags,
    });
    // Assert
    expect(v).toEqual({ volumeId: 'vol-1', state: 'creating', snapshotId: 'snap-1', tags: {} });
    expect(ec2).toReceiveCommandWith(CreateVolumeCommand, {
      SnapshotId: 'snap-1',
      AvailabilityZone: 'eu-west-1a',
      VolumeType: 'gp3',
      ClientToken: 'd1-snap-1',
      TagSpecifications: [{ ResourceType: 'volume', Tags: tagList(drillTags) }],
    });
  });

  it('describes by ids without MaxResults (EC2 refuses both), and asks one by one when one is gone', async () => {
    // Prepare
    ec2
      .on(DescribeVolumesCommand, { VolumeIds: ['vol-1', 'vol-2'] })
      .rejects(notFound())
      .on(DescribeVolumesCommand, { VolumeIds: ['vol-1'] })
      .resolves({ ...meta, Volumes: [{ VolumeId: 'vol-1', State: 'available' }] })
      .on(DescribeVolumesCommand, { VolumeIds: ['vol-2'] })
      .rejects(notFound());
    // Act
    const seen = await port().describe(['vol-1', 'vol-2']);
    // Assert
    expect(seen.map((v) => v.volumeId)).toEqual(['vol-1']);
    expect(
      ec2.commandCalls(DescribeVolumesCommand).every((c) => c.args[0].input.MaxResults === undefined),
    ).toBe(true);
  });

  it('refuses to delete a volume that is not a steward drill volume', async () => {
    // Prepare
    ec2
      .on(DescribeVolumesCommand)
      .resolves({ ...meta, Volumes: [{ VolumeId: 'vol-9', State: 'available', Tags: [] }] });
    // Act + Assert
    await expect(port().remove('vol-9')).rejects.toThrow(GuardRefusedError);
    expect(ec2).not.toReceiveCommand(DeleteVolumeCommand);
  });

  it('deletes a drill volume; one already gone is gone', async () => {
    // Prepare
    ec2
      .on(DescribeVolumesCommand)
      .resolves({ ...meta, Volumes: [{ VolumeId: 'vol-1', State: 'available', Tags: tagList(drillTags) }] });
    ec2.on(DeleteVolumeCommand).resolvesOnce(meta).rejects(notFound());
    // Act + Assert
    expect(await port().remove('vol-1')).toBe('deleted');
    expect(await port().remove('vol-1')).toBe('gone');
  });

  it('turns fast snapshot restore on and off for the set’s snapshots in the drill zone', async () => {
    // Prepare
    ec2.on(DescribeFastSnapshotRestoresCommand).resolves({ ...meta, FastSnapshotRestores: [] });
    ec2.on(EnableFastSnapshotRestoresCommand).resolves(meta);
    ec2.on(DisableFastSnapshotRestoresCommand).resolves(meta);
    // Act
    const ours = await port().enableFastRestore(['snap-1', 'snap-2'], 'eu-west-1a', SINCE);
    await port().disableFastRestore(['snap-1', 'snap-2'], 'eu-west-1a');
    // Assert
    expect(ours).toEqual(['snap-1', 'snap-2']);
    for (const C of [EnableFastSnapshotRestoresCommand, DisableFastSnapshotRestoresCommand])
      expect(ec2).toReceiveCommandWith(C, {
        SourceSnapshotIds: ['snap-1', 'snap-2'],
        AvailabilityZones: ['eu-west-1a'],
      });
  });

  it('leaves alone fast snapshot restore that was on before the drill, over every page, and says what it turned on', async () => {
    // Prepare: snap-1 on since yesterday (someone else's); snap-2 turned on by this drill (a retried task).
    ec2
      .on(DescribeFastSnapshotRestoresCommand)
      .resolvesOnce({
        ...meta,
        NextToken: 'p2',
        FastSnapshotRestores: [
          {
            SnapshotId: 'snap-1',
            AvailabilityZone: 'eu-west-1a',
            State: 'enabled',
            EnablingTime: new Date('2026-01-31T05:00:00Z'),
          },
        ],
      })
      .resolves({
        ...meta,
        FastSnapshotRestores: [
          {
            SnapshotId: 'snap-2',
            AvailabilityZone: 'eu-west-1a',
            State: 'optimizing',
            EnablingTime: new Date('2026-02-01T05:01:00Z'),
          },
        ],
      });
    ec2.on(EnableFastSnapshotRestoresCommand).resolves(meta);

    // Act
    const ours = await port().enableFastRestore(['snap-1', 'snap-2', 'snap-3'], 'eu-west-1a', SINCE);

    // Assert
    expect(ours).toEqual(['snap-2', 'snap-3']);
    expect(ec2).toReceiveCommandWith(DescribeFastSnapshotRestoresCommand, {
      Filters: [
        { Name: 'snapshot-id', Values: ['snap-1', 'snap-2', 'snap-3'] },
        { Name: 'availability-zone', Values: ['eu-west-1a'] },
        { Name: 'state', Values: ['enabling', 'optimizing', 'enabled'] },
      ],
      MaxResults: 200,
    });
    expect(ec2).toReceiveCommandWith(DescribeFastSnapshotRestoresCommand, { NextToken: 'p2' });
    expect(ec2).toReceiveCommandTimes(EnableFastSnapshotRestoresCommand, 1);
    expect(ec2).toReceiveCommandWith(EnableFastSnapshotRestoresCommand, {
      SourceSnapshotIds: ['snap-2', 'snap-3'],
      AvailabilityZones: ['eu-west-1a'],
    });
  });

  it('hands the write-ahead record what it turns on before it turns it on, and turns nothing on when the record fails', async () => {
    // Prepare
    ec2.on(DescribeFastSnapshotRestoresCommand).resolves({ ...meta, FastSnapshotRestores: [] });
    ec2.on(EnableFastSnapshotRestoresCommand).resolves(meta);
    const seen: string[] = [];
    const record = async (ours: readonly string[]) => {
      seen.push(
        `record ${ours.join(',')} after ${ec2.commandCalls(EnableFastSnapshotRestoresCommand).length} enables`,
      );
    };

    // Act
    await port().enableFastRestore(['snap-1', 'snap-2'], 'eu-west-1a', SINCE, record);
    const refused = port().enableFastRestore(['snap-3'], 'eu-west-1a', SINCE, async () => {
      throw new Error('ProvisionedThroughputExceededException');
    });

    // Assert
    expect(seen).toEqual(['record snap-1,snap-2 after 0 enables']);
    await expect(refused).rejects.toThrow('ProvisionedThroughputExceededException');
    expect(ec2).toReceiveCommandTimes(EnableFastSnapshotRestoresCommand, 1);
  });

  it('turns nothing on when every snapshot had it on already', async () => {
    ec2.on(DescribeFastSnapshotRestoresCommand).resolves({
      ...meta,
      FastSnapshotRestores: [{ SnapshotId: 'snap-1', State: 'enabled' }],
    });
    expect(await port().enableFastRestore(['snap-1'], 'eu-west-1a', SINCE)).toEqual([]);
    expect(ec2).not.toReceiveCommand(EnableFastSnapshotRestoresCommand);
  });

  it('lists drill volumes by the steward:drill tag key, paginated', async () => {
    // Prepare
    ec2
      .on(DescribeVolumesCommand)
      .resolvesOnce({ ...meta, Volumes: [{ VolumeId: 'vol-1', Tags: tagList(drillTags) }], NextToken: 't' })
      .resolves({ ...meta, Volumes: [{ VolumeId: 'vol-2', Tags: tagList(drillTags) }] });
    // Act
    const all = await port().listDrillVolumes();
    // Assert
    expect(all.map((v) => v.volumeId)).toEqual(['vol-1', 'vol-2']);
    expect(ec2).toReceiveCommandWith(DescribeVolumesCommand, {
      Filters: [{ Name: 'tag-key', Values: [Tag.drill] }],
      MaxResults: 500,
      NextToken: 't',
    });
  });
});

describe('ec2FirstZone (mocked EC2): where a drill from the DR copies restores by default', () => {
  const ec2 = mockClient(EC2Client);
  beforeEach(() => ec2.reset());
  afterAll(() => ec2.restore());

  it('asks once for the available zones proper and takes the first by name', async () => {
    // Prepare
    ec2.on(DescribeAvailabilityZonesCommand).resolves({
      ...meta,
      AvailabilityZones: [
        { ZoneName: 'us-west-2c', State: 'available' },
        { ZoneName: 'us-west-2b', State: 'available' },
        { ZoneName: 'us-west-2a', State: 'impaired' },
      ],
    });
    const zone = ec2FirstZone('us-west-2', new EC2Client({ region: 'us-west-2' }));

    // Act
    const first = await zone();
    const again = await zone();

    // Assert
    expect([first, again]).toEqual(['us-west-2b', 'us-west-2b']);
    expect(ec2.commandCalls(DescribeAvailabilityZonesCommand)).toHaveLength(1);
    expect(ec2).toReceiveCommandWith(DescribeAvailabilityZonesCommand, {
      Filters: [
        { Name: 'zone-type', Values: ['availability-zone'] },
        { Name: 'state', Values: ['available'] },
      ],
    });
  });

  it('names the setting when the region has no available zone, and asks again next time', async () => {
    // Prepare
    ec2.on(DescribeAvailabilityZonesCommand).resolves({ ...meta, AvailabilityZones: [] });
    const zone = ec2FirstZone('us-west-2', new EC2Client({ region: 'us-west-2' }));

    // Act
    const error = await zone().catch((e: unknown) => e);
    await zone().catch(() => undefined);

    // Assert
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('us-west-2');
    expect(ec2.commandCalls(DescribeAvailabilityZonesCommand)).toHaveLength(2);
  });
});

// End to end over real HTTP against moto: a snapshot set of two volumes restores into the drill zone, the
// restored volumes carry the drill's tags, and the drill leaves nothing behind. (moto makes volumes
// available at once: states and timing are proven with the fake above.)
describe('EBS drill against moto', () => {
  // An empty AMI catalogue: EC2 holds only what the test makes.
  const endpoint = useMoto({ emptyAmis: true });
  let ec2: EC2Client;
  beforeAll(() => {
    ec2 = motoClient(EC2Client, REGION, endpoint());
  });

  it('finds the first available zone of the region with the filters steward sends', async () => {
    expect(await ec2FirstZone(REGION, ec2)()).toBe('eu-west-1a');
  });

  it('lists the snapshot sets of one source for the drill to pick from, whole, and no other source’s', async () => {
    // Prepare: a set of two volumes of i-0aaa, and one of another instance
    const tagged = (source: string, set: string) => [
      {
        ResourceType: 'snapshot' as const,
        Tags: tagList({ [Tag.set]: set, [Tag.source]: source, [Tag.setSize]: '2', [Tag.managed]: 'true' }),
      },
    ];
    for (const [source, set] of [
      ['i-0aaa', 'steward-i-0aaa-202601150300-sched'],
      ['i-0aaa', 'steward-i-0aaa-202601150300-sched'],
      ['i-0bbb', 'steward-i-0bbb-202601150300-sched'],
    ] as const) {
      const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'eu-west-1a', Size: 8 }));
      await ec2.send(
        new CreateSnapshotCommand({
          VolumeId: vol.VolumeId!,
          Description: `steward ${set}`,
          TagSpecifications: tagged(source, set),
        }),
      );
    }

    // Act
    const sets = await ec2SnapshotSets(REGION, ec2).setsOf('i-0aaa');

    // Assert
    expect(sets.map((x) => [x.id, x.sourceId, x.status, x.parts?.length])).toEqual([
      ['steward-i-0aaa-202601150300-sched', 'i-0aaa', 'available', 2],
    ]);
  });

  it('restores every volume of a set, proves them available, and deletes them', async () => {
    // Prepare: an instance's two volumes and their snapshots.
    const members = [];
    for (const [size, device] of [
      [8, '/dev/xvda'],
      [20, '/dev/xvdf'],
    ] as const) {
      const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'eu-west-1b', Size: size }));
      const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId! }));
      members.push({ snapshotId: snap.SnapshotId!, volumeId: vol.VolumeId!, device });
    }
    const set: SnapshotSetRef = {
      id: 'steward-i-1-202601150300-sched',
      sourceId: 'i-1',
      createdAt: '2026-01-15T03:00:00Z',
      members,
    };
    const port = ec2EbsDrillPort(REGION, ec2);
    const created: string[] = [];
    const watching = {
      ...port,
      createVolume: async (...a: Parameters<typeof port.createVolume>) => {
        const v = await port.createVolume(...a);
        created.push(v.volumeId);
        return v;
      },
    };
    // Act
    const r = await drillSnapshotSet(
      'drill-1',
      set,
      { availabilityZone: 'eu-west-1a', volumeType: 'gp3', fastSnapshotRestore: false, timeoutSeconds: 60 },
      { ebs: watching, now: () => new Date(), sleep: async () => undefined },
    );
    // Assert
    expect(r).toMatchObject({ restored: true, problems: [] });
    expect(r.cleanup.map((o) => o.status)).toEqual(['done', 'done']);
    expect(await port.describe(created)).toEqual([]);
    expect(await port.listDrillVolumes()).toEqual([]);
  });

  it('tags restored volumes with the drill, in the drill zone, from the set’s snapshots', async () => {
    // Prepare
    const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'eu-west-1b', Size: 8 }));
    const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId! }));
    const port = ec2EbsDrillPort(REGION, ec2);
    // Act
    const v = await port.createVolume({
      snapshotId: snap.SnapshotId!,
      availabilityZone: 'eu-west-1a',
      volumeType: 'gp3',
      clientToken: `drill-2-${snap.SnapshotId}`,
      tags: { ...drillTags, [Tag.drill]: 'drill-2' },
    });
    const [listed] = await port.listDrillVolumes();
    // Assert
    expect(listed).toMatchObject({
      volumeId: v.volumeId,
      snapshotId: snap.SnapshotId,
      tags: { [Tag.drill]: 'drill-2' },
    });
    const raw = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [v.volumeId] }));
    expect(raw.Volumes![0]!.AvailabilityZone).toBe('eu-west-1a');
    expect(await port.remove(v.volumeId)).toBe('deleted');
  });
});
