import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  CreateSnapshotsCommand,
  DeleteSnapshotCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  EC2ServiceException,
  type Snapshot as Ec2Snapshot,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ebsBackup, ebsSnapshotType, setArn, setsOf } from '../../../shared/aws/ebs.js';
import { AwsCallError } from '../../../shared/errors.js';
import { Tag, tagList } from '../../../shared/tags.js';

const ec2 = mockClient(EC2Client);
const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const ACCOUNT = '111122223333';
const KEY = 'arn:aws:kms:us-west-2:111122223333:alias/steward-dr';
const SET = 'steward-i-0abc-202601150300-sched';
const meta = { $metadata: {} };
const adapter = (region = PRIMARY) => ebsBackup(region, new EC2Client({ region }));

const ec2Error = (name: string) =>
  new EC2ServiceException({ name, $fault: 'client', $metadata: {}, message: name });

const setTags = {
  [Tag.managed]: 'true',
  [Tag.policy]: 'daily',
  [Tag.source]: 'i-0abc',
  [Tag.createdBy]: 'backup',
  [Tag.kind]: 'sched',
  [Tag.set]: SET,
  [Tag.setSize]: '2',
};

const part = (
  id: string,
  volume: string,
  extra: Partial<Ec2Snapshot> = {},
  tags: Record<string, string> = setTags,
): Ec2Snapshot => ({
  SnapshotId: id,
  VolumeId: volume,
  State: 'completed',
  StartTime: new Date('2026-01-15T03:00:05Z'),
  OwnerId: ACCOUNT,
  Encrypted: true,
  // What steward writes at create (`steward <set>`) and at copy (`steward <set> copy of <source part>`).
  Description: `steward ${tags[Tag.set]}${tags[Tag.copiedFrom] ? ` copy of snap-0${id}` : ''}`,
  Tags: tagList(tags),
  ...extra,
});

beforeEach(() => ec2.reset());

describe('ebsBackup.listTargets', () => {
  it('lists tagged instances and volumes over every page, filtered server side', async () => {
    // Prepare: two pages of instances, one of volumes.
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce({
        ...meta,
        NextToken: 'p2',
        Reservations: [
          {
            OwnerId: ACCOUNT,
            Instances: [
              {
                InstanceId: 'i-0abc',
                State: { Name: 'running' },
                Tags: [{ Key: Tag.backup, Value: 'daily' }],
                BlockDeviceMappings: [
                  { DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-root' } },
                  { DeviceName: '/dev/xvdb', Ebs: { VolumeId: 'vol-data' } },
                ],
              },
            ],
          },
        ],
      })
      .resolvesOnce({
        ...meta,
        Reservations: [
          { OwnerId: ACCOUNT, Instances: [{ InstanceId: 'i-0def', State: { Name: 'stopping' }, Tags: [] }] },
        ],
      });
    ec2.on(DescribeVolumesCommand).resolves({
      ...meta,
      Volumes: [
        {
          VolumeId: 'vol-data',
          State: 'in-use',
          Encrypted: true,
          Attachments: [{ InstanceId: 'i-0abc' }],
          Tags: [{ Key: Tag.backup, Value: 'daily' }],
        },
      ],
    });

    // Act
    const targets = await adapter().listTargets();

    // Assert
    expect(targets.map((t) => [t.id, t.status, t.ebs])).toEqual([
      ['i-0abc', 'available', { volumes: ['vol-root', 'vol-data'] }],
      ['i-0def', 'stopping', { volumes: [] }],
      ['vol-data', 'available', { volumes: ['vol-data'], attachedTo: 'i-0abc' }],
    ]);
    expect(targets[0]!.arn).toBe(`arn:aws:ec2:${PRIMARY}:${ACCOUNT}:instance/i-0abc`);
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2);
    expect(ec2).toHaveReceivedNthCommandWith(DescribeInstancesCommand, 2, { NextToken: 'p2' });
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      MaxResults: 1000,
      Filters: [
        { Name: 'tag-key', Values: [Tag.backup] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ],
    });
    expect(ec2).toHaveReceivedCommandWith(DescribeVolumesCommand, {
      MaxResults: 500,
      Filters: [{ Name: 'tag-key', Values: [Tag.backup] }],
    });
  });

  it('names the operation when a page fails', async () => {
    ec2.on(DescribeInstancesCommand).rejects(ec2Error('UnauthorizedOperation'));
    ec2.on(DescribeVolumesCommand).resolves({ ...meta, Volumes: [] });
    await expect(adapter().listTargets()).rejects.toThrow(/DescribeInstances/);
  });
});

