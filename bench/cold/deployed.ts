import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { EXAMPLES_DIR, loadStage } from '../../shared/config/files.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { jsOutputs, type Metafile, outputBytes } from './loaded.js';

export type { Metafile };

/** One function as the CDK app ships it. */
export interface DeployedFunction {
  /** `backup`, `drill-verify`, ...: the folder under `functions/`. */
  name: string;
  /** The bundle directory CDK uploads (index.mjs, its chunks, a source map each). */
  dir: string;
  /** index.mjs, the entry */
  file: string;
  /** The whole bundle: the entry and every chunk. */
  bytes: number;
  /** esbuild's metafile of that very build (infra/bundling.ts), outputs named inside `dir`. */
  metafile: Metafile;
  /** The function's environment from the template, references resolved to placeholders. */
  environment: Record<string, string>;
  runtime: string;
  region: string;
  /** How it was built: its entry and defines, for the baselines built the same way (infra/bundling.ts). */
  build: { entry: string; define: Record<string, string> };
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
 * Synthesize `stage` of the example configs with the real CDK app and its real bundling (exactly as `cdk synth`
 * runs it: infra/steward-function.ts builds each function with infra/bundling.ts, split into chunks), and return
 * every function the stack ships with the metafile of the very build that deploys. Nothing here is a second
 * bundler configuration, so a change to infra's bundling changes what is measured.
 */
export const synthesizeDeployed = (outDir: string, stage = 'prod'): DeployedFunction[] => {
  const root = resolve('.');
  rmSync(outDir, { recursive: true, force: true });
  const context = (JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { context: object }).context;
  const app = new App({ context, outdir: join(outDir, 'cdk.out') });
  const stack = new StewardStack(app, stackId(stage), { config: loadStage(EXAMPLES_DIR, stage).config });
  app.synth();
  return deployedFunctions(app, stack);
};

/** Every function of `stack`, bundled, in `app`'s synthesized output (`app.synth()` has run). */
export const deployedFunctions = (app: App, stack: StewardStack): DeployedFunction[] => {
  const template = JSON.parse(
    readFileSync(join(app.outdir, `${stack.artifactId}.template.json`), 'utf8'),
  ) as { Resources: Cfn };
  const region = stack.config.region;
  const account = '111122223333';
  return stack.functions.map((f) => {
    const asset = f.fn.node.findChild('Code') as Asset;
    const dir = join(app.outdir, asset.assetPath);
    const logicalId = stack.getLogicalId(f.fn.node.defaultChild as never);
    const props = template.Resources[logicalId]!.Properties as {
      Runtime: string;
      Environment?: { Variables?: Record<string, unknown> };
    };
    const metafile = f.build.metafile;
    if (!metafile) throw new Error(`CDK did not bundle ${f.build.entry} (bundling skipped for this stack?)`);
    return {
      name: f.shortName,
      dir,
      file: join(dir, 'index.mjs'),
      bytes: outputBytes(metafile, jsOutputs(metafile)),
      metafile,
      environment: Object.fromEntries(
        Object.entries(props.Environment?.Variables ?? {}).map(([k, v]) => [
          k,
          resolveValue(v, template.Resources, region, account),
        ]),
      ),
      runtime: props.Runtime,
      region,
      build: { entry: f.build.entry, define: f.build.define },
    };
  });
};
