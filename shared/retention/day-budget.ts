import { errorMessage } from '../errors.js';
import type { Outcome } from '../model.js';
import { logger } from '../observability.js';
import { failedOutcome } from '../outcomes.js';
import type { DeletionBudget } from './ports.js';

/** What a run may delete today: the granted count, the day it was reserved on, or the failure to reserve. */
export interface Reserved {
  day?: string;
  granted: number;
  failed?: Outcome;
}

/**
 * Reserve a run's deletions from the day's budget (UTC day of `now`) before deleting anything. When the budget
 * cannot be reserved nothing is granted (doubt never deletes) and the failure comes back as an outcome.
 */
export const reserveDeletions = async (
  budget: DeletionBudget,
  now: Date,
  wanted: number,
  limit: number,
  resource = 'retention budget',
): Promise<Reserved> => {
  if (!wanted) return { granted: 0 };
  const day = now.toISOString().slice(0, 10);
  try {
    return { day, granted: await budget.reserve(day, wanted, limit) };
  } catch (e) {
    return { granted: 0, failed: failedOutcome({ resource: `${resource} ${day}`, action: 'reserve' }, e) };
  }
};

/** Give back what was reserved and not deleted; a failed refund only leaves the budget lower, so it is logged. */
export const refundDeletions = async (budget: DeletionBudget, day: string, n: number): Promise<void> => {
  if (n <= 0) return;
  await budget.refund(day, n).catch((e: unknown) =>
    logger.warn('could not refund unused deletions; the budget errs low today', {
      day,
      n,
      error: errorMessage(e),
    }),
  );
};