describe('ebsBackup.createSnapshot', () => {
  const input = {
    kind: 'ebs' as const,
    dbId: 'i-0abc',
    snapshotId: SET,
    tags: setTags,
    volumes: ['vol-root', 'vol-data'],
  };

  it('takes an instance set with CreateSnapshots, tagged on creation, after finding no set of this slot', async () => {
    // Prepare
    ec2.on(DescribeSnapshotsCommand).resolves({ ...meta, Snapshots: [] });
    ec2.on(CreateSnapshotsCommand).resolves({ ...meta, Snapshots: [] });

    // Act
    const r = await adapter().createSnapshot(input);

    // Assert
    expect(r).toBe('created');
    expect(ec2).toHaveReceivedCommandWith(DescribeSnapshotsCommand, {
      OwnerIds: ['self'],
      Filters: [
        { Name: 'tag-key', Values: [Tag.set] },
        { Name: `tag:${Tag.set}`, Values: [SET] },
      ],
    });
    expect(ec2).toHaveReceivedCommandWith(CreateSnapshotsCommand, {
      InstanceSpecification: { InstanceId: 'i-0abc', ExcludeBootVolume: false },
      Description: `steward ${SET}`,
      TagSpecifications: [{ ResourceType: 'snapshot', Tags: tagList(setTags) }],
    });
  });

  it('takes a volume alone with CreateSnapshot', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ ...meta, Snapshots: [] });
    ec2.on(CreateSnapshotCommand).resolves({ ...meta, SnapshotId: 'snap-1' });
    const r = await adapter().createSnapshot({ ...input, dbId: 'vol-data', volumes: ['vol-data'] });
    expect(r).toBe('created');
    expect(ec2).toHaveReceivedCommandWith(CreateSnapshotCommand, { VolumeId: 'vol-data' });
    expect(ec2).not.toHaveReceivedCommand(CreateSnapshotsCommand);
  });

  it('is a no-op when the set of this slot exists (a retry): no create, no pre/post commands', async () => {
    // Prepare
    ec2.on(DescribeSnapshotsCommand).resolves({ ...meta, Snapshots: [part('snap-1', 'vol-root')] });
    const around = vi.fn();

    // Act
    const r = await adapter().createSnapshot(input, around);

    // Assert
    expect(r).toBe('already-done');
    expect(around).not.toHaveBeenCalled();
    expect(ec2).not.toHaveReceivedCommand(CreateSnapshotsCommand);
  });

  it('runs the create inside `around`, once, with the set volumes', async () => {
    // Prepare
    ec2.on(DescribeSnapshotsCommand).resolves({ ...meta, Snapshots: [] });
    ec2.on(CreateSnapshotsCommand).resolves({ ...meta, Snapshots: [] });
    const order: string[] = [];
    const around = vi.fn(async (_t: unknown, snapshot: () => Promise<void>) => {
      order.push('pre');
      await snapshot();
      order.push('post');
    });
    ec2.on(CreateSnapshotsCommand).callsFake(() => {
      order.push('create');
      return { Snapshots: [] };
    });

    // Act
    await adapter().createSnapshot(input, around);

    // Assert
    expect(around).toHaveBeenCalledOnce();
    expect(around.mock.calls[0]![0]).toEqual({
      id: 'i-0abc',
      volumes: ['vol-root', 'vol-data'],
      setId: SET,
      policy: setTags[Tag.policy],
    });
    expect(order).toEqual(['pre', 'create', 'post']);
  });

  it.each([
    ['SnapshotCreationPerVolumeRateExceeded', /concurrent snapshots/],
    ['SnapshotLimitExceeded', /snapshot quota/],
  ])('explains the EBS quota behind %s', async (name, text) => {
    ec2.on(DescribeSnapshotsCommand).resolves({ ...meta, Snapshots: [] });
    ec2.on(CreateSnapshotsCommand).rejects(ec2Error(name));
    const e = await adapter()
      .createSnapshot(input)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AwsCallError);
    expect(String((e as Error).message)).toMatch(text);
  });
});

