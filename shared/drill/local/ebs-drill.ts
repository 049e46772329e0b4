import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { StepRequest, StepResult, StepRunner } from '../../backup/consistency.js';
import { documentScript } from '../../backup/consistency-document.js';
import { GuardRefusedError, StewardError } from '../../errors.js';
import type { Snapshot } from '../../model.js';
import { Tag, type Tags } from '../../tags.js';
import type { CreateVolumeInput, DrillVolume, EbsDrillPort } from '../ebs.js';
import type { SnapshotSetLister } from '../ebs-tasks.js';
import type { AttachmentState, EbsVerifierPort, LaunchRequest, VerifierInstance } from '../ebs-verifier.js';
import { LOCAL } from './local-provider.js';
import { once } from '../../once.js';

// Modules loaded on first use, once per container (shared/once.ts: `import()` resolves again at each call).
const loadPromises = /* @__PURE__ */ once(() => import('node:fs/promises'));

// The local provider of the EBS drill (cli/sandbox-ebs.ts): a "volume" is an ext4 image file made by
// mkfs.ext4 (e2fsprogs: no mount, no loop device, no root), a snapshot is a copy of that file, a set the
// copies of an instance's volumes taken together, and a restore a copy of the snapshot's file. The verifier
// is a directory whose device names (sdf, sdg, ...) link to the attached images, and its check runs steward's
// own Command document script (the `check` phase) under sh, the way Run Command would run it on an instance.

const run = promisify(execFile);

export class LocalEbsError extends StewardError {
  override name = 'LocalEbsError';
}

// e2fsprogs installs its tools in /sbin or /usr/sbin, which a non-root PATH may lack.
const SBIN = ['/usr/sbin', '/sbin'];
/** PATH with the system tool folders, where e2fsprogs lives. */
export const toolPath = (path = process.env.PATH ?? ''): string =>
  [...path.split(':').filter(Boolean), ...SBIN.filter((d) => !path.split(':').includes(d))].join(':');

/** The path of an e2fsprogs tool, or undefined when e2fsprogs is not installed. */
export const findE2fsTool = (tool: 'mkfs.ext4' | 'fsck.ext4' | 'debugfs'): string | undefined =>
  toolPath()
    .split(':')
    .map((d) => join(d, tool))
    .find((p) => existsSync(p));

