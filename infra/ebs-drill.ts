import { ArnFormat, type Stack } from 'aws-cdk-lib';
import { Tag } from '../shared/tags.js';
import type { Grantee } from './permission.js';

/**
 * What the EBS drill (shared/drill/ebs.ts) needs, least privilege, in its regions (the stage's, and the DR
 * region when a target drills `from: dr`): create volumes only from steward's own snapshots and only tagged
 * as a drill's (tag on create), delete and fast-restore only what carries those tags, and describe (EC2 has
 * no resource-level permission for Describe*).
 */
export const allowEbsDrill = (
  fn: Grantee,
  stack: Stack,
  region: string,
  opts: { drRegion?: string | undefined } = {},
): void => {
  const regions = [region, ...(opts.drRegion && opts.drRegion !== region ? [opts.drRegion] : [])];
  const arns = (resource: string, account?: string) =>
    regions.map((r) =>
      stack.formatArn({
        service: 'ec2',
        region: r,
        resource,
        resourceName: '*',
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        ...(account !== undefined && { account }),
      }),
    );
  // Snapshots are owned by the account; a snapshot ARN names no account (arn:aws:ec2:region::snapshot/id).
  const snapshots = arns('snapshot', '');
  fn.allow({
    sid: 'DrillVolumesFromOwnSnapshots',
    actions: ['ec2:CreateVolume', 'ec2:EnableFastSnapshotRestores', 'ec2:DisableFastSnapshotRestores'],
    resources: snapshots,
    conditions: { StringEquals: { [`aws:ResourceTag/${Tag.managed}`]: 'true' } },
    wildcardReason: `Snapshots are chosen by the drill at run time; only steward's own (${Tag.managed}=true).`,
  });
  fn.allow({
    sid: 'CreateDrillVolumes',
    actions: ['ec2:CreateVolume'],
    resources: arns('volume'),
    conditions: {
      StringEquals: { [`aws:RequestTag/${Tag.managed}`]: 'true' },
      Null: { [`aws:RequestTag/${Tag.drill}`]: 'false' },
    },
    wildcardReason: `A new volume has no id yet; it must be created tagged ${Tag.drill} and ${Tag.managed}.`,
  });
  fn.allow({
    sid: 'TagDrillVolumesOnCreate',
    actions: ['ec2:CreateTags'],
    resources: arns('volume'),
    conditions: { StringEquals: { 'ec2:CreateAction': 'CreateVolume' } },
    wildcardReason: 'Tags only as part of CreateVolume (tag on create), never on an existing volume.',
  });
  fn.allow({
    sid: 'DeleteDrillVolumes',
    actions: ['ec2:DeleteVolume'],
    resources: arns('volume'),
    conditions: {
      StringEquals: { [`aws:ResourceTag/${Tag.managed}`]: 'true' },
      Null: { [`aws:ResourceTag/${Tag.drill}`]: 'false' },
    },
    wildcardReason: `Only volumes tagged ${Tag.drill} and ${Tag.managed}: what a drill restored.`,
  });
  fn.allow({
    sid: 'DescribeDrillVolumes',
    actions: ['ec2:DescribeVolumes', 'ec2:DescribeSnapshots', 'ec2:DescribeFastSnapshotRestores'],
    resources: ['*'],
    wildcardReason:
      'ec2:DescribeVolumes, ec2:DescribeSnapshots and ec2:DescribeFastSnapshotRestores support no resource-level permissions (picking the set, watching the volumes, leaving alone fast snapshot restore someone else turned on).',
  });
  // A drill from the DR copies restores in the DR region's first available zone unless the target names one.
  if (regions.length > 1)
    fn.allow({
      sid: 'DescribeDrZones',
      actions: ['ec2:DescribeAvailabilityZones'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:RequestedRegion': regions[1]! } },
      wildcardReason:
        'ec2:DescribeAvailabilityZones supports no resource-level permissions; held to the DR region.',
    });
};
