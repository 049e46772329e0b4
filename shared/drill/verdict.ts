// The verdict's shape and the Catch cause reader, shared by the database drill's report and the EBS drill's
// verdict (report.ts imports ebs-verdict.ts, so they live here, below both).
import type { VerificationOutcome } from './checks.js';
import type { DrillMetrics } from './rto-rpo.js';

/** The verdict of a finished (or aborted) drill. */
export interface DrillVerdict {
  /** True only for `outcome: passed`. */
  passed: boolean;
  /**
   * `failed`: something is wrong (a check failed, a step failed, a target was missed). `inconclusive`:
   * nothing failed but evidence is missing (a check not finished in its time bound, or the drill stopped
   * by its cost ceiling). `passed`: everything proven.
   */
  outcome: VerificationOutcome;
  /** The task the drill did not get past, when a step failed. */
  failedStep?: string;
  metrics?: DrillMetrics;
  /** Why it failed; empty when it did not. */
  reasons: string[];
  /** Why it is inconclusive; empty when it is not. */
  gaps: string[];
  summary: string;
}

const CAUSE_MAX = 500;

/**
 * A Catch's Cause, readable: Lambda failures arrive as JSON (`errorType`, `errorMessage`, `trace`);
 * only the message is shown, cut to a sane length.
 */
export const causeText = (cause: string | undefined): string => {
  if (!cause) return '';
  let text = cause;
  try {
    const j = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof j.errorMessage === 'string') text = j.errorMessage;
  } catch {
    // Not JSON: a plain cause.
  }
  return text.length > CAUSE_MAX ? `${text.slice(0, CAUSE_MAX - 1)}…` : text;
};
