import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake endpoint answered: the service and region (the signature's scope), and the operation. */
export interface FakeCall {
  service: string;
  op: string;
  region: string;
  /**
   * What the request carried, as its command's input: the body of a JSON-protocol request, the decoded form
   * of a query-protocol one (`queryInput`), an S3 object or listing request's bucket, key, parameters, headers
   * and body (`s3Input`). None for other REST requests (Scheduler, Lambda).
   */
  input?: Record<string, unknown>;
}

/** A key of a query-protocol body (`A.member.1.B`) as the path of its value. */
const setPath = (into: Record<string, unknown>, path: string[], value: string) => {
  let at = into;
  path.forEach((key, i) => {
    if (i === path.length - 1) at[key] = value;
    else at = (at[key] ??= {}) as Record<string, unknown>;
  });
};

const numbered = (o: unknown): o is Record<string, unknown> =>
  typeof o === 'object' &&
  o !== null &&
  Object.keys(o).length > 0 &&
  Object.keys(o).every((k) => /^\d+$/.test(k));

/**
 * A query-protocol list or map back in the shape its command took: an object keyed 1, 2, ... is a list
 * (EC2 writes `Filter.1`), `{ member: [...] }` a list, and so is a member's own name wrapping a numbered list
 * below the top (RDS and ElastiCache write `Tags.Tag.1.Key` for `Tags: [{ Key }]`),
 * `{ entry: [{ Name | key, Value | value }] }` a map.
 */
const reshape = (v: unknown, top = false): unknown => {
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (numbered(o)) return keys.sort((a, b) => Number(a) - Number(b)).map((k) => reshape(o[k]));
  const inner = Object.fromEntries(keys.map((k) => [k, reshape(o[k])]));
  if (keys.length === 1 && keys[0] === 'member' && Array.isArray(inner.member)) return inner.member;
  if (!top && keys.length === 1 && keys[0] !== 'entry' && numbered(o[keys[0]!])) return inner[keys[0]!];
  if (keys.length === 1 && keys[0] === 'entry' && Array.isArray(inner.entry))
    return Object.fromEntries(
      (inner.entry as Record<string, unknown>[]).map((e) => [e.Name ?? e.key, e.Value ?? e.value]),
    );
  return inner;
};

/** A query-protocol body (`Action=...&Version=...&A.member.1=x`) as its command's input (values as strings). */
export const queryInput = (body: string): Record<string, unknown> => {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body))
    if (key !== 'Action' && key !== 'Version') setPath(raw, key.split('.'), value);
  return reshape(raw, true) as Record<string, unknown>;
};

