import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import { namedRules } from '../../../shared/scaling/alarm-event.js';
import type {
  AlarmEvent,
  AuroraClusterState,
  CacheGroupState,
  NamedRule,
  RdsInstanceState,
} from '../../../shared/scaling/model.js';

/** The prod seed rules plus one of every other action, parsed with the real schema. */
export const scalingConfigInput = {
  stage: 'prod',
  region: 'eu-west-1',
  scaling: {
    enabled: true,
    rules: {
      'orders-db-cpu': {
        alarm: { name: 'orders-db-cpu-high' },
        resource: 'orders-db',
        action: {
          type: 'rds.scaleUp',
          ladder: ['db.r6g.large', 'db.r6g.xlarge', 'db.r6g.2xlarge'],
          max: 'db.r6g.2xlarge',
          applyImmediately: true,
        },
      },
      'orders-db-connections': {
        alarm: { name: 'orders-db-connections-high' },
        resource: 'orders-db',
        action: { type: 'rds.addReadReplica', maxReplicas: 2 },
      },
      'sessions-redis-memory': {
        alarm: { name: 'sessions-redis-memory-high' },
        resource: 'sessions-redis',
        action: { type: 'elasticache.addShard', max: 4 },
      },
      'orders-db-failover': {
        alarm: { name: 'orders-db-unhealthy' },
        resource: 'orders-db',
        action: { type: 'rds.failover' },
        mode: 'approve',
        severity: 'critical',
      },
      'billing-readers': {
        alarm: { prefix: 'billing-aurora-load-' },
        resource: 'billing',
        kind: 'aurora-cluster',
        action: { type: 'rds.addReadReplica', maxReplicas: 3 },
      },
      'billing-failover': {
        alarm: { name: 'billing-aurora-unhealthy' },
        resource: 'billing',
        kind: 'aurora-cluster',
        action: { type: 'rds.failover' },
      },
      'sessions-redis-reads': {
        alarm: { name: 'sessions-redis-cpu-high' },
        resource: 'sessions-redis',
        action: { type: 'elasticache.addReplica', max: 3 },
        scaleIn: { enabled: true, afterOkMinutes: 60 },
      },
      'sessions-redis-recovery': {
        alarm: { name: 'sessions-redis-unhealthy' },
        resource: 'sessions-redis',
        action: { type: 'elasticache.failover' },
      },
      'orders-db-heads-up': {
        alarm: { prefix: 'orders-db-' },
        resource: 'orders-db',
        action: { type: 'notify' },
        severity: 'info',
      },
      'orders-db-cpu-shadow': {
        alarm: { name: 'orders-db-cpu-shadow' },
        resource: 'orders-db',
        action: { type: 'rds.scaleUp', max: 'db.r6g.4xlarge' },
        mode: 'dryRun',
      },
    },
  },
} satisfies StewardConfigInput;

/**
 * `n` databases `db-000`…, each with a scale-up rule (`db-000-cpu` on alarm `db-000-cpu-high`) whose
 * scale-in steps back from xlarge to large; the first `approve` rules ask for approval first.
 */
export const scaleInEstate = (n: number, approve = 0) =>
  ({
    stage: 'prod',
    region: 'eu-west-1',
    scaling: {
      enabled: true,
      rules: Object.fromEntries(
        Array.from({ length: n }, (_, i) => {
          const db = `db-${String(i).padStart(3, '0')}`;
          return [
            `${db}-cpu`,
            {
              alarm: { name: `${db}-cpu-high` },
              resource: db,
              action: {
                type: 'rds.scaleUp',
                ladder: ['db.r6g.large', 'db.r6g.xlarge'],
                max: 'db.r6g.xlarge',
              },
              scaleIn: { enabled: true, afterOkMinutes: 60 },
              ...(i < approve ? { mode: 'approve' } : {}),
            },
          ];
        }),
      ),
    },
  }) satisfies StewardConfigInput;

export const scalingConfig = () => parseConfig(scalingConfigInput, 'test');

export const rule = (name: string): NamedRule => {
  const r = namedRules(scalingConfig().scaling).find((x) => x.name === name);
  if (!r) throw new Error(`no rule ${name}`);
  return r;
};

export const NOW = new Date('2026-01-15T10:30:00Z');

export const alarm = (
  alarmName: string,
  at = '2026-01-15T10:19:59.987Z',
  state: AlarmEvent['state'] = 'ALARM',
): AlarmEvent => ({
  alarmName,
  state,
  at: new Date(at),
  source: 'eventbridge',
});

export const ordersDb = (over: Partial<RdsInstanceState> = {}): RdsInstanceState => ({
  kind: 'rds-instance',
  id: 'orders-db',
  arn: 'arn:aws:rds:eu-west-1:111122223333:db:orders-db',
  status: 'available',
  engine: 'postgres',
  instanceClass: 'db.r6g.large',
  multiAz: true,
  pending: [],
  replicas: [],
  tags: { team: 'orders', 'steward:backup': 'daily', 'aws:cloudformation:stack-name': 'app' },
  ...over,
});

export const billing = (over: Partial<AuroraClusterState> = {}): AuroraClusterState => ({
  kind: 'aurora-cluster',
  id: 'billing',
  arn: 'arn:aws:rds:eu-west-1:111122223333:cluster:billing',
  status: 'available',
  engine: 'aurora-postgresql',
  pending: [],
  members: [
    { id: 'billing-1', writer: true, instanceClass: 'db.r6g.xlarge', status: 'available' },
    { id: 'billing-2', writer: false, instanceClass: 'db.r6g.xlarge', status: 'available' },
  ],
  tags: { team: 'billing' },
  ...over,
});

export const sessions = (over: Partial<CacheGroupState> = {}): CacheGroupState => ({
  kind: 'elasticache',
  id: 'sessions-redis',
  arn: 'arn:aws:elasticache:eu-west-1:111122223333:replicationgroup:sessions-redis',
  status: 'available',
  pending: [],
  clusterMode: true,
  automaticFailover: 'enabled',
  nodeGroups: [
    { id: '0001', status: 'available', replicas: 1 },
    { id: '0002', status: 'available', replicas: 1 },
  ],
  ...over,
});