/** One volume of the local instance: an ext4 image, seeded from a folder. */
export interface LocalVolumeSpec {
  volumeId: string;
  /** The file system's label and its size in MiB. */
  label: string;
  sizeMiB: number;
  /** Files to put in it: path inside the file system → content. */
  files: Record<string, string>;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** The local EC2: the instance's volumes, its snapshot sets, restored volumes and verifier "instances". */
export const localEbsEstate = (dir: string, opts: { now: () => Date }) => {
  const volumesDir = join(dir, 'volumes');
  const snapshotsDir = join(dir, 'snapshots');
  const restoredDir = join(dir, 'restored');
  const verifiersDir = join(dir, 'verifiers');
  const images = new Map<string, string>();
  const sets: Snapshot[] = [];
  const restored = new Map<string, DrillVolume & { file: string; polls: number }>();
  const tokens = new Map<string, string>();
  const instances = new Map<string, VerifierInstance & { devDir: string }>();
  const attached = new Map<string, { instanceId: string; device: string }>();
  let n = 0;
  const nextId = (prefix: string) => `${prefix}-0${hex(++n, 16)}`;

  /** Make each volume: `mkfs.ext4 -d` writes the seed folder into the new file system without mounting it. */
  const createVolumes = async (specs: readonly LocalVolumeSpec[]): Promise<void> => {
    const mkfs = findE2fsTool('mkfs.ext4');
    if (!mkfs) throw new LocalEbsError('mkfs.ext4 not found: install e2fsprogs');
    await mkdir(volumesDir, { recursive: true });
    for (const v of specs) {
      const seed = join(dir, 'seed', v.volumeId);
      for (const [path, content] of Object.entries(v.files)) {
        const file = join(seed, path);
        await mkdir(join(file, '..'), { recursive: true });
        await writeFile(file, content);
      }
      const image = join(volumesDir, `${v.volumeId}.img`);
      await mkdir(seed, { recursive: true });
      await run(mkfs, ['-q', '-F', '-L', v.label, '-d', seed, image, `${v.sizeMiB}M`]);
      images.set(v.volumeId, image);
    }
  };

  /** Take a set of every volume of `sourceId`, tagged as the backup function tags one. */
  const takeSet = async (sourceId: string, setId: string, takenAt: Date): Promise<Snapshot> => {
    await mkdir(snapshotsDir, { recursive: true });
    const parts = [];
    for (const [volumeId, image] of images) {
      const id = nextId('snap');
      await copyFile(image, join(snapshotsDir, `${id}.img`));
      parts.push({ id, volumeId, state: 'completed', startedAt: takenAt.toISOString(), encrypted: true });
    }
    const set: Snapshot = {
      kind: 'ebs',
      id: setId,
      arn: `arn:aws:ec2:${LOCAL}::snapshot-set/${setId}`,
      region: LOCAL,
      sourceId,
      createdAt: takenAt.toISOString(),
      status: 'available',
      type: 'manual',
      tags: {
        [Tag.managed]: 'true',
        [Tag.set]: setId,
        [Tag.source]: sourceId,
        [Tag.setSize]: String(parts.length),
        [Tag.policy]: 'sandbox',
      },
      encrypted: true,
      parts,
    };
    sets.push(set);
    return set;
  };

  /** Damage a snapshot's file as a failed or corrupted copy would: its superblock's magic number zeroed. */
  const corrupt = async (snapshotId: string): Promise<void> => {
    const { open } = await loadPromises();
    const f = await open(join(snapshotsDir, `${snapshotId}.img`), 'r+');
    try {
      // ext4's superblock starts at byte 1024; its magic (0xEF53) is at offset 0x38 in it.
      await f.write(Buffer.alloc(2), 0, 2, 1024 + 0x38);
    } finally {
      await f.close();
    }
  };

  const setLister: SnapshotSetLister = {
    setsOf: async (sourceId) => sets.filter((s) => s.sourceId === sourceId),
  };

  const volumeOf = (v: DrillVolume & { file: string; polls: number }): DrillVolume => {
    const { file: _f, polls: _p, ...rest } = v;
    return { ...rest, tags: { ...rest.tags } };
  };

  const volumes: EbsDrillPort = {
    region: LOCAL,
    createVolume: async (i: CreateVolumeInput) => {
      const known = tokens.get(i.clientToken);
      if (known && restored.has(known)) return volumeOf(restored.get(known)!);
      const source = join(snapshotsDir, `${i.snapshotId}.img`);
      if (!existsSync(source)) throw new LocalEbsError(`InvalidSnapshot.NotFound: ${i.snapshotId}`);
      await mkdir(restoredDir, { recursive: true });
      const volumeId = nextId('vol');
      const file = join(restoredDir, `${volumeId}.img`);
      tokens.set(i.clientToken, volumeId);
      // Restoring is copying the snapshot's file; the volume is `creating` until the copy is done and seen.
      await copyFile(source, file);
      const v = {
        volumeId,
        state: 'creating',
        snapshotId: i.snapshotId,
        createdAt: opts.now().toISOString(),
        tags: { ...i.tags },
        file,
        polls: 0,
      };
      restored.set(volumeId, v);
      return volumeOf(v);
    },
    describe: async (ids) =>
      ids.flatMap((id) => {
        const v = restored.get(id);
        if (!v) return [];
        v.state = 'available';
        return [volumeOf(v)];
      }),
    remove: async (volumeId) => {
      const v = restored.get(volumeId);
      if (!v) return 'gone';
      if (!v.tags[Tag.drill] || v.tags[Tag.managed] !== 'true')
        throw new GuardRefusedError(`refusing to delete ${volumeId}: it is not a steward drill volume`);
      if (attached.has(volumeId)) throw new LocalEbsError(`VolumeInUse: ${volumeId} is attached`);
      await rm(v.file, { force: true });
      restored.delete(volumeId);
      return 'deleted';
    },
    enableFastRestore: async () => {
      throw new LocalEbsError('the sandbox has no fast snapshot restore: its volumes are files');
    },
    disableFastRestore: async () => undefined,
    listDrillVolumes: async () => [...restored.values()].filter((v) => v.tags[Tag.drill]).map(volumeOf),
  };

  const verifier: EbsVerifierPort = {
    region: LOCAL,
    launch: async (r: LaunchRequest) => {
      const known = [...instances.values()].find((i) => i.tags['steward:client-token'] === r.clientToken);
      if (known) return { ...known };
      const instanceId = nextId('i');
      const devDir = join(verifiersDir, instanceId, 'dev');
      await mkdir(devDir, { recursive: true });
      const i = {
        instanceId,
        state: 'running',
        launchedAt: opts.now().toISOString(),
        tags: { ...r.tags, 'steward:client-token': r.clientToken } as Tags,
        devDir,
      };
      instances.set(instanceId, i);
      return { ...i };
    },
    registered: async (instanceId) => instances.get(instanceId)?.state === 'running',
    attach: async (volumeId, instanceId, device) => {
      const v = restored.get(volumeId);
      const i = instances.get(instanceId);
      if (!v || !i) throw new LocalEbsError(`cannot attach ${volumeId} to ${instanceId}: not found`);
      if (attached.has(volumeId)) throw new LocalEbsError(`VolumeInUse: ${volumeId}`);
      // /dev/sdf on the instance is <verifier>/dev/sdf here: a link to the restored volume's file.
      await symlink(v.file, join(i.devDir, device.replace(/^\/dev\//, '')));
      attached.set(volumeId, { instanceId, device });
    },
    attachments: async (volumeIds, instanceId) =>
      Object.fromEntries(
        volumeIds.map((id): [string, AttachmentState] => [
          id,
          attached.get(id)?.instanceId === instanceId ? 'attached' : 'detached',
        ]),
      ),
    detach: async (volumeId, instanceId) => {
      const a = attached.get(volumeId);
      const i = instances.get(instanceId);
      if (!a || a.instanceId !== instanceId || !i) return;
      await unlink(join(i.devDir, a.device.replace(/^\/dev\//, ''))).catch(() => undefined);
      attached.delete(volumeId);
    },
    terminate: async (instanceId) => {
      const i = instances.get(instanceId);
      if (!i || i.state === 'terminated') return 'gone';
      // Terminating detaches every volume.
      for (const [volumeId, a] of [...attached]) if (a.instanceId === instanceId) attached.delete(volumeId);
      await rm(join(verifiersDir, instanceId), { recursive: true, force: true });
      i.state = 'terminated';
      return 'terminated';
    },
    listVerifiers: async () =>
      [...instances.values()].filter((i) => i.state !== 'terminated').map(({ devDir: _, ...i }) => i),
  };

  /**
   * Run Command on a local "instance": steward's Command document script under sh, its parameters as
   * environment variables (as the agent passes them with ENV_VAR interpolation), `DEV` naming the folder
   * that holds the instance's device links, bounded by the step's timeout. The end of stdout is the output.
   */
  const runner: StepRunner = {
    run: async (step: StepRequest): Promise<StepResult> => {
      const i = instances.get(step.instanceId);
      if (!i || i.state !== 'running')
        return { status: 'undelivered', detail: `${step.instanceId} is not running` };
      const state = join(verifiersDir, step.instanceId, 'run');
      await mkdir(state, { recursive: true });
      return runScript(
        documentScript(),
        {
          PATH: toolPath(),
          HOME: state,
          LANG: 'C',
          STEWARD_STATE_DIR: state,
          DEV: i.devDir,
          SSM_Phase: step.phase,
          SSM_Command: step.command,
          SSM_RunId: step.runId,
          SSM_WatchdogSeconds: String(step.timeoutSeconds),
          SSM_PostCommand: '',
          SSM_ObjectUri: '',
        },
        step.timeoutSeconds,
      );
    },
  };

  return {
    createVolumes,
    takeSet,
    corrupt,
    sets: setLister,
    volumes,
    verifier,
    runner,
    /** Restored volumes and verifiers still there (a clean drill leaves none). */
    leftovers: (): string[] => [
      ...[...restored.keys()],
      ...[...instances.values()].filter((i) => i.state !== 'terminated').map((i) => i.instanceId),
    ],
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
};

export type LocalEbsEstate = ReturnType<typeof localEbsEstate>;

// Run Command keeps the last 24 000 characters of a step's output (SSM API reference, GetCommandInvocation):
// the check's output is bounded the same way.
const OUTPUT_MAX = 24_000;

const runScript = (
  script: string,
  env: Record<string, string>,
  timeoutSeconds: number,
): Promise<StepResult> =>
  new Promise((done) => {
    const child = spawn('sh', ['-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const keep = (s: string, b: Buffer) => (s + b.toString()).slice(-OUTPUT_MAX);
    child.stdout.on('data', (b: Buffer) => (out = keep(out, b)));
    child.stderr.on('data', (b: Buffer) => (err = keep(err, b)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    child.once('error', (e) => {
      clearTimeout(timer);
      done({ status: 'undelivered', detail: e.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const output = out.trim();
      const detail = err.trim().slice(-2000);
      done({
        status: timedOut ? 'timed-out' : code === 0 ? 'success' : 'failed',
        ...(output ? { output } : {}),
        ...(timedOut || code !== 0
          ? {
              detail: timedOut
                ? `timed out after ${timeoutSeconds} s`
                : `exit ${code}${detail ? `: ${detail}` : ''}`,
            }
          : {}),
      });
    });
  });
