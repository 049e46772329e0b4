import type { SnapshotReader } from '../backup/ports.js';
import { deferredPort } from '../deferred.js';
import { once } from '../once.js';
import type { ClientIdentity } from './clients/kit.js';
import type { EbsBackup } from './ebs.js';

// The EBS adapter's module brings EC2's client (it re-exports the factory): loaded by the first EBS call.
const loadEbs = /* @__PURE__ */ once(() => import('./ebs.js'));

/**
 * The EBS adapter of one region, its module (and EC2's client) loaded by the first EBS call: a stage that
 * backs no EBS up, and a run that takes, copies and reads no set (a scheduled RDS backup), never parse it.
 * `as`: the identity its EC2 client signs with (a fleet target's role), else the function's own.
 */
export const ebsLazily = (region: string, as?: ClientIdentity): EbsBackup => {
  const load = once(async () => {
    const { ebsBackup, ec2Client } = await loadEbs();
    return ebsBackup(region, ec2Client(region, undefined, as));
  });
  return deferredPort<EbsBackup>(region, load, {
    reader: deferredPort<SnapshotReader>(region, async () => ({ region, ...(await load()).reader })),
  });
};
