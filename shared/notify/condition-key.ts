import type { ResourceKind } from '../model.js';

/** The parts of a database's protection that are paged on separately (shared/report/model.ts `Aspect`). */
export type PagedAspect = 'backup' | 'dr' | 'drill';

/**
 * The pager key of one aspect of one resource: `<kind>:<id>:<aspect>` (`rds-instance:orders:backup`,
 * `elasticache:orders:drill`). The status check and the drill key a condition the same way, so one problem
 * is one incident; the kind keeps an RDS instance and an ElastiCache replication group of the same name
 * apart. The id is lower-cased: RDS, ElastiCache and EC2 identifiers are case-insensitive and AWS stores
 * them in lower case. In a fleet the notifier adds the place (`@<account>/<region>`, notifierAt).
 */
export const conditionKey = (kind: ResourceKind, id: string, aspect: PagedAspect): string =>
  `${kind}:${id.toLowerCase()}:${aspect}`;

/**
 * The key of the same condition before keys named the kind: `<database>:<aspect>`. Only the first status
 * check after an upgrade uses it, to resolve what steward opened under it (README: Upgrade).
 */
export const legacyConditionKey = (database: string, aspect: PagedAspect): string => `${database}:${aspect}`;
