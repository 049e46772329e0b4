import type pg from 'pg';
// pg's Client class, without the rest of pg's index: the index also loads its connection pool (pg-pool) and
// its native binding (pg/lib/native), ~16 KB of the verifier's bundle that a verification never runs. The
// class is the one pg exports as `pg.Client` (the index re-exports this module unless NODE_PG_FORCE_NATIVE
// asks for the libpq binding, which the verifier's bundle does not carry). `pg/lib/*` is in pg's exports.
import Client from 'pg/lib/client.js';

/** What the verifier uses of pg: `pgDriver.Client` is `pg.Client`, loaded alone. */
export const pgDriver: Pick<typeof pg, 'Client'> = { Client };
