import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake endpoint answered: the service and region (the signature's scope), and the operation. */
export interface FakeCall {
  service: string;
  op: string;
  region: string;
}

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
    return { service, op: target.split('.').pop()!, region };
  }
  const action = /(?:^|&)Action=(\w+)/.exec(body)?.[1];
  if (action) {
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<${action}Response><${action}Result>${answers[action]?.() ?? ''}</${action}Result>` +
        `<ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></${action}Response>`,
    );
    return { service, op: action, region };
  }
  const op = restOp(service, req.method ?? 'GET', req.url ?? '/');
  if (op === 'GetObject') {
    res.writeHead(404, { 'content-type': 'application/xml' });
    res.end('<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
  } else {
    res.writeHead(200, { 'content-type': 'application/json', etag: '"bench"' });
    res.end(service === 's3' ? '' : '{}');
  }
  return { service, op, region };
};

/**
 * A local stand-in for every AWS endpoint (`AWS_ENDPOINT_URL`): real HTTP, real SDK serialisation and
 * signing, empty answers (or `answers`, set per function). It records what was asked, so a baseline can
 * send exactly the same requests and read exactly the same answers.
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
