"""moto's server, with the ElastiCache Serverless calls it does not model.

moto 5.2.1 has no ElastiCache Serverless: DescribeServerlessCaches, CreateServerlessCacheSnapshot and the rest
answer HTTP 500 with an HTML page. Steward lists serverless caches wherever it lists replication groups, so every
moto test that lists ElastiCache needs them. This adds, per account and region, what the ElastiCache API
Reference documents and nothing more: CreateServerlessCache (available at once, as moto makes everything),
DescribeServerlessCaches, CreateServerlessCacheSnapshot (SnapshotType `manual`, name stored lowercase,
ServerlessCacheSnapshotAlreadyExistsFault, ServerlessCacheNotFoundFault), DescribeServerlessCacheSnapshots (by
cache, by name, by type), DeleteServerlessCacheSnapshot (ServerlessCacheSnapshotNotFoundFault), and tags on both
ARNs (`serverlesscache:`, `serverlesscachesnapshot:`) through moto's own ListTagsForResource. MaxResults and
NextToken are ignored (every answer is one page), as moto does for its other ElastiCache lists. Everything else
is moto's own server.
"""

import sys
from datetime import datetime, timezone

from moto.core.responses import ActionResult
from moto.elasticache import models, responses
from moto.elasticache.exceptions import ElastiCacheException
from moto.utilities.utils import get_partition


class _Fault(ElastiCacheException):
    """A fault the API Reference names (`code`), with its message."""


_init = models.ElastiCacheBackend.__init__


def _patched_init(self, region_name, account_id):
    _init(self, region_name, account_id)
    self.serverless_caches = {}
    self.serverless_snapshots = {}
    self.arn_regex = models.re_compile(
        r"^arn:aws:elasticache:.*:[0-9]*:"
        r"(cluster|snapshot|subnetgroup|replicationgroup|user|serverlesscache|serverlesscachesnapshot):.*$"
    )


models.ElastiCacheBackend.__init__ = _patched_init


def _backend(r):
    return models.elasticache_backends[r.current_account][r.region]


def _arn(r, kind, name):
    return f"arn:{get_partition(r.region)}:elasticache:{r.region}:{r.current_account}:{kind}:{name}"


def _create_serverless_cache(self):
    b = _backend(self)
    name = self._get_param("ServerlessCacheName")
    if name in b.serverless_caches:
        raise _Fault("ServerlessCacheAlreadyExistsFault", f"Serverless cache {name} already exists.")
    cache = {
        "ServerlessCacheName": name,
        "Description": self._get_param("Description", ""),
        "CreateTime": datetime.now(timezone.utc),
        "Status": "available",
        "Engine": self._get_param("Engine"),
        "MajorEngineVersion": self._get_param("MajorEngineVersion", "7"),
        "FullEngineVersion": self._get_param("MajorEngineVersion", "7") + ".1",
        "ARN": _arn(self, "serverlesscache", name),
        "StorageEncryptionType": "sse-elasticache",
    }
    b.serverless_caches[name] = cache
    tags = self._get_param("Tags", [])
    if tags:
        b.add_tags_to_resource(cache["ARN"], tags)
    return ActionResult({"ServerlessCache": cache})


def _describe_serverless_caches(self):
    b = _backend(self)
    name = self._get_param("ServerlessCacheName")
    if name is not None and name not in b.serverless_caches:
        raise _Fault("ServerlessCacheNotFoundFault", f"Serverless cache {name} not found.")
    caches = [b.serverless_caches[name]] if name is not None else list(b.serverless_caches.values())
    return ActionResult({"ServerlessCaches": caches})


def _create_serverless_cache_snapshot(self):
    b = _backend(self)
    cache_name = self._get_param("ServerlessCacheName")
    # "This value is stored as a lowercase string" (API Reference, ServerlessCacheSnapshotName).
    name = self._get_param("ServerlessCacheSnapshotName").lower()
    cache = b.serverless_caches.get(cache_name)
    if cache is None:
        raise _Fault("ServerlessCacheNotFoundFault", f"Serverless cache {cache_name} not found.")
    if name in b.serverless_snapshots:
        raise _Fault("ServerlessCacheSnapshotAlreadyExistsFault", f"Snapshot {name} already exists.")
    snap = {
        "ServerlessCacheSnapshotName": name,
        "ARN": _arn(self, "serverlesscachesnapshot", name),
        "SnapshotType": "manual",
        "Status": "available",
        "CreateTime": datetime.now(timezone.utc),
        "BytesUsedForCache": "0",
        "ServerlessCacheConfiguration": {
            "ServerlessCacheName": cache_name,
            "Engine": cache["Engine"],
            "MajorEngineVersion": cache["MajorEngineVersion"],
        },
    }
    b.serverless_snapshots[name] = snap
    tags = self._get_param("Tags", [])
    if tags:
        b.add_tags_to_resource(snap["ARN"], tags)
    return ActionResult({"ServerlessCacheSnapshot": snap})


def _describe_serverless_cache_snapshots(self):
    b = _backend(self)
    cache_name = self._get_param("ServerlessCacheName")
    name = self._get_param("ServerlessCacheSnapshotName")
    kind = self._get_param("SnapshotType")
    snaps = [
        s
        for s in b.serverless_snapshots.values()
        if (cache_name is None or s["ServerlessCacheConfiguration"]["ServerlessCacheName"] == cache_name)
        and (name is None or s["ServerlessCacheSnapshotName"] == name.lower())
        and (kind is None or s["SnapshotType"] == kind)
    ]
    return ActionResult({"ServerlessCacheSnapshots": snaps})


def _delete_serverless_cache_snapshot(self):
    b = _backend(self)
    name = self._get_param("ServerlessCacheSnapshotName").lower()
    snap = b.serverless_snapshots.pop(name, None)
    if snap is None:
        raise _Fault("ServerlessCacheSnapshotNotFoundFault", f"Snapshot {name} not found.")
    b.tagging_service.delete_all_tags_for_resource(snap["ARN"])
    return ActionResult({"ServerlessCacheSnapshot": {**snap, "Status": "deleting"}})


R = responses.ElastiCacheResponse
R.create_serverless_cache = _create_serverless_cache
R.describe_serverless_caches = _describe_serverless_caches
R.create_serverless_cache_snapshot = _create_serverless_cache_snapshot
R.describe_serverless_cache_snapshots = _describe_serverless_cache_snapshots
R.delete_serverless_cache_snapshot = _delete_serverless_cache_snapshot

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
