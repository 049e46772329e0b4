import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFleetEvent } from '../../../shared/fleet/child.js';
import { isFanOutSummary } from '../../../shared/fleet/fan-out.js';
import { isForwarded } from '../../../shared/fleet/forwarded.js';
import { isFanOutTargets } from '../../../shared/fleet/organization.js';

// runFleetEvent loads the fleet's module only for a fleet event: isFleetEvent must pick exactly the events the
// fleet's own predicates (and splitTarget's `target` key) take, or a fleet event would run as a trigger.
const fleetsOwn = (raw: unknown): boolean =>
  (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && 'target' in raw) ||
  isFanOutSummary(raw) ||
  isFanOutTargets(raw) ||
  isForwarded(raw);

describe('isFleetEvent', () => {
  it("takes exactly the events the fleet's own predicates take", () => {
    const action = fc.constantFrom('fan-out-summary', 'fan-out-targets', 'forwarded', 'scheduled-backup', 1);
    const event = fc.oneof(
      fc.record({ action, target: fc.anything() }, { requiredKeys: [] }),
      fc.array(fc.anything(), { maxLength: 2 }).map((a) => Object.assign(a, { action: 'forwarded' })),
      fc.anything(),
    );
    fc.assert(fc.property(event, (raw) => isFleetEvent(raw) === fleetsOwn(raw)));
  });

  it('names the fleet events and leaves every trigger of the sample events alone', () => {
    expect(isFleetEvent({ action: 'fan-out-summary' })).toBe(true);
    expect(isFleetEvent({ action: 'fan-out-targets' })).toBe(true);
    expect(isFleetEvent({ action: 'forwarded' })).toBe(true);
    expect(isFleetEvent({ action: 'scheduled-backup', target: {} })).toBe(true);
    expect(isFleetEvent({ action: 'scheduled-backup', policy: 'daily' })).toBe(false);
    expect(isFleetEvent({ source: 'aws.health', 'detail-type': 'AWS Health Event' })).toBe(false);
    expect(isFleetEvent(null)).toBe(false);
  });
});
