// The user-facing description of every config key, and what is generated from it and the zod schema: the
// published JSON Schema (editors autocomplete and check files with it) and the README's configuration
// reference. Tests fail when a schema key has no entry here, an entry names no key, or the committed
// files differ from what is generated (`npm run config:docs` regenerates them). Not imported by Lambdas.
import * as z from '../zod.js';
import { StageName, stewardConfigShape } from './schema.js';
import { strictObject } from './strict.js';

/** The shape of a stage file: the config, plus `$schema` for editors; `stage` may come from the file name. */
export const StewardConfigFile = strictObject({
  $schema: z.optional(z.string()),
  ...stewardConfigShape,
  stage: z.optional(StageName),
});

/** Where the generated JSON Schema is committed (relative to the repository root). */
export const JSON_SCHEMA_PATH = 'shared/config/steward-config.schema.json';

/** Meaning of every key, by path (`<policy>`-style segments are names the user picks, `[]` list items). */
export const KEY_DOCS: Record<string, string> = {
  $schema: 'Path or URL of this JSON Schema, for editors; ignored by steward.',
  stage:
    'Stage name; default: the file name (`steward.<stage>.yaml`). 1–16 lowercase letters, digits and single hyphens: it goes into resource names.',
  account:
    'Account the stack deploys to (quoted); default: the account of the credentials `cdk deploy` uses.',
  region: 'Region the stack deploys to; steward manages this region.',
  dryRun: 'Stage-wide dry run: every destructive function plans and reports, and changes nothing.',
  deletionProtection:
    'Stack termination protection, and the notification key, logs, state table and drill reports kept when the stack is deleted. `false` for throwaway stages.',
  dashboard:
    'The CloudWatch dashboard `Steward-<stage>` (per function: invocations, errors, duration; snapshots, drills, cost, status). Off by default: a dashboard costs $3 a month beyond the account’s three free ones; `steward status` and the hourly status check show the same state.',
  targets:
    'Accounts (one, or every account of an organizational unit) and regions steward manages, each with overrides of the stage’s policies and thresholds. Default: the stage’s own account and region. Targets elsewhere need `fleet`: each scheduled backup and retention cycle then fans out to every account-region target (a Step Functions Distributed Map; an OU target’s accounts are listed through AWS Organizations at the start of each cycle; README: Fleet).',
  'targets[].account': 'Account id (quoted); default: the stage’s account.',
  'targets[].organizationalUnit':
    'Every account of this organizational unit (`ou-…`, or the root `r-…`), instead of `account`: the spoke StackSet deploys to it, and to accounts that join it later.',
  'targets[].regions': 'Regions of that account; default: the stage’s region.',
  'targets[].role':
    'IAM role (name, or ARN for an account target) steward assumes there instead of the spoke roles `steward-<stage>-spoke-<capability>-<region>`.',
  'targets[].backup':
    'What this target changes of `backup` (only the keys given; the rest stays the stage’s).',
  'targets[].backup.quotaWarnPercent': 'This target’s `backup.quotaWarnPercent`.',
  'targets[].backup.policies':
    'Changes to policies of `backup.policies`, by name (a target adds no policy; schedules stay the stage’s).',
  'targets[].backup.policies.<policy>.kinds': 'This target’s `kinds` for the policy.',
  'targets[].backup.policies.<policy>.retention': 'This target’s retention policy for the policy.',
  'targets[].backup.policies.<policy>.copyToDr': 'Whether this target copies the policy’s snapshots to DR.',
  'targets[].backup.policies.<policy>.drLagObjectiveHours': 'This target’s DR-lag objective for the policy.',
  'targets[].retention': 'What this target changes of `retention` (only the keys given).',
  'targets[].retention.deletions': 'This target’s daily deletion limits (`retention.deletions`), key by key.',
  'targets[].retention.deletions.floor': 'This target’s `retention.deletions.floor`.',
  'targets[].retention.deletions.dueMultiple': 'This target’s `retention.deletions.dueMultiple`.',
  'targets[].retention.deletions.safetyCap': 'This target’s `retention.deletions.safetyCap`.',
  'targets[].retention.policies': 'Changes to policies of `retention.policies`, by name.',
  'targets[].retention.policies.<policy>.daily': 'This target’s `daily` for the policy.',
  'targets[].retention.policies.<policy>.weekly': 'This target’s `weekly` for the policy.',
  'targets[].retention.policies.<policy>.monthly': 'This target’s `monthly` for the policy.',
  'targets[].retention.policies.<policy>.yearly': 'This target’s `yearly` for the policy.',
  'targets[].retention.policies.<policy>.keepAtLeast': 'This target’s `keepAtLeast` for the policy.',
  'targets[].scaling':
    'What this target changes of `scaling` when one of its alarms, forwarded by its spoke, scales there (only the keys given; actions and their ceilings stay the stage’s).',
  'targets[].scaling.staleAfterMinutes': 'This target’s `scaling.staleAfterMinutes`.',
  'targets[].scaling.rules': 'Changes to rules of `scaling.rules`, by name (a target adds no rule).',
  'targets[].scaling.rules.<rule>.mode':
    'This target’s `mode` for the rule (e.g. `dryRun` or `approve` in prod).',
  'targets[].scaling.rules.<rule>.severity': 'This target’s `severity` for the rule.',
  'targets[].scaling.rules.<rule>.cooldownMinutes': 'This target’s `cooldownMinutes` for the rule.',
  fleet:
    'Hub and spokes: how the hub (this stage) reaches targets in other accounts. Required once a target names another account or an OU (README: Fleet).',
  'fleet.organizationId':
    'Organization id (`o-…`): spoke roles trust hub principals of this organization only, and the hub’s fleet event bus accepts events from its accounts only.',
  'fleet.externalId':
    'External id the hub passes when it assumes a spoke role (required by the spoke’s trust policy); for accounts outside the organization, or in addition to it.',
  'fleet.callAs':
    'Who creates the spokes’ StackSet: the management account (`SELF`) or a delegated administrator (`DELEGATED_ADMIN`).',
  'fleet.vault':
    'The cross-account backup vault (off without it): every RDS and Aurora snapshot of the targets is also copied into this dedicated account, re-encrypted with its own key; no workload account can write to or delete from it (README: Fleet).',
  'fleet.vault.account':
    'The vault account (quoted): neither the hub nor a target. Deploy `Steward-<stage>-vault` there, once per vault region.',
  'fleet.vault.regions':
    'Regions with a vault stack. Default: every region of the targets; each target region needs one (a shared snapshot is copied within its own region).',
  'fleet.vault.retention':
    'Retention policy (of `retention.policies`) the vault applies to its own copies, with its own role: a workload account cannot shorten it.',
  'fleet.vault.keyAlias':
    'Alias of the vault key in each vault region. Default: `alias/steward-<stage>-vault`.',
  'fleet.maxConcurrency':
    'Targets (account-regions) one scheduled backup or retention cycle works on at once: the Distributed Map’s `MaxConcurrency`, and the reserved concurrency of the backup and retention functions.',
  'fleet.toleratedFailurePercentage':
    'Share of a cycle’s targets that may fail before the cycle stops starting the others (the Distributed Map’s `ToleratedFailurePercentage`); failures within it are named in one notification and stop nothing.',
  notifications:
    'The three severity topics (`steward-<stage>-<severity>`) with their email subscriptions, chat channels and the PagerDuty route.',
  'notifications.critical': 'Pager topic: failed backups, failed drills, quota full, critical cost alerts.',
  'notifications.critical.emails': 'Addresses subscribed to the critical topic (each confirms by email).',
  'notifications.warning': 'Chat topic: function errors, skipped work, warnings.',
  'notifications.warning.emails': 'Addresses subscribed to the warning topic.',
  'notifications.info': 'Email topic: run reports, passed drills.',
  'notifications.info.emails': 'Addresses subscribed to the info topic.',
  'notifications.chat':
    'Chat through Amazon Q Developer in chat applications (formerly AWS Chatbot): every topic message carries its custom-notification JSON for HTTPS subscribers; optionally wire Slack and Teams channels.',
  'notifications.chat.markdown':
    'Markdown of the chat form (`slack` or `teams`): Amazon Q renders it in the target platform’s own markdown.',
  'notifications.chat.slack':
    'A Slack channel to post to (authorize the workspace in the Amazon Q Developer console first). Notifications only: the channel role has no permissions and a guardrail denies every command.',
  'notifications.chat.slack.workspaceId': 'Slack workspace (team) id, e.g. `T07ABCDEF12`.',
  'notifications.chat.slack.channelId':
    'Slack channel id, e.g. `C07ABCDEF12` (private channels start with `G`).',
  'notifications.chat.slack.severities': 'Topics the channel shows.',
  'notifications.chat.teams':
    'A Microsoft Teams channel to post to (authorize the team in the Amazon Q Developer console first); notifications only, as for Slack.',
  'notifications.chat.teams.teamId': 'Team id (UUID), from the channel link.',
  'notifications.chat.teams.tenantId': 'Microsoft Entra tenant id (UUID), from the channel link.',
  'notifications.chat.teams.channelId':
    'Channel id as in the channel link (`19:…@thread.tacv2`, URL-encoded or not).',
  'notifications.chat.teams.severities': 'Topics the channel shows.',
  'notifications.pagerDuty':
    'PagerDuty Events API v2 through an EventBridge API destination: conditions steward finds open incidents, and the same dedup key resolves them when steward reports them cleared.',
  'notifications.pagerDuty.routingKeySecret':
    'Name or ARN of the Secrets Manager secret holding the integration (routing) key, as a plain string. Never the key itself: the key stays in the EventBridge connection and out of config, templates and logs.',
  'notifications.pagerDuty.severities':
    'Signals at these severities trigger incidents; every resolve is sent.',
  'notifications.pagerDuty.endpoint':
    'Events API v2 endpoint (the EU service region uses `https://events.eu.pagerduty.com/v2/enqueue`).',
  backup: 'Scheduled snapshots of tagged databases, pre-change snapshots, DR copies.',
  'backup.preChangeRetainDays': 'Default `retainDays` of a pre-change (ad-hoc) snapshot.',
  'backup.quotaWarnPercent':
    'Warn at this share of the manual snapshot quota; at 100 % nothing is created and the critical topic is told.',
  'backup.maxCopiesInFlight':
    'Cross-region copies in flight per destination region (AWS documents 20 DB snapshot copies and 5 DB cluster snapshot copies; cluster copies also stay under 5). A copy starts when another finishes (RDS-EVENT-0060).',
  'backup.copySchedule':
    'Safety net: a full listing of both regions that starts what events missed (RDS events are best effort; Aurora cluster copies have no copy-finished event).',
  'backup.drLag':
    'The DR-lag metric: the worst database of each copying policy (`DrLagMaxSeconds`, dimension `policy`), sent while it is over the objective.',
  'backup.drLag.metricPerDatabase':
    'Also publish `DrLagSeconds` per database (dimension `database`): one custom metric each, about $0.30 a month (500 databases: ~$150 a month).',
  'backup.policies':
    'Backup policies by name (lowercase, digits, hyphens); a database opts in with the tag `steward:backup=<policy>`. `adhoc` is reserved.',
  'backup.policies.<policy>.schedule': 'When the policy snapshots its databases.',
  'backup.policies.<policy>.timezone':
    'IANA time zone the schedule is evaluated in; retention maths stays in UTC.',
  'backup.policies.<policy>.kinds':
    'Which kinds of tagged resources the policy snapshots; `ebs`: EC2 instances (all attached volumes, one crash-consistent set) and single volumes.',
  'backup.policies.<policy>.retention':
    'Name of the retention policy (in `retention.policies`) for its snapshots.',
  'backup.policies.<policy>.copyToDr': 'Copy its snapshots to `dr.region` (needs `dr.kmsKeyArn`).',
  'backup.policies.<policy>.drLagObjectiveHours':
    'DR-lag objective: the alarm `steward-<stage>-dr-lag-<policy>` fires when the newest DR data of any of its databases is older. Default: the schedule interval plus `report.drGraceHours` (36 h for a daily backup), where `steward status` calls the copy LATE.',
  'backup.policies.<policy>.consistency':
    'Application consistency of the policy’s EC2 instances: commands run through Systems Manager Run Command (steward’s own Command document) before and after each snapshot set, and an optional dump to S3. Without it a snapshot set is crash-consistent.',
  'backup.policies.<policy>.consistency.pre':
    'Freeze or lock before the snapshot (`fsfreeze -f /data`, `mongosh --eval "db.fsyncLock()"`), run as written by the instance’s SSM Agent. Needs `post`.',
  'backup.policies.<policy>.consistency.post':
    'Thaw or unlock after it; runs whatever happened to the pre command or the snapshot, and must be safe to run twice.',
  'backup.policies.<policy>.consistency.timeoutSeconds':
    'Execution timeout of the pre and of the post command on the instance.',
  'backup.policies.<policy>.consistency.maxFreezeSeconds':
    'The longest the application stays frozen: steward thaws when the snapshot call has not returned in time, and a watchdog on the instance runs the post command after this long even if steward never comes back. At least twice `timeoutSeconds` plus 10.',
  'backup.policies.<policy>.consistency.onPreFailure':
    '`crash-consistent`: a failed pre command still gets a snapshot set, taken after the post command. `skip`: none this run.',
  'backup.policies.<policy>.consistency.dump':
    'A dump streamed to S3 by the instance before the freeze (`<command> | aws s3 cp - s3://<bucket>/<key>`), tagged by steward and kept by the policy’s retention.',
  'backup.policies.<policy>.consistency.dump.command':
    'Writes the dump to stdout, e.g. `mongodump --archive --gzip`.',
  'backup.policies.<policy>.consistency.dump.bucket':
    'The bucket the instance’s own role writes to (`s3:PutObject` and `s3:DeleteObject` on the prefix).',
  'backup.policies.<policy>.consistency.dump.prefix':
    'Key prefix: a dump lands at `<prefix><policy>/<instance id>/<snapshot set id>.dump`, the same key for a retried run.',
  'backup.policies.<policy>.consistency.dump.timeoutSeconds':
    'Execution timeout of the dump on the instance.',
  'backup.policies.<policy>.consistency.instances':
    'By instance id: the instance’s own settings (the same keys), or `false` for crash-consistent snapshot sets only.',
  retention: 'Grandfather-father-son expiry of steward’s own snapshots.',
  'retention.schedule': 'When retention runs.',
  'retention.deletions':
    'How many snapshots retention may delete per UTC day, all runs together (the daily budget in the state table): max(`floor`, `dueMultiple` × what became due in the last 48 h and is still there), never more than `safetyCap`. Normal expiry always fits; a policy change that expires much at once drains over days, oldest first.',
  'retention.deletions.floor':
    'Deletions always allowed per day, whatever is due: a small estate still catches up a backlog.',
  'retention.deletions.dueMultiple':
    'Deletions allowed per day as a multiple of what became due in the last 48 h and is still there (in steady state, the estate’s normal daily expiry): 2 clears one missed day while keeping up.',
  'retention.deletions.safetyCap':
    'Never more deletions per day. Reaching it stops deleting for the day and alerts on the critical topic with the counts (metric `SafetyCapHit`): a policy change, a removed hold or a bad inventory. Must be at least `floor`; raise it when the alert says the normal daily expiry alone exceeds it.',
  'retention.includeDrRegion': 'Also sweep the DR region’s copies.',
  'retention.policies': 'Retention policies by name, referenced by `backup.policies.<policy>.retention`.',
  'retention.policies.<policy>.daily':
    'Keep the newest snapshot of each of the N most recent days that have one (UTC).',
  'retention.policies.<policy>.weekly': 'Keep the newest snapshot of each of the N most recent ISO weeks.',
  'retention.policies.<policy>.monthly': 'Keep the newest snapshot of each of the N most recent months.',
  'retention.policies.<policy>.yearly': 'Keep the newest snapshot of each of the N most recent years.',
  'retention.policies.<policy>.keepAtLeast': 'Never keep fewer available snapshots of one database.',
  dr: 'Disaster-recovery region for snapshot copies.',
  'dr.region': 'Destination of copies; must differ from the regions steward backs up.',
  'dr.kmsKeyArn': 'KMS key (or alias) in `dr.region` for encrypted copies; required when a policy copies.',
  drill: 'Restore drills: prove that backups restore and measure RTO and RPO (README: DR drills).',
  'drill.enabled': 'Deploy the drill VPC, state machine, schedules and janitor.',
  'drill.schedule': 'Default drill schedule of every target (monthly).',
  'drill.rtoSeconds': 'RTO target: drill start to the first verified query (verification finished).',
  'drill.rpoSeconds': 'RPO target: snapshot (or point in time) to the newest row.',
  'drill.timeoutSeconds': 'A drill not verified by then fails (and still cleans up).',
  'drill.pollSeconds': 'Wait this long for the RDS event before polling the restore.',
  'drill.janitorMaxAgeHours': 'The janitor deletes `steward:drill` resources older than this, and says so.',
  'drill.janitorSchedule': 'When the janitor looks for leftovers.',
  'drill.endpoints':
    'Interface endpoints an opt-in drill feature needs in the drill VPC (Secrets Manager for secret logins, Systems Manager for the EBS verifier).',
  'drill.endpoints.mode':
    '`per-drill`: a drill creates them and the last running drill deletes them (billed for drill hours only). `always-on`: deployed with the stack, billed every hour (~$7.30 a month per endpoint and AZ).',
  'drill.endpoints.timeoutSeconds':
    '`per-drill`: a drill whose endpoints are not available by then stops, inconclusive, and cleans up.',
  'drill.reportRetentionDays': 'Drill reports kept in the report bucket this long.',
  'drill.prices':
    'Prices of the cost estimate in each drill report; steward ships us-east-1 on-demand list prices (an estimate).',
  'drill.prices.instanceUsdPerHour':
    '$ per hour by instance class, replacing or adding to the built-in list (e.g. your region’s prices).',
  'drill.prices.multiplier': 'Multiplies the built-in list prices: your region’s uplift over us-east-1.',
  'drill.targets': 'Databases that get drills, by DB instance or Aurora cluster identifier.',
  'drill.targets.<database>.kind': 'What the identifier names.',
  'drill.targets.<database>.from':
    "`source`: the database's own snapshots. `vault`: the backup vault's copies of it (needs `fleet.vault` with this region), shared with this account for the drill only: the recovery path after an account compromise.",
  'drill.targets.<database>.account':
    "With `from: vault`: the account the database lives in (the hub's or a target's); default the stage's `account`.",
  'drill.targets.<database>.schedule': 'Overrides `drill.schedule` for this database.',
  'drill.targets.<database>.snapshot':
    'What to restore: `latest`, `{ randomWithinDays: N }`, `{ id: <snapshot> }` or `{ pointInTime: <ISO time> }`.',
  'drill.targets.<database>.snapshot.randomWithinDays':
    'A random available snapshot of the last N days (seeded by the execution name).',
  'drill.targets.<database>.snapshot.id': 'This snapshot.',
  'drill.targets.<database>.snapshot.pointInTime':
    'Point-in-time restore to this moment (ISO time with offset).',
  'drill.targets.<database>.profile': 'What to check in the restored database.',
  'drill.targets.<database>.profile.database': 'Database to connect to.',
  'drill.targets.<database>.profile.schemas': 'Schemas that must exist.',
  'drill.targets.<database>.profile.tables': 'Tables to check.',
  'drill.targets.<database>.profile.tables[].name': '`table` or `schema.table`.',
  'drill.targets.<database>.profile.tables[].minRows': 'Fewer rows fail the drill.',
  'drill.targets.<database>.profile.tables[].baselineRows':
    'Expected rows; default: the count of the last passed drill.',
  'drill.targets.<database>.profile.tables[].tolerancePct': 'Allowed drop below the baseline, in percent.',
  'drill.targets.<database>.profile.tables[].freshnessColumn':
    'Timestamp column whose newest value gives the data RPO.',
  'drill.targets.<database>.profile.tables[].checksum':
    'md5 over a sample of rows, compared with the last passed drill.',
  'drill.targets.<database>.profile.tables[].checksum.sampleRows': 'Rows in the sample.',
  'drill.targets.<database>.profile.tables[].checksum.orderBy':
    'Columns (with `asc`/`desc`) that order the sample: a unique, append-only order such as the primary key.',
  'drill.targets.<database>.profile.tables[].exactCountMaxBytes':
    'Overrides the profile’s `exactCountMaxBytes` for this table.',
  'drill.targets.<database>.profile.tables[].key':
    'Indexed integer column for key-range probes; default: a one-column integer primary key.',
  'drill.targets.<database>.profile.assertions': 'Read-only SQL checks.',
  'drill.targets.<database>.profile.assertions[].name': 'Names the check in the report.',
  'drill.targets.<database>.profile.assertions[].sql':
    'Returns one row with one boolean column: `true` passes.',
  'drill.targets.<database>.profile.assertions[].timeoutSeconds':
    'Its time bound; default `statementTimeoutMs`. Not finished by then: the drill is inconclusive, not failed.',
  'drill.targets.<database>.profile.assertions[].maxCost':
    'Declared planner cost: EXPLAIN first, and do not run it (inconclusive) when the plan costs more.',
  'drill.targets.<database>.profile.rpoTargetSeconds': 'The drill fails when the data RPO exceeds this.',
  'drill.targets.<database>.profile.connectTimeoutMs': 'Connection timeout.',
  'drill.targets.<database>.profile.statementTimeoutMs':
    'Time bound of each check (server-side statement_timeout), capped by what is left of `budgetSeconds`.',
  'drill.targets.<database>.profile.budgetSeconds':
    'Time budget of the whole verification (a Lambda: at most 840 s); a check it cannot cover is not finished.',
  'drill.targets.<database>.profile.exactCountMaxBytes':
    'Tables with a larger heap are estimated (planner statistics after ANALYZE) and sampled, not counted.',
  'drill.targets.<database>.profile.samplePages':
    'Random pages the sample check of an estimated table reads (every row on them is counted, empty pages too).',
  'drill.targets.<database>.profile.probes':
    'Key ranges probed (exact counts) per table with a key; 0: none.',
  'drill.targets.<database>.profile.probeRows': 'Rows each probed key range spans, about.',
  'drill.targets.<database>.auth':
    '`iam`: the verifier logs in with IAM database authentication as `iamUser` (no secret, no always-on endpoint). `secret`: with `secretArn` or the RDS-managed master user secret, through a Secrets Manager endpoint in the drill VPC, created for the duration of each drill (`drill.endpoints`; always on: about $15 a month).',
  'drill.targets.<database>.iamUser':
    'Role the verifier logs in as with `auth: iam`: create it in the source database, granted `rds_iam` and read access (README: DR drills).',
  'drill.targets.<database>.secretArn':
    'With `auth: secret`: Secrets Manager secret with the credentials; default: the RDS-managed master user secret.',
  'drill.targets.<database>.restore': 'What the copy is restored on; the report states it.',
  'drill.targets.<database>.restore.instanceClass':
    '`source`: the source’s class (what a real recovery runs on); or a stated (cheaper) class.',
  'drill.targets.<database>.restore.storageType':
    'RDS `gp2`, `gp3`, `io1`, `io2`; Aurora `aurora` or `aurora-iopt1`; default: the snapshot’s.',
  'drill.targets.<database>.restore.iops': 'Provisioned IOPS (gp3, io1, io2); default: the snapshot’s.',
  'drill.targets.<database>.restore.storageThroughputMiBps':
    'gp3 throughput in MiB/s; default: the snapshot’s.',
  'drill.targets.<database>.restore.instances':
    'Aurora: instances in the restored cluster (writer plus readers), as in production.',
  'drill.targets.<database>.warmup':
    'The full read that pulls lazily loaded storage in, after verification: the second RTO figure.',
  'drill.targets.<database>.warmup.enabled': 'Warm the copy up and report time-to-warm.',
  'drill.targets.<database>.warmup.tables':
    '`all` user tables (with indexes and TOAST when pg_prewarm is installed), or a list.',
  'drill.targets.<database>.warmup.parallelism':
    'Connections reading at once; a large table is cut into 1 GiB units they share.',
  'drill.targets.<database>.warmup.chunkSeconds':
    'Reading per verifier invocation (a Lambda); the state machine loops until done.',
  'drill.targets.<database>.warmup.maxSeconds': 'Warm-up stops after this long, reporting how far it got.',
  'drill.targets.<database>.warmup.rtoSeconds':
    'Time-to-warm target (drill start to warm); missing it fails the drill.',
  'drill.targets.<database>.costCeilingUsd':
    'Stop the drill (and delete the copy) before its estimated cost would exceed this.',
  'drill.targets.<database>.rtoSeconds': 'Overrides `drill.rtoSeconds`.',
  'drill.targets.<database>.rpoSeconds': 'Overrides `drill.rpoSeconds`.',
  'drill.caches':
    'ElastiCache (Redis OSS / Valkey) replication groups that get Redis drills, by replication group id.',
  'drill.caches.<cache>.replicationGroupId': 'The replication group; default: the name.',
  'drill.caches.<cache>.from':
    '`source`: an ElastiCache snapshot in the stage region. `dr`: the RDB copy in the DR bucket, restored in `dr.region`.',
  'drill.caches.<cache>.schedule': 'Overrides `drill.schedule` for this cache.',
  'drill.caches.<cache>.snapshot':
    'What to restore: `latest`, `{ randomWithinDays: N }` or `{ id: <snapshot> }` (ElastiCache has no point in time).',
  'drill.caches.<cache>.snapshot.randomWithinDays': 'Draw among the available snapshots of the last N days.',
  'drill.caches.<cache>.snapshot.id': 'This snapshot.',
  'drill.caches.<cache>.snapshot.pointInTime': 'Refused: ElastiCache restores snapshots only.',
  'drill.caches.<cache>.checks': 'What to check in the restored copy.',
  'drill.caches.<cache>.checks.databases':
    'Key counts (`DBSIZE`) per logical database, against a baseline; default database 0 against the last passed drill.',
  'drill.caches.<cache>.checks.databases[].db': 'Logical database number (0–15).',
  'drill.caches.<cache>.checks.databases[].minKeys': 'Fewer keys fail the drill.',
  'drill.caches.<cache>.checks.databases[].baselineKeys':
    'Expected key count; default: the count of the last passed drill.',
  'drill.caches.<cache>.checks.databases[].tolerancePct':
    'Allowed drop below the baseline, in percent (keys expire between drills).',
  'drill.caches.<cache>.checks.keys': 'Keys that must exist with these types.',
  'drill.caches.<cache>.checks.keys[].key': 'Key name.',
  'drill.caches.<cache>.checks.keys[].db': 'Its logical database.',
  'drill.caches.<cache>.checks.keys[].type': 'Its type (`TYPE`): string, hash, list, set, zset or stream.',
  'drill.caches.<cache>.checks.patterns':
    'Pattern checks: `SCAN MATCH` with a bounded walk; sampled keys checked for type and TTL.',
  'drill.caches.<cache>.checks.patterns[].name': 'Names the check in the report; default the pattern.',
  'drill.caches.<cache>.checks.patterns[].match': 'Glob, as `SCAN MATCH` takes it (`session:*`).',
  'drill.caches.<cache>.checks.patterns[].db': 'Its logical database.',
  'drill.caches.<cache>.checks.patterns[].minKeys':
    'At least this many keys match (exact when the walk finished, else extrapolated from the share walked).',
  'drill.caches.<cache>.checks.patterns[].type': 'Every sampled matching key has this type.',
  'drill.caches.<cache>.checks.patterns[].mustExpire':
    'Every sampled matching key has a TTL (sessions, rate-limit windows): one without has lost it.',
  'drill.caches.<cache>.checks.patterns[].sample': 'Matching keys whose `TYPE` and `PTTL` are read.',
  'drill.caches.<cache>.checks.patterns[].maxScan': 'The walk reads at most this many keys of the database.',
  'drill.caches.<cache>.checks.freshness':
    'Where the newest write is recorded; its age at the snapshot time is the data RPO.',
  'drill.caches.<cache>.checks.freshness.key':
    'A string of epoch seconds, epoch milliseconds or an ISO time, or a stream (its last entry id).',
  'drill.caches.<cache>.checks.freshness.db': 'Its logical database.',
  'drill.caches.<cache>.checks.rpoTargetSeconds': 'The drill fails when the data RPO exceeds this.',
  'drill.caches.<cache>.checks.connectTimeoutMs': 'Connection (and TLS handshake and AUTH) timeout.',
  'drill.caches.<cache>.checks.commandTimeoutMs': 'Each command’s time bound.',
  'drill.caches.<cache>.checks.budgetSeconds':
    'The whole verification’s time budget; a check it cannot cover is not finished (inconclusive).',
  'drill.caches.<cache>.checks.scanCount': 'Keys asked per `SCAN` call (its `COUNT` hint).',
  'drill.caches.<cache>.auth':
    "`token`: the AUTH token in `secretArn`; `user`: an RBAC user, `secretArn` holding `username` and `password`; `none`: no AUTH; `iam` (AWS): steward's IAM-authenticated user, no secret and no VPC endpoint.",
  'drill.caches.<cache>.secretArn':
    'Secret with the AUTH token (its `password` field, or the whole string) or the RBAC user’s `username` and `password`.',
  'drill.caches.<cache>.userGroupId':
    "`auth: user`: the source's RBAC user group (holding the user in `secretArn`), attached to the restored copy, which a restore does not carry over.",
  'drill.caches.<cache>.tls':
    'Connect with TLS, verifying the certificate and host name (in-transit encryption).',
  'drill.caches.<cache>.nodeType':
    "Node type of the restored copy; default: the smallest whose memory (less 25 % reserved) holds the snapshot's largest shard with 10 % to spare.",
  'drill.caches.<cache>.costCeilingUsd':
    'Stop the drill (and delete the copy) before its estimated cost would exceed this.',
  'drill.caches.<cache>.rtoSeconds': 'Overrides `drill.rtoSeconds`.',
  'drill.caches.<cache>.rpoSeconds': 'Overrides `drill.rpoSeconds`.',
  'drill.volumes':
    'EC2 instances (every volume of their snapshot set) and EBS volumes that get EBS drills, by instance or volume id (README: The EBS drill).',
  'drill.volumes.<instance or volume>.from':
    "`source`: the sets in the stage region. `dr`: their copies in `dr.region` (a policy with `copyToDr`), restored there (and verified there with `verify`, in the `-dr` stack's drill network). `vault`: the backup vault's copies of the sets (`fleet.vault`), shared with this account for the drill and restored here (README: EBS drills from the vault).",
  'drill.volumes.<instance or volume>.account':
    "With `from: vault`: the account the instance or volume lives in (the hub's or a target's); default the stage's `account`.",
  'drill.volumes.<instance or volume>.schedule': 'Overrides `drill.schedule` for this instance or volume.',
  'drill.volumes.<instance or volume>.snapshot':
    'Which snapshot set: `latest` complete set, `{ randomWithinDays: N }` or `{ id: <set id> }` (EBS has no point in time).',
  'drill.volumes.<instance or volume>.snapshot.randomWithinDays':
    'Draw among the complete sets of the last N days (seeded by the execution, so a retry picks the same).',
  'drill.volumes.<instance or volume>.snapshot.id': 'This set (its `steward:set` tag).',
  'drill.volumes.<instance or volume>.snapshot.pointInTime': 'Refused: EBS restores snapshot sets only.',
  'drill.volumes.<instance or volume>.availabilityZone':
    "Where the volumes are restored; default: the zone of the drill VPC's first subnet (with `from: dr`, the DR region's first available zone, which this must then be in).",
  'drill.volumes.<instance or volume>.volumeType': 'Volume type of the restored volumes.',
  'drill.volumes.<instance or volume>.fastSnapshotRestore':
    'Fast snapshot restore for the set’s snapshots in that zone while the drill runs (billed per snapshot and zone hour, one-hour minimum).',
  'drill.volumes.<instance or volume>.timeoutSeconds':
    'A volume not available by then fails the drill (the volumes are still deleted).',
  'drill.volumes.<instance or volume>.pollSeconds':
    'Seconds between two checks of the volumes (a Wait state of the state machine).',
  'drill.volumes.<instance or volume>.verify':
    'A read-only check of the restored volumes on a short-lived verifier instance in the drill network (README: The EBS drill’s verifier). Absent: restore-only. A failed check fails the drill; one that could not run makes it inconclusive.',
  'drill.volumes.<instance or volume>.verify.command':
    'Run as written on the verifier (root, POSIX sh) with the restored volumes attached at the devices the report lists, e.g. `fsck -n /dev/sdf1`. Exit status 0 passes.',
  'drill.volumes.<instance or volume>.verify.timeoutSeconds':
    'Execution timeout of the check on the instance.',
  'drill.volumes.<instance or volume>.verify.instanceType':
    'The verifier’s instance type: arm64 (Graviton), as its image is.',
  'drill.volumes.<instance or volume>.verify.registrationSeconds':
    'How long the instance may take to boot and register with Systems Manager; with timeoutSeconds at most 525 s (one Lambda invocation).',
  'drill.volumes.<instance or volume>.rtoSeconds':
    'RTO target (drill start to every volume available); default `drill.rtoSeconds`.',
  'drill.volumes.<instance or volume>.rpoSeconds':
    "RPO target: the set's age at the drill's start, judged for `latest` only; default 25 h (daily sets).",
  cost: 'Cost alerts: monthly thresholds, forecast, spikes, per-hour limits, anomalies (README: Cost alerts).',
  'cost.enabled': 'Deploy the cost alerts: budgets or the scheduled check, and the anomaly rule.',
  'cost.alertsBy':
    '`budgets`: AWS Budgets watch the thresholds and per-hour limits (no request fees); `cost-explorer`: the scheduled check ($0.01 a request), which adds spikes, hourly granularity and breakdowns.',
  'cost.schedule':
    '`cost-explorer` only: when the cost check runs (2 Cost Explorer requests, $0.02, plus the anomaly poll: see `cost.anomalies`).',
  'cost.thresholds': 'Monthly totals that alert once per month, on actuals and on the forecast.',
  'cost.thresholds[].amountUsd':
    "Month total in the account's billing currency (Cost Explorer's unit: USD for most accounts, whatever the name); reached = at or above.",
  'cost.thresholds[].severity': 'Topic of the alert.',
  'cost.thresholds[].id': 'Names the threshold and keys its dedup; default `usd-<amount>`.',
  'cost.metric': 'Cost metric the thresholds are written in (the budgets track the same metric).',
  'cost.forecast': 'Also judge the thresholds on the forecast month-end.',
  'cost.groupBy':
    '`cost-explorer` only: second grouping, `{ tag: <cost allocation tag> }` or `linked-account`.',
  'cost.groupBy.tag': 'Cost allocation tag key.',
  'cost.spikes':
    '`cost-explorer` only: yesterday against the mean of the days before, per service (with budgets, Cost Anomaly Detection watches spikes).',
  'cost.spikes.enabled': 'Alert on spikes.',
  'cost.spikes.baselineDays': 'Days in the baseline (a missing day counts as $0).',
  'cost.spikes.minIncreasePercent': 'Increase in percent that must be exceeded (as well as the USD one).',
  'cost.spikes.minIncreaseUsd':
    "Increase in the account's billing currency (USD for most) that must be exceeded (as well as the percent one).",
  'cost.spikes.severity': 'Topic of spike alerts.',
  'cost.hourly':
    '`cost-explorer` only: the account has hourly granularity in Cost Explorer (one more request per run).',
  'cost.hourlyLimits':
    'Per-hour spend limits on named services (LLM/API spend); with budgets, a daily budget of 24 × the limit.',
  'cost.hourlyLimits[].id': 'Names the limit.',
  'cost.hourlyLimits[].services':
    'Service names as Cost Explorer spells them; `*` matches any characters (with budgets only at the start and/or end).',
  'cost.hourlyLimits[].maxUsdPerHour': "Limit per hour in the account's billing currency (USD for most).",
  'cost.hourlyLimits[].severity': 'Topic of the alert.',
  'cost.anomalies':
    'Cost Anomaly Detection: accepted as events; with `cost-explorer` also polled ($0.01) as the fallback: on a daily schedule every `lookbackDays`-th day, otherwise each run.',
  'cost.anomalies.enabled': 'Alert on anomalies.',
  'cost.anomalies.lookbackDays':
    'Poll anomalies that ended in the last N days, and 2 more (one is found up to 2 days after its last day); a daily schedule polls every N-th day, so the polls cover every day.',
  'cost.anomalies.minImpactUsd': 'Smaller anomalies are neither alerted nor remembered.',
  'cost.anomalies.routes': 'Severity by impact: the highest `atLeastUsd` at or below the impact wins.',
  'cost.anomalies.routes[].atLeastUsd': 'Lowest impact of the route.',
  'cost.anomalies.routes[].severity': 'Topic of the alert.',
  'cost.anomalies.snsTopicArn':
    'Existing SNS topic of an IMMEDIATE anomaly subscription; the function subscribes.',
  'cost.consoleUrl': 'Link at the end of every cost message.',
  scaling: 'Guarded responses to CloudWatch alarms (README: Scaling and remediation playbooks).',
  'backup.maintenance':
    'AWS Health scheduled changes and issues of what steward protects (RDS, ElastiCache, EC2 instances and EBS volumes).',
  'backup.maintenance.enabled':
    'Take a pre-change snapshot before every scheduled change, and tell the issues that name a protected resource (or the region’s service, for a public issue).',
  'backup.maintenance.leadMinutes':
    'How long before the window starts the snapshot is taken (an EventBridge Scheduler one-time schedule).',
  'scaling.enabled': 'Deploy the scaling function, its rules and alarms.',
  'scaling.approvalTtlHours': 'An approval not executed by then is refused.',
  'scaling.dedupTtlHours':
    'How long a handled alarm transition is remembered (EventBridge retries for 24 h).',
  'scaling.alarmTopicArns':
    'SNS topics your alarms already notify; the function subscribes, filtered to the rules.',
  'scaling.scaleInSchedule': 'How often scale-in looks for alarms that stayed OK long enough.',
  'scaling.staleAfterMinutes':
    'An ALARM older than this when it arrives is reported and not acted on (a late redelivery).',
  'scaling.clockSkewSeconds': 'An alarm state time further than this in the future is refused.',
  'scaling.delivery':
    '`eventbridge`: a few rules for all the rules’ alarms; `lambda-action`: the alarms invoke the function (≤ 10 permissions, by alarm name prefix and account).',
  'scaling.rules.<rule>.alarm.breach':
    'Side of the threshold the rule answers: `above`, `below` or `any`. Default `any` for a static threshold, `above` for an anomaly band (which fires both ways).',
  'scaling.rules': 'Rules by name (lowercase, digits, hyphens): one alarm, one action, one resource.',
  'scaling.rules.<rule>.alarm': 'The alarm(s) the rule answers: `{ name, create? }` or `{ prefix }`.',
  'scaling.rules.<rule>.alarm.name': 'One alarm, by name.',
  'scaling.rules.<rule>.alarm.create': 'Let steward create the alarm (otherwise react to one you own).',
  'scaling.rules.<rule>.alarm.create.metric': 'Metric of the resource (AWS/RDS or AWS/ElastiCache).',
  'scaling.rules.<rule>.alarm.create.threshold': 'Alarm threshold.',
  'scaling.rules.<rule>.alarm.create.comparison': 'Metric against threshold.',
  'scaling.rules.<rule>.alarm.create.statistic': 'Statistic of the metric.',
  'scaling.rules.<rule>.alarm.create.periodSeconds': 'Period of each datapoint.',
  'scaling.rules.<rule>.alarm.create.evaluationPeriods': 'Periods evaluated.',
  'scaling.rules.<rule>.alarm.create.datapointsToAlarm': 'Breaching datapoints needed; default all of them.',
  'scaling.rules.<rule>.alarm.create.dimensions':
    'Metric dimensions; default the resource. ElastiCache needs one node, e.g. `{ CacheClusterId: <group>-0001-001 }`.',
  'scaling.rules.<rule>.alarm.prefix': 'Every alarm whose name starts with this.',
  'scaling.rules.<rule>.resource': 'DB instance, Aurora cluster or replication group identifier.',
  'scaling.rules.<rule>.kind': 'What `resource` names; default: the action’s first kind.',
  'scaling.rules.<rule>.action': 'What the rule does (README: Actions).',
  'scaling.rules.<rule>.action.type': 'The action.',
  'scaling.rules.<rule>.action.ladder':
    '`rds.scaleUp`: classes in order, one family; default the family’s sizes.',
  'scaling.rules.<rule>.action.max':
    '`rds.scaleUp`: highest class; `elasticache.addShard`: most shards; `elasticache.addReplica`: most replicas per shard.',
  'scaling.rules.<rule>.action.applyImmediately':
    '`rds.scaleUp`: apply now rather than in the next maintenance window.',
  'scaling.rules.<rule>.action.maxReplicas': '`rds.addReadReplica`: most read replicas (readers for Aurora).',
  'scaling.rules.<rule>.action.instanceClass':
    '`rds.addReadReplica`: class of new replicas; default the source’s.',
  'scaling.rules.<rule>.action.nodeGroupId': '`elasticache.failover`: shard to fail over.',
  'scaling.rules.<rule>.mode':
    '`auto` acts; `approve` waits for `steward approve <id>`; `dryRun` only tells.',
  'scaling.rules.<rule>.severity': 'Topic of the rule’s notifications (failures are always critical).',
  'scaling.rules.<rule>.cooldownMinutes': 'Quiet time per resource after steward changed it.',
  'scaling.rules.<rule>.scaleIn': 'Step back after the alarm stayed OK (rules with `alarm.name` only).',
  'scaling.rules.<rule>.scaleIn.enabled': 'Scale in.',
  'scaling.rules.<rule>.scaleIn.afterOkMinutes': 'How long OK must hold before one step back.',
  'scaling.rules.<rule>.scaleIn.min': 'Floor: a class for `rds.scaleUp`, a count otherwise.',
  report: 'The status check and the monthly recovery evidence (see Status and evidence).',
  'report.enabled': 'Build the report function: the status check and the monthly evidence.',
  'report.schedule': 'When the evidence of the month before is written (UTC): 06:00 on the 1st.',
  'report.statusSchedule':
    'How often the status check runs (alerts LATE/FAILING, resolves what is OK again).',
  'report.backupGraceMinutes': 'A scheduled backup counts as missing this long after its scheduled time.',
  'report.drGraceHours': 'A DR copy counts as missing this long after its backup was due.',
  'report.drillGraceDays': 'A scheduled drill counts as missing this long after its scheduled time.',
  'report.trendMonths': "Months of drills in the evidence report's RTO/RPO charts.",
};

