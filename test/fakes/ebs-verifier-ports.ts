import type { StepResult } from '../../shared/backup/consistency.js';
import type { AttachmentState, EbsVerifierDeps, VerifierInstance } from '../../shared/drill/ebs-verifier.js';

export interface FakeVerifierOptions {
  /** What the check returns (default success); an Error makes the runner throw. */
  check?: StepResult | Error;
  /** RunInstances refuses: the verification cannot run (inconclusive). */
  failLaunch?: boolean;
}

export type FakeVerifier = EbsVerifierDeps & {
  log: string[];
  /** Verifier instances not terminated. */
  live: Map<string, VerifierInstance>;
};

/**
 * A verifier in memory: the instance registers at once, volumes attach at once and detach when it is
 * terminated, the check returns `o.check`. Sleeps take no time.
 */
export const fakeVerifier = (
  o: FakeVerifierOptions = {},
  now: () => Date = () => new Date(),
  region = 'eu-west-1',
): FakeVerifier => {
  const log: string[] = [];
  const live = new Map<string, VerifierInstance>();
  const attached = new Set<string>();
  let n = 0;
  return {
    log,
    live,
    now,
    sleep: async () => undefined,
    verifier: {
      region,
      launch: async (r) => {
        log.push(`launch ${r.availabilityZone} ${r.instanceType}`);
        if (o.failLaunch) throw new Error('InsufficientInstanceCapacity');
        // Ids differ between regions, as EC2's do (a DR region's fake makes its own).
        const where = region === 'eu-west-1' ? '' : 'dr';
        const i = { instanceId: `i-0verifier${where}${++n}`, state: 'pending', tags: r.tags };
        live.set(i.instanceId, i);
        return i;
      },
      registered: async () => true,
      attach: async (v, i, d) => {
        log.push(`attach ${v} ${i} ${d}`);
        attached.add(v);
      },
      attachments: async (ids, i) =>
        Object.fromEntries(
          ids.map((id): [string, AttachmentState] => [
            id,
            attached.has(id) && live.has(i) ? 'attached' : 'detached',
          ]),
        ),
      detach: async (v) => {
        log.push(`detach ${v}`);
        attached.delete(v);
      },
      terminate: async (i) => {
        log.push(`terminate ${i}`);
        return live.delete(i) ? 'terminated' : 'gone';
      },
      listVerifiers: async () => [...live.values()],
    },
    runner: {
      run: async (s) => {
        log.push(`check ${s.instanceId}`);
        if (o.check instanceof Error) throw o.check;
        return o.check ?? { status: 'success', output: 'clean' };
      },
    },
  };
};