describe('setsOf', () => {
  it('groups parts into one set per steward:set, dated by its earliest part', () => {
    // Act
    const [set] = setsOf(
      [
        part('snap-2', 'vol-data', { StartTime: new Date('2026-01-15T03:00:09Z') }),
        part('snap-1', 'vol-root'),
        { SnapshotId: 'snap-x', State: 'completed', Tags: [] },
      ],
      PRIMARY,
    );

    // Assert
    expect(set).toMatchObject({
      kind: 'ebs',
      id: SET,
      arn: setArn(PRIMARY, ACCOUNT, SET),
      sourceId: 'i-0abc',
      createdAt: '2026-01-15T03:00:05.000Z',
      status: 'available',
      type: 'manual',
      encrypted: true,
    });
    expect(set!.parts!.map((p) => [p.id, p.volumeId])).toEqual([
      ['snap-1', 'vol-root'],
      ['snap-2', 'vol-data'],
    ]);
  });

  it.each([
    ['creating', [part('a', 'v1', { State: 'pending' }), part('b', 'v2')]],
    ['failed', [part('a', 'v1', { State: 'error' }), part('b', 'v2', { State: 'pending' })]],
    ['incomplete', [part('a', 'v1')]],
    ['available', [part('a', 'v1'), part('b', 'v2')]],
  ])('a set is %s from its parts', (status, parts) => {
    expect(setsOf(parts, PRIMARY)[0]!.status).toBe(status);
  });

  it('a copy is dated by its source (steward:taken-at) and in flight while a part copies', () => {
    const copyTags = {
      ...setTags,
      [Tag.copiedFrom]: setArn(PRIMARY, ACCOUNT, SET),
      [Tag.takenAt]: '2026-01-15T03:00:05.000Z',
    };
    const [copy] = setsOf(
      [
        part(
          'c1',
          'vol-x',
          { State: 'pending', StartTime: new Date('2026-01-16T10:00:00Z') },
          {
            ...copyTags,
            [Tag.volume]: 'vol-root',
          },
        ),
      ],
      DR,
    );
    expect(copy).toMatchObject({
      createdAt: '2026-01-15T03:00:05.000Z',
      copiedAt: '2026-01-16T10:00:00.000Z',
      status: 'copying',
      sourceRegion: PRIMARY,
    });
    expect(copy!.parts![0]!.volumeId).toBe('vol-root');
    expect(copy!.tags[Tag.volume]).toBeUndefined();
  });

  it('a hold on any part holds the set', () => {
    const [set] = setsOf(
      [part('a', 'v1'), part('b', 'v2', {}, { ...setTags, [Tag.hold]: 'legal' })],
      PRIMARY,
    );
    expect(set!.tags[Tag.hold]).toBe('legal');
  });

  it.each([
    ['AWS Backup (system tag)', { Tags: [{ Key: 'aws:backup:source-resource', Value: 'x' }] }, 'awsbackup'],
    [
      'AWS Backup (description)',
      { Description: 'This snapshot is created by the AWS Backup service.' },
      'awsbackup',
    ],
    ['DLM', { Tags: [{ Key: 'aws:dlm:lifecycle-policy-id', Value: 'policy-1' }] }, 'automated'],
    ['an AMI', { Description: 'Created by CreateImage(i-0abc) for ami-0123 from vol-1' }, 'automated'],
    [
      'an AMI copy',
      { Description: 'Copied for DestinationAmi ami-0456 from SourceAmi ami-0123' },
      'automated',
    ],
    ['anyone else', { Description: 'nightly', Tags: [{ Key: 'team', Value: 'db' }] }, 'manual'],
  ])('%s is typed %s, never steward-owned', (_who, s, type) => {
    expect(ebsSnapshotType(s)).toBe(type);
  });

  it('one AWS-made part makes the whole set not ours', () => {
    const [set] = setsOf(
      [
        part('a', 'v1'),
        part('b', 'v2', { Tags: tagList({ ...setTags, 'aws:backup:source-resource': 'x' }) }),
      ],
      PRIMARY,
    );
    expect(set!.type).toBe('awsbackup');
  });

  // A snapshot's description is set when it is made and never changes (EC2 has no call to change it). The
  // console's copy describes its copy "[Copied snap-… from <region>] <source's description>" and copies the
  // tags when asked to; CopySnapshot without a description leaves it empty. Either carries steward:set.
  it.each([
    ['the console (tags copied)', '[Copied snap-1 from eu-west-1] steward ' + SET],
    ['CopySnapshot without a description', ''],
    ['AWS Backup', 'This snapshot is created by the AWS Backup service'],
    ['a description naming another set', 'steward steward-i-0def-202601150300-sched'],
  ])('a copy someone made with %s is no part of the set: never counted, copied or deleted', (_how, d) => {
    // Act
    const [set, ...more] = setsOf(
      [
        part('snap-1', 'vol-root'),
        part('snap-2', 'vol-data'),
        part('snap-9', 'vol-ffffffff', { Description: d }),
      ],
      PRIMARY,
    );

    // Assert
    expect(more).toEqual([]);
    expect(set!.parts!.map((p) => p.id)).toEqual(['snap-1', 'snap-2']);
    expect(set!.status).toBe('available');
  });

  it('a set of copies someone made (another region, tags copied) is no set', () => {
    const theirs = { Description: `[Copied snap-1 from ${PRIMARY}] steward ${SET}` };
    expect(
      setsOf([part('snap-7', 'vol-ffffffff', theirs), part('snap-8', 'vol-ffffffff', theirs)], DR),
    ).toEqual([]);
  });
});

