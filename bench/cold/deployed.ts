import cp from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { EXAMPLES_DIR, loadStage } from '../../shared/config/files.js';
import { stackId, StewardStack } from '../../infra/stack.js';

/** esbuild's metafile, the parts the bench reads. */
export interface Metafile {
  inputs: Record<string, { bytes: number }>;
  outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }>;
}

/** How CDK ran esbuild: an argv, or a `bash -c` script. */
export interface BundleCommand {
  argv?: string[];
  script?: string;
}

/** One function as the CDK app ships it. */
export interface DeployedFunction {
  /** `backup`, `drill-verify`, ...: the folder under `functions/`. */
  name: string;
  /** The bundle directory CDK uploads (index.mjs, index.mjs.map). */
  dir: string;
  /** index.mjs */
  file: string;
  bytes: number;
  /** The esbuild metafile of that very build (CDK's own esbuild run, with `--metafile` added). */
  metafile: Metafile;
  /** The function's environment from the template, references resolved to placeholders. */
  environment: Record<string, string>;
  runtime: string;
  region: string;
  /** CDK's esbuild command for this function, and the directory it ran in. */
  bundle: BundleCommand & { cwd: string };
}

type Cfn = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/**
 * A CloudFormation value as a string: references become plausible placeholders of the right shape (an ARN
 * for a topic or queue ARN, a name for a table or bucket), pseudo parameters the stack's account and region.
 */
export const resolveValue = (v: unknown, resources: Cfn, region: string, account: string): string => {
  if (typeof v === 'string') return v;
  const o = (v ?? {}) as Record<string, unknown>;
  if (o['Fn::Join']) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolveValue(p, resources, region, account)).join(sep);
  }
  if (typeof o.Ref === 'string') {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': account,
      'AWS::Region': region,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
    };
    if (pseudo[o.Ref]) return pseudo[o.Ref]!;
    const type = resources[o.Ref]?.Type ?? '';
    // Ref of a topic is its ARN, of a queue its URL; of a table, bucket or subnet group its name.
    if (type === 'AWS::SNS::Topic') return `arn:aws:sns:${region}:${account}:${o.Ref}`;
    if (type === 'AWS::SQS::Queue') return `https://sqs.${region}.amazonaws.com/${account}/${o.Ref}`;
    return o.Ref.toLowerCase();
  }
  if (o['Fn::GetAtt']) {
    const [id, attribute] = o['Fn::GetAtt'] as [string, string];
    const service = (resources[id]?.Type ?? 'AWS::X::Y').split('::')[1]!.toLowerCase();
    if (attribute === 'Arn') return `arn:aws:${service}:${region}:${account}:${id}`;
    if (attribute === 'GroupId') return `sg-0${id.length.toString(16).padStart(16, '0')}`;
    return `${id}.${attribute}`;
  }
  throw new Error(`unsupported CloudFormation value in a function environment: ${JSON.stringify(v)}`);
};

/**
 * Synthesize `stage` of the example configs with the real CDK app and its real bundling (NodejsFunction and
 * the local esbuild, exactly as `cdk synth` runs it), and return every function the stack ships. CDK's own
 * esbuild command is run with `--metafile` added (written outside the asset, so the bundle and its hash
 * are unchanged): the metafile describes the very bytes that deploy. Nothing here is a second bundler
 * configuration, so a change to infra's bundling changes what is measured.
 */
export const synthesizeDeployed = (outDir: string, stage = 'prod'): DeployedFunction[] => {
  const root = resolve('.');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'meta'), { recursive: true });
  const metaFor = new Map<string, { meta: string; cwd: string } & BundleCommand>();
  const original = cp.spawnSync;
  // CDK runs its esbuild command (`esbuild --bundle <entry> ... --outfile=<asset-output>/index.mjs`, as one
  // argv or through `bash -c`) with child_process.spawnSync: add `--metafile` and remember the command.
  (cp as { spawnSync: unknown }).spawnSync = (cmd: string, args: string[] = [], options: unknown) => {
    const line = [cmd, ...args].join(' ');
    const entry = /functions\/([\w-]+)\/handler\.ts/.exec(line);
    if (entry && line.includes('--bundle')) {
      const meta = join(outDir, 'meta', `${entry[1]}.json`);
      const cwd = String((options as { cwd?: string } | undefined)?.cwd ?? root);
      const bash = cmd === 'bash' && args[0] === '-c';
      metaFor.set(entry[1]!, {
        meta,
        argv: bash ? undefined : [cmd, ...args],
        script: bash ? args[1] : undefined,
        cwd,
      });
      const withMeta = bash
        ? [args[0]!, `${args[1]} --metafile="${meta}"`, ...args.slice(2)]
        : [...args, `--metafile=${meta}`, '--log-level=warning'];
      return original(cmd, withMeta, options as never);
    }
    return original(cmd, args, options as never);
  };
  let stack: StewardStack;
  let app: App;
  try {
    const context = (JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { context: object }).context;
    app = new App({ context, outdir: join(outDir, 'cdk.out') });
    stack = new StewardStack(app, stackId(stage), { config: loadStage(EXAMPLES_DIR, stage).config });
    app.synth();
  } finally {
    (cp as { spawnSync: unknown }).spawnSync = original;
  }
  const template = JSON.parse(
    readFileSync(join(app.outdir, `${stack.artifactId}.template.json`), 'utf8'),
  ) as { Resources: Cfn };
  const region = stack.config.region;
  const account = '111122223333';
  return stack.functions.map((f) => {
    const asset = f.fn.node.findChild('Code') as Asset;
    const dir = join(app.outdir, asset.assetPath);
    const file = join(dir, 'index.mjs');
    const logicalId = stack.getLogicalId(f.fn.node.defaultChild as never);
    const props = template.Resources[logicalId]!.Properties as {
      Runtime: string;
      Environment?: { Variables?: Record<string, unknown> };
    };
    const built = metaFor.get(f.shortName);
    if (!built) throw new Error(`CDK did not bundle functions/${f.shortName}/handler.ts with esbuild`);
    return {
      name: f.shortName,
      dir,
      file,
      bytes: statSync(file).size,
      metafile: JSON.parse(readFileSync(built.meta, 'utf8')) as Metafile,
      environment: Object.fromEntries(
        Object.entries(props.Environment?.Variables ?? {}).map(([k, v]) => [
          k,
          resolveValue(v, template.Resources, region, account),
        ]),
      ),
      runtime: props.Runtime,
      region,
      bundle: { argv: built.argv, script: built.script, cwd: built.cwd },
    };
  });
};
