import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import {
  CreateDBInstanceCommand,
  type CreateDBInstanceCommandInput,
  type RDSClient,
} from '@aws-sdk/client-rds';
import {
  CreateReplicationGroupCommand,
  CreateSnapshotCommand,
  type ElastiCacheClient,
} from '@aws-sdk/client-elasticache';
import { tagList } from '../../shared/tags.js';
import { ownTmpDir, removeOwnTmpDir } from './own-tmp.js';

/** True when the machine's python3 has moto's server (the image ships moto 5.2.1). */
export const hasMoto = (): boolean => {
  try {
    execFileSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

/**
 * moto's server with the ElastiCache Serverless calls it lacks (moto-serverless.py): steward lists serverless
 * caches wherever it lists replication groups, and moto 5.2.1 answers those calls with HTTP 500. Every moto
 * server a test starts loads it (a `script` of its own runs it first, as moto-shared-copy.py does).
 */
export const SERVERLESS_MOTO = fileURLToPath(new URL('./moto-serverless.py', import.meta.url));

/** How moto's server starts. */
export interface MotoOptions {
  /** A Python script that starts moto's server (with a documented patch) instead of SERVERLESS_MOTO. */
  script?: string;
  /**
   * No public AMIs: moto seeds every region with its catalogue of public AMIs and their snapshots, which makes
   * each DescribeSnapshots take seconds; an empty catalogue (MOTO_AMIS_PATH) keeps EC2 to what the test makes.
   */
  emptyAmis?: boolean;
}

/**
 * An emulated AWS endpoint on loopback (real HTTP, real SDK serialisation). Not AWS: resources are
 * available at once and some calls are missing, so it proves requests, not states or timing.
 */
export const startMoto = async (
  o: MotoOptions = {},
): Promise<{ endpoint: string; stop: () => Promise<void> }> => {
  // Never a silent skip: without moto these tests fail, saying what is missing (.ci/run checks it first).
  if (!hasMoto())
    throw new Error(
      "python3 has no moto server: install it (pip install 'moto[server]'); the moto tests do not skip without it",
    );
  const port = await freePort();
  const entry = [o.script ?? SERVERLESS_MOTO];
  const amis = o.emptyAmis ? ownTmpDir('steward-moto-amis') : undefined;
  if (amis) writeFileSync(join(amis, 'amis.json'), '[]');
  const proc: ChildProcess = spawn('python3', [...entry, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    env: amis ? { ...process.env, MOTO_AMIS_PATH: join(amis, 'amis.json') } : process.env,
  });
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null) resolve();
    else proc.once('exit', () => resolve());
  }).then(() => {
    if (amis) removeOwnTmpDir(amis);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(`${endpoint}/moto-api/`);
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`moto server did not start on ${endpoint} within 30 s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    stop: () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
};

/**
 * Start moto for the enclosing describe block, stopping it afterwards. Returns its endpoint (read it inside
 * a test or hook). Call inside `describe`.
 */
export const useMoto = (o: MotoOptions = {}): (() => string) => {
  let moto: Awaited<ReturnType<typeof startMoto>> | undefined;
  beforeAll(async () => {
    moto = await startMoto(o);
  });
  afterAll(async () => moto?.stop());
  return () => {
    if (!moto) throw new Error('useMoto: read the endpoint inside a test or hook');
    return moto.endpoint;
  };
};

/** An SDK client of moto at `endpoint` in `region`, with moto's dummy credentials. */
export const motoClient = <C>(
  Client: new (config: {
    region: string;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  }) => C,
  region: string,
  endpoint: string,
): C => new Client({ region, endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });

/**
 * Start moto for the enclosing describe block and point the SDK at it through the environment
 * (AWS_ENDPOINT_URL and dummy credentials), restoring the environment afterwards. Returns its endpoint (read it
 * inside a test or hook). Call inside `describe`.
 */
export const useMotoEnvironment = (region: string, o: MotoOptions = {}): (() => string) => {
  let moto: Awaited<ReturnType<typeof startMoto>> | undefined;
  const saved = { ...process.env };
  beforeAll(async () => {
    moto = await startMoto(o);
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: region,
    });
  });
  afterAll(async () => {
    await moto?.stop();
    process.env = saved;
  });
  return () => {
    if (!moto) throw new Error('useMotoEnvironment: read the endpoint inside a test or hook');
    return moto.endpoint;
  };
};

/**
 * A loopback endpoint in front of `target` that forwards one request at a time, answering each before the
 * next is sent. Moto's server runs requests on threads and does not serialise a conditional write's check
 * and its write (two `attribute_not_exists` puts on one key can both succeed), which DynamoDB never
 * allows. Behind this gate every request is atomic, as each single-item write is in DynamoDB, while
 * callers stay concurrent: a read-then-write that is not conditional still loses updates here.
 */
export const serialisedEndpoint = async (
  target: string,
): Promise<{ endpoint: string; close: () => Promise<void> }> => {
  let queue: Promise<unknown> = Promise.resolve();
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forward = async () => {
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(
            (e): e is [string, string] =>
              typeof e[1] === 'string' && !['connection', 'host', 'content-length'].includes(e[0]),
          ),
        );
        const r = await fetch(`${target}${req.url ?? '/'}`, {
          method: req.method,
          headers,
          body: chunks.length ? Buffer.concat(chunks) : undefined,
        });
        const body = Buffer.from(await r.arrayBuffer());
        const out: Record<string, string> = {};
        r.headers.forEach((v, k) => {
          if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(k))
            out[k] = v;
        });
        res.writeHead(r.status, { ...out, 'content-length': String(body.length) }).end(body);
      };
      queue = queue.then(forward).catch((e: unknown) => {
        res.writeHead(502).end(String(e));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/**
 * In `ec`'s account and region: a one-node cache.r7g.large Redis replication group `group`, and with `snapshot`
 * its manual snapshot of that name, tagged `tags`.
 */
export const createMotoRedis = async (
  ec: ElastiCacheClient,
  group: string,
  snapshot?: { name: string; tags: Record<string, string> },
): Promise<void> => {
  await ec.send(
    new CreateReplicationGroupCommand({
      ReplicationGroupId: group,
      ReplicationGroupDescription: group,
      Engine: 'redis',
      CacheNodeType: 'cache.r7g.large',
      NumCacheClusters: 1,
    }),
  );
  if (snapshot)
    await ec.send(
      new CreateSnapshotCommand({
        ReplicationGroupId: group,
        SnapshotName: snapshot.name,
        Tags: tagList(snapshot.tags),
      }),
    );
};

/**
 * A PostgreSQL instance `id` in moto (the smallest class, 20 GB, a throwaway master password); `over` adds
 * or replaces any of CreateDBInstance's inputs.
 */
export const createMotoInstance = async (
  rds: RDSClient,
  id: string,
  over: Partial<CreateDBInstanceCommandInput> = {},
): Promise<void> => {
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: id,
      DBInstanceClass: 'db.t4g.micro',
      Engine: 'postgres',
      MasterUsername: 'app',
      MasterUserPassword: 'not-a-secret-1',
      AllocatedStorage: 20,
      ...over,
    }),
  );
};

/** The e2e estate's two RDS instances in moto: `orders-db` tagged for the daily policy, `legacy-db` untagged. */
export const createMotoDatabases = async (rds: RDSClient): Promise<void> => {
  await createMotoInstance(rds, 'orders-db', { Tags: tagList({ 'steward:backup': 'daily' }) });
  await createMotoInstance(rds, 'legacy-db', { Tags: tagList({}) });
};

/**
 * A KMS key and its alias in the account of `accessKeyId` (no KMS client ships with steward: a raw JSON call;
 * moto reads the account from the access key and does not check the signature). Returns the key's ARN.
 */
export const createMotoKey = async (
  endpoint: string,
  accessKeyId: string,
  region: string,
  alias: string,
): Promise<string> => {
  const kms = async (target: string, body: object) => {
    const r = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `TrentService.${target}`,
        authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260115/${region}/kms/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify(body),
    });
    if (r.status !== 200) throw new Error(`moto KMS ${target}: HTTP ${r.status} ${await r.text()}`);
    return (await r.json()) as { KeyMetadata?: { KeyId: string; Arn: string } };
  };
  const { KeyMetadata } = await kms('CreateKey', { Description: `steward e2e ${alias}` });
  await kms('CreateAlias', { AliasName: alias, TargetKeyId: KeyMetadata!.KeyId });
  return KeyMetadata!.Arn;
};