// The name segment of a record's entries, by the record's key.
const ENTRY_NAMES: Record<string, string> = {
  policies: 'policy',
  targets: 'database',
  rules: 'rule',
  caches: 'cache',
  volumes: 'instance or volume',
};

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  format?: string;
  description?: string;
  [k: string]: unknown;
};

/** Visit every property schema with its documentation path (union branches merged into one path). */
const walk = (s: JsonSchema, path: string, visit: (path: string, s: JsonSchema) => void): void => {
  for (const alt of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) walk(alt, path, visit);
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    const p = path ? `${path}.${k}` : k;
    visit(p, v);
    walk(v, p, visit);
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    const last = path.split('.').pop() ?? '';
    const entry = ENTRY_NAMES[last];
    if (entry) walk(s.additionalProperties, `${path}.<${entry}>`, visit);
  }
  if (s.items) walk(s.items, `${path}[]`, visit);
};

/**
 * The JSON Schema of a stage file (draft-07, what editors' YAML and JSON support reads), generated from the
 * zod schema, with every key's description. Cross-field rules (references, schedules) are zod's alone.
 */
export const configJsonSchema = (): JsonSchema => {
  const schema = z.toJSONSchema(StewardConfigFile, { io: 'input', target: 'draft-7' }) as JsonSchema;
  walk(schema, '', (path, s) => {
    const doc = KEY_DOCS[path];
    if (doc) s.description = doc;
  });
  return {
    ...schema,
    title: 'steward stage config (steward.<stage>.yaml)',
    description: 'Generated from shared/config/schema.ts by `npm run config:docs`; do not edit.',
  };
};

