import { sendReported } from '../notify/notifier.js';
import { logger, metrics, MetricUnit } from '../observability.js';
import { throwIfFailed } from '../outcomes.js';
import type { ScalingRequest } from './alarm-event.js';
import { CAPABILITY, empty, type ScalingDeps, type ScalingResult } from './transition.js';

/**
 * Events that are not alarm transitions: a configured alarm's configuration changed, a database a rule names
 * failed over, or an event understood and ignored (logged with its reason).
 */
export const runEvent = async (
  req: Extract<ScalingRequest, { action: 'alarm-config' | 'failover' | 'ignored' }>,
  deps: ScalingDeps,
): Promise<ScalingResult> => {
  switch (req.action) {
    case 'ignored': {
      logger.info('scaling event ignored', { reason: req.reason });
      metrics.addMetric('EventsIgnored', MetricUnit.Count, 1);
      return empty(req, `ignored: ${req.reason}`);
    }
    case 'alarm-config': {
      if (req.operation !== 'delete' || !req.rules.length) {
        const why = req.rules.length
          ? `${req.operation} of alarm ${req.alarmName} (rules ${req.rules.join(', ')}) is not a state change: nothing to do`
          : `alarm ${req.alarmName} is answered by no rule: not a state change steward acts on`;
        logger.info('scaling event ignored', { reason: why });
        return empty(req, `ignored: ${why}`);
      }
      // CloudWatch cannot rename an alarm: a rename is a delete (this) and a create under the new name.
      const subject = `alarm ${req.alarmName} was deleted: rule${req.rules.length > 1 ? 's' : ''} ${req.rules.join(', ')} can no longer fire`;
      const outcomes = await sendReported(deps.notifier, {
        severity: 'warning',
        capability: CAPABILITY,
        subject,
        lines: [
          `CloudWatch deleted alarm ${req.alarmName} (or renamed it: a rename is a delete and a create).`,
          `Scaling rule${req.rules.length > 1 ? 's' : ''} ${req.rules.join(', ')} answer${req.rules.length > 1 ? '' : 's'} it and will not act until it exists again.`,
          'Recreate the alarm, or point the rule at its new name in steward.<stage>.yaml (scaling.rules.<rule>.alarm).',
        ],
        data: { alarmName: req.alarmName, operation: req.operation, rules: req.rules },
      });
      logger.warn('alarm of a scaling rule deleted', { alarmName: req.alarmName, rules: req.rules });
      throwIfFailed('scaling alarm-config', outcomes);
      return empty(req, subject, outcomes);
    }
    case 'failover': {
      const kind = req.rules[0]!.kind;
      const cooldown = Math.max(...req.rules.map((r) => r.cooldownMinutes));
      const until = new Date(req.at.getTime() + cooldown * 60_000);
      const summary = `${req.resource} failed over (${req.eventId}) at ${req.at.toISOString()}: scaling cooldown restarts until ${until.toISOString()}`;
      if (req.dryRun || deps.dryRun) return empty(req, `[dry run] ${summary}`);
      const restarted = await deps.state.restartCooldown(
        kind,
        req.resource,
        until,
        `failover ${req.eventId} at ${req.at.toISOString()}`,
      );
      const said = restarted ? summary : `${summary} (a longer cooldown was already running)`;
      logger.info('scaling cooldown restarted by a failover', { resource: req.resource, until, restarted });
      return empty(req, said);
    }
  }
};
