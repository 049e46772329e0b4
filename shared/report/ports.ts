import type { Database, Snapshot } from '../model.js';
import type { ScalingState } from './model.js';

/** Port: the databases and snapshots of one region, read with one paginated describe per kind. */
export interface EstateReader {
  readonly region: string;
  /** RDS instances (Aurora members included), Aurora clusters and ElastiCache replication groups. */
  databases(): Promise<Database[]>;
  /** Every snapshot of the region, steward's, hand-made and automated, from the list calls alone. */
  snapshots(): Promise<Snapshot[]>;
}

/** One object of the report bucket (or the sandbox's history directory). */
export interface StoredObject {
  key: string;
  lastModified?: string;
}

/** Port: the report bucket: drill reports, retention records, evidence reports. */
export interface HistoryStore {
  /** Where it is, for messages and links: `s3://bucket` or a directory. */
  readonly location: string;
  /** Every object under the prefix (all pages). */
  list(prefix: string): Promise<StoredObject[]>;
  /** The object's body, or undefined when there is none. */
  get(key: string): Promise<string | undefined>;
  put(key: string, body: string, contentType: string): Promise<void>;
  /** Where a person opens the object: the S3 console, or a file path. */
  href(key: string): string;
}

/** Port: scaling cooldowns and approvals waiting for a human, from the stage's state table. */
export interface ScalingReader {
  scalingState(): Promise<ScalingState[]>;
}