/** Every documentable key path of the schema, in schema order. */
export const schemaKeyPaths = (): string[] => {
  const paths: string[] = [];
  walk(z.toJSONSchema(StewardConfigFile, { io: 'input', target: 'draft-7' }) as JsonSchema, '', (p) => {
    if (!paths.includes(p)) paths.push(p);
  });
  return paths;
};

const INT_LIMIT = 2 ** 53 - 1;

/** A property's type in a few words: `1–35`, `one of a, b`, `list of strings`. */
const typeOf = (s: JsonSchema, path = ''): string => {
  const alts = [...(s.anyOf ?? []), ...(s.oneOf ?? [])];
  if (alts.length) return [...new Set(alts.map((a) => typeOf(a, path)))].join(' or ');
  if (s.enum) return `one of ${s.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  if (s.const !== undefined) return `\`${String(s.const)}\``;
  const t = Array.isArray(s.type) ? s.type.join(' or ') : s.type;
  if (t === 'integer' || t === 'number') {
    const min =
      s.minimum !== undefined && s.minimum > -INT_LIMIT
        ? s.minimum
        : s.exclusiveMinimum !== undefined
          ? `>${s.exclusiveMinimum}`
          : undefined;
    const max = s.maximum !== undefined && s.maximum < INT_LIMIT ? s.maximum : undefined;
    const word = t === 'integer' ? 'integer' : 'number';
    if (min !== undefined && max !== undefined) return `${word} ${min}–${max}`;
    if (min !== undefined) return `${word} ${typeof min === 'string' ? min : `≥ ${min}`}`;
    return word;
  }
  if (t === 'array')
    return s.items
      ? `list of ${typeOf(s.items, path)
          .replace(/^mapping$/, 'mappings')
          .replace(/^one of /, '')}`
      : 'list';
  if (t === 'object')
    return s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties
      ? 'mapping by name'
      : 'mapping';
  if (t === 'string' && s.format) return `${s.format} string`;
  if (t === 'string' && /[sS]chedule$/.test(path)) return 'schedule: `cron(...)`, `rate(...)`, `at(...)`';
  if (t === 'string' && /(^|\.)(region|regions)$/.test(path)) return 'AWS region';
  return t ?? 'any';
};

