import { describe, expect, it } from 'vitest';
import { memoryNotifier, sendReported } from '../../../shared/notify/notifier.js';

describe('sendReported', () => {
  it('returns no outcome when the notification was sent', async () => {
    // Prepare
    const n = memoryNotifier();
    // Act
    const out = await sendReported(n, { severity: 'info', capability: 'backup', subject: 's', lines: [] });
    // Assert
    expect(out).toEqual([]);
    expect(n.sent).toHaveLength(1);
  });

  it('turns a failed send into one failed outcome naming the topic severity, without throwing', async () => {
    // Act
    const out = await sendReported(
      { send: async () => Promise.reject(new Error('AuthorizationError: denied')) },
      { severity: 'critical', capability: 'drill', subject: 's', lines: [] },
    );
    // Assert
    expect(out).toEqual([
      {
        resource: 'critical notification',
        action: 'notify',
        status: 'failed',
        error: 'AuthorizationError: denied',
        code: 'Error',
      },
    ]);
  });
});
