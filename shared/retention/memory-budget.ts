import type { DeletionBudget } from './ports.js';

/** In-memory DeletionBudget with the state table's semantics (tests, local runs without a deployed table). */
export const memoryDeletionBudget = (): DeletionBudget & { used: Map<string, number> } => {
  const used = new Map<string, number>();
  return {
    used,
    // Synchronous check-and-set: as atomic as the conditional write.
    reserve: async (day, wanted, limit) => {
      const granted = Math.max(0, Math.min(wanted, limit - (used.get(day) ?? 0)));
      if (granted) used.set(day, (used.get(day) ?? 0) + granted);
      return granted;
    },
    // More than was reserved is refused whole, as the conditional write does: the budget only errs low.
    refund: async (day, n) => {
      const u = used.get(day) ?? 0;
      if (n > 0 && n <= u) used.set(day, u - n);
    },
  };
};
