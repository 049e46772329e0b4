// Which of the fleet's own events a handler event is, told by its `action` (or `target`) alone. Every fleet
// function asks this on every event, so it lives apart from the parsers and runs it leads to: those load
// only when their event comes (shared/fleet/child.ts).

const actionOf = (raw: unknown): unknown =>
  raw !== null && typeof raw === 'object' ? (raw as { action?: unknown }).action : undefined;

/** Whether a handler event is the fan-out's summary. */
export const isFanOutSummary = (raw: unknown): boolean => actionOf(raw) === 'fan-out-summary';

/** Whether a handler event is the fan-out's listing step. */
export const isFanOutTargets = (raw: unknown): boolean => actionOf(raw) === 'fan-out-targets';

/** Whether a handler event is a spoke's event forwarded through the fleet bus. */
export const isForwarded = (raw: unknown): boolean => actionOf(raw) === 'forwarded';

/** Whether a handler event is a fan-out child's: it carries a `target` (shared/fleet/fan-out.ts, splitTarget). */
export const hasTarget = (raw: unknown): boolean =>
  raw !== null && typeof raw === 'object' && !Array.isArray(raw) && 'target' in raw;
