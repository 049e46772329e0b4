import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { type ClientOptions, http, memo } from './kit.js';

/** Cost Explorer is served from us-east-1 only, whatever the stage's region. */
export const COST_EXPLORER_REGION = 'us-east-1';

/**
 * One Cost Explorer client per container, pinned to us-east-1. No SDK retries: every attempt is a billed
 * request ($0.01), so the adapter retries itself (timeouts included), with backoff, and counts each attempt.
 */
export const costExplorerClient = (o?: ClientOptions): CostExplorerClient =>
  memo(
    'ce',
    COST_EXPLORER_REGION,
    o,
    () => new CostExplorerClient({ region: COST_EXPLORER_REGION, maxAttempts: 1, ...http(o) }),
  );