describe('ebsBackup.copySnapshot', () => {
  const parts = [
    { id: 'snap-1', volumeId: 'vol-root', state: 'completed', startedAt: '2026-01-15T03:00:05.000Z' },
    { id: 'snap-2', volumeId: 'vol-data', state: 'completed', startedAt: '2026-01-15T03:00:06.000Z' },
  ];
  const input = {
    kind: 'ebs' as const,
    sourceArn: setArn(PRIMARY, ACCOUNT, SET),
    targetId: SET,
    kmsKeyId: KEY,
    tags: { ...setTags, [Tag.copiedFrom]: setArn(PRIMARY, ACCOUNT, SET) },
    parts,
  };

  it('copies each part not yet in the DR region, from the source region, under the DR key', async () => {
    // Prepare: vol-root's copy is there (an earlier run stopped half-way).
    ec2.on(DescribeSnapshotsCommand).resolves({
      ...meta,
      Snapshots: [part('c1', 'vol-x', {}, { ...input.tags, [Tag.volume]: 'vol-root' })],
    });
    ec2.on(CopySnapshotCommand).resolves({ ...meta, SnapshotId: 'c2' });

    // Act
    const r = await adapter(DR).copySnapshot(input);

    // Assert
    expect(r).toBe('started');
    expect(ec2).toHaveReceivedCommandTimes(CopySnapshotCommand, 1);
    expect(ec2).toHaveReceivedCommandWith(CopySnapshotCommand, {
      SourceRegion: PRIMARY,
      SourceSnapshotId: 'snap-2',
      Encrypted: true,
      KmsKeyId: KEY,
      TagSpecifications: [
        {
          ResourceType: 'snapshot',
          Tags: tagList({
            ...input.tags,
            [Tag.volume]: 'vol-data',
            [Tag.takenAt]: '2026-01-15T03:00:05.000Z',
          }),
        },
      ],
    });
  });

  it('is already done when every part has its copy', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      ...meta,
      Snapshots: [
        part('c1', 'x', {}, { ...input.tags, [Tag.volume]: 'vol-root' }),
        part('c2', 'y', {}, { ...input.tags, [Tag.volume]: 'vol-data' }),
      ],
    });
    expect(await adapter(DR).copySnapshot(input)).toBe('already-done');
    expect(ec2).not.toHaveReceivedCommand(CopySnapshotCommand);
  });

  it('explains the 20-copies-in-flight quota', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ ...meta, Snapshots: [] });
    ec2.on(CopySnapshotCommand).rejects(ec2Error('ResourceLimitExceeded'));
    await expect(adapter(DR).copySnapshot(input)).rejects.toThrow(/20 EBS snapshot copies/);
  });
});

describe('ebsBackup.removeSet', () => {
  const set = {
    id: SET,
    parts: [
      { id: 'snap-1', volumeId: 'v1', state: 'completed' },
      { id: 'snap-2', volumeId: 'v2', state: 'completed' },
    ],
  };

  it('deletes every part of the set', async () => {
    ec2.on(DeleteSnapshotCommand).resolves(meta);
    expect(await adapter().removeSet(set)).toBe('deleted');
    expect(ec2).toHaveReceivedCommandWith(DeleteSnapshotCommand, { SnapshotId: 'snap-1' });
    expect(ec2).toHaveReceivedCommandWith(DeleteSnapshotCommand, { SnapshotId: 'snap-2' });
  });

  it('is already gone when every part was', async () => {
    ec2.on(DeleteSnapshotCommand).rejects(ec2Error('InvalidSnapshot.NotFound'));
    expect(await adapter().removeSet(set)).toBe('already-gone');
  });

  it('tries every part when one is refused, then fails', async () => {
    ec2
      .on(DeleteSnapshotCommand, { SnapshotId: 'snap-1' })
      .rejects(ec2Error('InvalidSnapshot.InUse'))
      .on(DeleteSnapshotCommand, { SnapshotId: 'snap-2' })
      .resolves(meta);
    await expect(adapter().removeSet(set)).rejects.toThrow(AwsCallError);
    expect(ec2).toHaveReceivedCommandWith(DeleteSnapshotCommand, { SnapshotId: 'snap-2' });
  });

  it('never deletes a copy someone made that carries the set tag', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      ...meta,
      Snapshots: [
        part('snap-9', 'v1'),
        part('snap-8', 'vol-ffffffff', { Description: `[Copied snap-9 from ${PRIMARY}] steward ${SET}` }),
      ],
    });
    ec2.on(DeleteSnapshotCommand).resolves(meta);
    expect(await adapter().removeSet({ id: SET })).toBe('deleted');
    expect(ec2).toHaveReceivedCommandTimes(DeleteSnapshotCommand, 1);
    expect(ec2).toHaveReceivedCommandWith(DeleteSnapshotCommand, { SnapshotId: 'snap-9' });
  });

  it('finds the parts by tag when the set was not listed', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ ...meta, Snapshots: [part('snap-9', 'v1')] });
    ec2.on(DeleteSnapshotCommand).resolves(meta);
    expect(await adapter().removeSet({ id: SET })).toBe('deleted');
    expect(ec2).toHaveReceivedCommandWith(DeleteSnapshotCommand, { SnapshotId: 'snap-9' });
  });
});

