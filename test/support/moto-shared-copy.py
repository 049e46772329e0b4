"""moto's server, with the one piece of RDS it does not model: copying a snapshot another account shares.

moto 5.2.1 looks a CopyDB(Cluster)Snapshot source ARN up in the *caller's* account, so a copy of a snapshot
shared from another account is always "not found". AWS finds it in the owning account (the ARN names it) and
allows the copy only while that account shares it with the caller (ModifyDBSnapshotAttribute `restore`).
This wrapper does exactly that and nothing else; everything else is moto's own server.
"""

import sys

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

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