const defaultOf = (s: JsonSchema): string => {
  if (s.default === undefined) return '';
  const json = JSON.stringify(s.default);
  if (json === '{}') return '';
  return json.length > 40 ? 'see meaning' : `\`${json.replace(/"/g, '')}\``;
};

const escape = (s: string) => s.replace(/\|/g, '\\|');

// Top-level keys with a table of their own; the rest (stage, region, ...) share the first table.
const SECTIONS = [
  'targets',
  'fleet',
  'notifications',
  'backup',
  'retention',
  'dr',
  'drill',
  'cost',
  'scaling',
  'report',
];

/**
 * The README's configuration reference: one table per top-level section, every key with its type, default
 * and meaning. Unformatted markdown (prettier aligns the tables).
 */
export const referenceMarkdown = (): string => {
  const rows = new Map<string, string[]>();
  walk(z.toJSONSchema(StewardConfigFile, { io: 'input', target: 'draft-7' }) as JsonSchema, '', (path, s) => {
    const top = path.split(/[.[]/)[0]!;
    const section = SECTIONS.includes(top) ? top : 'stage';
    const row = `| \`${path}\` | ${escape(typeOf(s, path))} | ${escape(defaultOf(s))} | ${escape(KEY_DOCS[path] ?? '')} |`;
    const list = rows.get(section) ?? [];
    if (!list.some((r) => r.startsWith(`| \`${path}\` `))) list.push(row);
    rows.set(section, list);
  });
  const header = '| key | type | default | meaning |\n| --- | --- | --- | --- |';
  return [...rows.entries()]
    .map(
      ([section, r]) =>
        `#### ${section === 'stage' ? 'Stage' : `\`${section}\``}\n\n${header}\n${r.join('\n')}`,
    )
    .join('\n\n');
};