/** A JSON-protocol body as its command's input (undefined when it is not a JSON object). */
const jsonInput = (body: string): Record<string, unknown> | undefined => {
  try {
    const v: unknown = JSON.parse(body || '{}');
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};

/** The operation of a REST request (S3, Scheduler): what the SDK command was, from method and path. */
const restOp = (service: string, method: string, url: string): string => {
  if (service === 's3') {
    if (method === 'PUT') return 'PutObject';
    if (method === 'HEAD') return 'HeadObject';
    if (method === 'GET') return url.includes('list-type=2') ? 'ListObjectsV2' : 'GetObject';
    if (method === 'DELETE') return 'DeleteObject';
  }
  if (service === 'scheduler' && method === 'POST') return 'CreateSchedule';
  return `${method} ${url.split('?')[0]}`;
};

// S3's listing parameters (query string) and object headers, by the input member each carries.
const S3_QUERY: Record<string, string> = {
  prefix: 'Prefix',
  delimiter: 'Delimiter',
  'continuation-token': 'ContinuationToken',
  'start-after': 'StartAfter',
  'encoding-type': 'EncodingType',
};
const S3_HEADERS: Record<string, string> = {
  'content-type': 'ContentType',
  'cache-control': 'CacheControl',
  'content-disposition': 'ContentDisposition',
  'x-amz-server-side-encryption': 'ServerSideEncryption',
  'x-amz-server-side-encryption-aws-kms-key-id': 'SSEKMSKeyId',
  'x-amz-storage-class': 'StorageClass',
  'x-amz-tagging': 'Tagging',
};

/**
 * An S3 object or listing request (path style, as the SDK addresses an IP endpoint) as its command's input:
 * bucket and key from the path, the listing's parameters, a put's headers, metadata and text body. None for
 * a copy (`x-amz-copy-source`) or a chunk-encoded body, which this does not take apart.
 */
const s3Input = (op: string, req: IncomingMessage, body: string): Record<string, unknown> | undefined => {
  const url = new URL(req.url ?? '/', 'http://fake');
  const [bucket, ...key] = url.pathname.slice(1).split('/').map(decodeURIComponent);
  if (!bucket) return undefined;
  const input: Record<string, unknown> = { Bucket: bucket };
  if (op === 'ListObjectsV2') {
    for (const [name, member] of Object.entries(S3_QUERY)) {
      const value = url.searchParams.get(name);
      if (value !== null) input[member] = value;
    }
    const max = url.searchParams.get('max-keys');
    if (max !== null) input.MaxKeys = Number(max);
    if (url.searchParams.get('fetch-owner') !== null)
      input.FetchOwner = url.searchParams.get('fetch-owner') === 'true';
    return input;
  }
  if (!['PutObject', 'GetObject', 'HeadObject', 'DeleteObject'].includes(op) || !key.length) return undefined;
  input.Key = key.join('/');
  if (op !== 'PutObject') return input;
  const h = req.headers;
  if (h['x-amz-copy-source'] || String(h['content-encoding'] ?? '').includes('aws-chunked')) return undefined;
  for (const [name, member] of Object.entries(S3_HEADERS))
    if (typeof h[name] === 'string') input[member] = h[name];
  const metadata = Object.entries(h).filter(([name]) => name.startsWith('x-amz-meta-'));
  if (metadata.length)
    input.Metadata = Object.fromEntries(
      metadata.map(([name, v]) => [name.slice('x-amz-meta-'.length), String(v)]),
    );
  input.Body = body;
  return input;
};

/**
 * The body inside `<Op>Result` for query-protocol operations that must answer with data (by operation
 * name): what a function's first invoke needs to return normally rather than throw.
 */
export type QueryAnswers = Record<string, () => string>;

/**
 * Answer one request with the smallest valid response of its protocol: `{}` for the JSON protocols (the
 * operation in X-Amz-Target), an empty `<Op>Result` for the query protocol (RDS, ElastiCache, SNS) unless
 * `answers` has a body for it, and for S3 an empty success (a GET is NoSuchKey, as a first report read
 * would be).
 */
const respond = (
  req: IncomingMessage,
  body: string,
  res: ServerResponse,
  answers: QueryAnswers,
): FakeCall => {
  // SigV4's credential scope: <key>/<date>/<region>/<service>/aws4_request.
  const scope = /Credential=[^/]+\/\d+\/([^/]+)\/([^/]+)\//.exec(String(req.headers.authorization ?? ''));
  const region = scope?.[1] ?? 'unknown';
  const service = scope?.[2] ?? 'unknown';
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    res.writeHead(200, { 'content-type': String(req.headers['content-type'] ?? 'application/json') });
    res.end('{}');
    const input = jsonInput(body);
    return { service, op: target.split('.').pop()!, region, ...(input ? { input } : {}) };
  }
  const action = /(?:^|&)Action=(\w+)/.exec(body)?.[1];
  if (action) {
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<${action}Response><${action}Result>${answers[action]?.() ?? ''}</${action}Result>` +
        `<ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></${action}Response>`,
    );
    return { service, op: action, region, input: queryInput(body) };
  }
  const op = restOp(service, req.method ?? 'GET', req.url ?? '/');
  if (op === 'GetObject') {
    res.writeHead(404, { 'content-type': 'application/xml' });
    res.end('<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
  } else {
    res.writeHead(200, { 'content-type': 'application/json', etag: '"bench"' });
    res.end(service === 's3' ? '' : '{}');
  }
  const input = service === 's3' ? s3Input(op, req, body) : undefined;
  return { service, op, region, ...(input ? { input } : {}) };
};

/**
 * A local stand-in for every AWS endpoint (`AWS_ENDPOINT_URL`): real HTTP, real SDK serialisation and
 * signing, empty answers (or `answers`, set per function). It records what was asked (and with what input), so
 * a baseline can send exactly the same requests and read exactly the same answers.
 */
export const startFakeEndpoint = async (): Promise<{
  url: string;
  calls: FakeCall[];
  answers: QueryAnswers;
  close: () => Promise<void>;
}> => {
  const calls: FakeCall[] = [];
  const answers: QueryAnswers = {};
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => calls.push(respond(req, Buffer.concat(chunks).toString('utf8'), res, answers)));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    answers,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
};
