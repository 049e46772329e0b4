import type { S3Client } from '@aws-sdk/client-s3';
import * as v from '../valid.js';
import { ChildExecution, ResultManifest } from '../fleet/fan-out.js';
import type { MapRunResults } from '../fleet/summary.js';
import { s3Objects } from './objects.js';

// The factory of the client this adapter sends through, for the callers that load this module on first use:
// the client's code then loads with the adapter that uses it, never before (test/infra/bundles.test.ts).
export { s3Client } from './clients/s3.js';

export const Children = /* @__PURE__ */ v.onFirstUse(() => v.array(ChildExecution));

/**
 * MapRunResults over the report bucket: the manifest ResultWriter wrote, then each result file it lists
 * (a JSON array of child executions per file). A missing or unreadable file is an error naming its key.
 */
export const s3MapRunResults = (s3: S3Client): MapRunResults => ({
  read: async (bucket, manifestKey) => {
    const objects = s3Objects(s3, bucket);
    const json = async (key: string): Promise<unknown> => {
      const text = await objects.get(key);
      if (text === undefined) throw new Error(`s3://${bucket}/${key} is missing`);
      return JSON.parse(text) as unknown;
    };
    const manifest = ResultManifest.parse(await json(manifestKey));
    const files = async (list: { Key: string }[]) =>
      (await Promise.all(list.map(async (f) => Children.parse(await json(f.Key))))).flat();
    const r = manifest.ResultFiles;
    const [succeeded, failed, pending] = await Promise.all([
      files(r.SUCCEEDED),
      files(r.FAILED),
      files(r.PENDING),
    ]);
    return { succeeded, failed, pending };
  },
});