describe('ebsBackup.reader', () => {
  it('reads many sets in requests of 20 set ids', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ ...meta, Snapshots: [] });
    const ids = Array.from({ length: 45 }, (_, i) => `steward-i-${i}-202601150300-sched`);
    await adapter().reader.some('ebs', ids);
    expect(ec2).toHaveReceivedCommandTimes(DescribeSnapshotsCommand, 3);
  });

  it('finds the whole set from one of its volumes’ snapshots (what an EBS event names), by its set tag', async () => {
    // Prepare
    ec2
      .on(DescribeSnapshotsCommand, {
        Filters: [
          { Name: 'tag-key', Values: [Tag.set] },
          { Name: 'snapshot-id', Values: ['snap-2'] },
        ],
      })
      .resolves({ ...meta, Snapshots: [part('snap-2', 'vol-2')] })
      .on(DescribeSnapshotsCommand, {
        Filters: [
          { Name: 'tag-key', Values: [Tag.set] },
          { Name: `tag:${Tag.set}`, Values: [SET] },
        ],
      })
      .resolves({ ...meta, Snapshots: [part('snap-1', 'vol-1'), part('snap-2', 'vol-2')] });

    // Act
    const set = await adapter().reader.get('ebs', 'snap-2');

    // Assert
    expect(set?.id).toBe(SET);
    expect(set?.parts?.map((p) => p.id)).toEqual(['snap-1', 'snap-2']);
    expect(ec2).toHaveReceivedCommandTimes(DescribeSnapshotsCommand, 2);
  });

  it('an EBS event naming a copy someone made of a part finds nothing (the DR copy never queues it)', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({
      ...meta,
      Snapshots: [
        part('snap-8', 'vol-ffffffff', { Description: `[Copied snap-2 from ${PRIMARY}] steward ${SET}` }),
      ],
    });
    await expect(adapter().reader.get('ebs', 'snap-8')).resolves.toBeUndefined();
  });

  it('a snapshot that is not part of a steward set finds nothing, in one request', async () => {
    ec2.on(DescribeSnapshotsCommand).resolves({ ...meta, Snapshots: [] });
    await expect(adapter().reader.get('ebs', 'snap-9')).resolves.toBeUndefined();
    expect(ec2).toHaveReceivedCommandTimes(DescribeSnapshotsCommand, 1);
  });
});

describe('ebsBackup.takenSets', () => {
  it('finds which sets of a run exist, 20 set ids a request', async () => {
    // Prepare
    const ids = Array.from({ length: 30 }, (_, i) => `steward-i-${i}-202601150300-sched`);
    ec2
      .on(DescribeSnapshotsCommand)
      .resolvesOnce({ ...meta, Snapshots: [part('snap-1', 'v', {}, { ...setTags, [Tag.set]: ids[3]! })] })
      .resolves({ ...meta, Snapshots: [] });

    // Act
    const taken = await adapter().takenSets(ids);

    // Assert
    expect([...taken]).toEqual([ids[3]]);
    expect(ec2).toHaveReceivedCommandTimes(DescribeSnapshotsCommand, 2);
  });

  it('a create the caller already checked looks nothing up', async () => {
    ec2.on(CreateSnapshotsCommand).resolves({ ...meta, Snapshots: [] });
    const r = await adapter().createSnapshot(
      { kind: 'ebs', dbId: 'i-0abc', snapshotId: SET, tags: setTags, volumes: ['v1'] },
      undefined,
      true,
    );
    expect(r).toBe('created');
    expect(ec2).not.toHaveReceivedCommand(DescribeSnapshotsCommand);
  });
});
