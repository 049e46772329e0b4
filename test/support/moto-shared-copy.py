"""moto's server, with the pieces of RDS and EC2 it does not model: a snapshot another account shares.

moto 5.2.1 looks a CopyDB(Cluster)Snapshot source ARN (and a RestoreDBClusterFromSnapshot one) up in the
*caller's* account, so a copy or restore of a snapshot shared from another account is always "not found". AWS
finds it in the owning account (the ARN names it) and allows the copy or restore only while that account shares it
with the caller (ModifyDBSnapshotAttribute `restore`).

EC2 likewise: moto 5.2.1 stores createVolumePermission (ModifySnapshotAttribute) but CopySnapshot and CreateVolume
look the source snapshot up in the caller's account only, and DescribeSnapshots ignores OwnerIds and
RestorableByUserIds. AWS finds a shared snapshot in its owner's account while the owner grants the caller createVolumePermission,
and lists it to the caller by owner. This wrapper adds exactly that and nothing else; everything else is
moto's own server.
"""

import copy
import os
import runpy
import sys

# ElastiCache Serverless, which moto 5.2.1 lacks (moto-serverless.py): every moto server steward's tests start has it.
runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "moto-serverless.py"))

from moto.rds import models

_get_snapshot = models.RDSBackend.get_snapshot


def _shared_get_snapshot(self, identifier, resource_type, not_found_exception):
    parts = identifier.split(":") if identifier.startswith("arn:") else []
    if len(parts) >= 7 and parts[4] != self.account_id:
        region, owner, name = parts[3], parts[4], parts[-1]
        owner_backend = self.get_backend("rds", region=region, account_id=owner)
        snapshot = owner_backend.resource_map[resource_type].get(name)
        allowed = snapshot is not None and (
            self.account_id in snapshot.attributes["restore"] or "all" in snapshot.attributes["restore"]
        )
        if not allowed:
            raise not_found_exception(identifier)
        return snapshot
    return _get_snapshot(self, identifier, resource_type, not_found_exception)


models.RDSBackend.get_snapshot = _shared_get_snapshot

_restore_cluster = models.RDSBackend.restore_db_cluster_from_snapshot


def _shared_restore_cluster(self, from_snapshot_id, overrides):
    """RestoreDBClusterFromSnapshot by the ARN of a cluster snapshot another account shares with the caller.

    moto 5.2.1 looks the identifier up among the caller's own cluster snapshots; AWS restores a shared cluster
    snapshot by its ARN (Aurora User Guide, "Sharing a DB cluster snapshot"), found in its owner's account.
    """
    parts = from_snapshot_id.split(":") if from_snapshot_id.startswith("arn:") else []
    if len(parts) >= 7 and parts[4] != self.account_id:
        snapshot = self.get_db_cluster_snapshot(from_snapshot_id)
        props = copy.copy(snapshot.cluster.get_cfg())
        for key, value in overrides.items():
            if value:
                props[key] = value
        return self.create_db_cluster(props)
    return _restore_cluster(self, from_snapshot_id, overrides)


models.RDSBackend.restore_db_cluster_from_snapshot = _shared_restore_cluster

from moto.ec2 import models as ec2_models  # noqa: E402
from moto.ec2.exceptions import InvalidSnapshotIdError  # noqa: E402
from moto.ec2.models.elastic_block_store import EBSBackend  # noqa: E402
from moto.ec2.responses.elastic_block_store import ElasticBlockStore  # noqa: E402


def _shared_with(snapshot, account_id):
    return account_id in snapshot.create_volume_permission_userids or (
        "all" in snapshot.create_volume_permission_groups
    )


def _shared_snapshots(account_id, region, owners):
    """Other accounts' snapshots in `region` that they share with `account_id` (of `owners` when given)."""
    found = []
    for owner in list(ec2_models.ec2_backends.keys()):
        if owner == account_id or (owners and owner not in owners):
            continue
        backend = ec2_models.ec2_backends[owner][region]
        found += [s for s in backend.snapshots.values() if _shared_with(s, account_id)]
    return found


_copy_snapshot = EBSBackend.copy_snapshot


def _shared_copy_snapshot(self, source_snapshot_id, source_region, description, kms_key_id):
    try:
        return _copy_snapshot(self, source_snapshot_id, source_region, description, kms_key_id)
    except InvalidSnapshotIdError:
        shared = [s for s in _shared_snapshots(self.account_id, source_region, None) if s.id == source_snapshot_id]
        if not shared:
            raise
        source = shared[0]
        snapshot = ec2_models.elastic_block_store.Snapshot(
            self,
            ec2_models.elastic_block_store.random_snapshot_id(),
            volume=source.volume,
            description=description,
            encrypted=source.encrypted,
            kms_key_id=kms_key_id,
        )
        self.snapshots[snapshot.id] = snapshot
        return snapshot


EBSBackend.copy_snapshot = _shared_copy_snapshot

_create_volume = EBSBackend.create_volume


def _shared_create_volume(self, size, zone_name, snapshot_id=None, *args, **kwargs):
    """CreateVolume from another account's snapshot while it grants the caller createVolumePermission.

    moto 5.2.1 looks the snapshot up in the caller's account only; AWS finds a snapshot shared with the caller in
    its owner's account (EBS User Guide, "Share an Amazon EBS snapshot": the recipient can create volumes from it).
    """
    if snapshot_id and snapshot_id not in self.snapshots:
        shared = [s for s in _shared_snapshots(self.account_id, self.region_name, None) if s.id == snapshot_id]
        if shared:
            own = self.get_snapshot
            self.get_snapshot = lambda sid: shared[0] if sid == snapshot_id else own(sid)
            try:
                return _create_volume(self, size, zone_name, snapshot_id, *args, **kwargs)
            finally:
                del self.get_snapshot
    return _create_volume(self, size, zone_name, snapshot_id, *args, **kwargs)


EBSBackend.create_volume = _shared_create_volume

_describe_snapshots = ElasticBlockStore.describe_snapshots


def _shared_describe_snapshots(self):
    restorable = self._get_param("RestorableByUserIds", [])
    owners = [o for o in self._get_param("OwnerIds", []) if o not in ("self", self.current_account)]
    if not restorable or not owners:
        return _describe_snapshots(self)
    from moto.core.responses import ActionResult

    return ActionResult({"Snapshots": _shared_snapshots(self.current_account, self.region, owners)})


ElasticBlockStore.describe_snapshots = _shared_describe_snapshots

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
