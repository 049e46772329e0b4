import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { StewardError } from '../../errors.js';

// A minimal Redis client for the drill verifier: RESP2 over node:net / node:tls, the dozen read commands the
// engine sends, pipelining, and a time bound on connecting and on every command. No dependency, so the
// verifier bundle stays small. Neither the password nor any argument of a command ever goes into an error.

/** A RESP2 reply: simple and bulk strings as Buffers (keys are binary-safe), integers, nil, arrays. */
export type RespValue = Buffer | number | null | RespValue[];

/** The server answered with an error reply (`-ERR ...`, `-WRONGPASS ...`, `-NOPERM ...`). */
export class RedisReplyError extends StewardError {
  override name = 'RedisReplyError';
}

/** Connecting, or the connection itself, failed; every pending command fails with it. */
export class RedisConnectionError extends StewardError {
  override name = 'RedisConnectionError';
}

/** A command (or the connection) was not answered within its time bound; the connection is closed. */
export class RedisTimeoutError extends StewardError {
  override name = 'RedisTimeoutError';
}

export interface RedisClientOptions {
  host: string;
  port: number;
  /** `true`: TLS verified against the system CAs and the host name; or TLS options (`ca`, `servername`). */
  tls?: boolean | ConnectionOptions;
  username?: string;
  password?: string;
  /** TCP connect, TLS handshake and AUTH together. */
  connectTimeoutMs: number;
  /** Default time bound of each command (or pipeline). */
  commandTimeoutMs: number;
}

export type Arg = string | Buffer | number;

export interface RedisClient {
  /** One command; an error reply throws RedisReplyError. */
  send(args: readonly Arg[], timeoutMs?: number): Promise<RespValue>;
  /** Several commands in one write; each reply, or its error, in order. One time bound for all. */
  pipeline(
    commands: readonly (readonly Arg[])[],
    timeoutMs?: number,
  ): Promise<(RespValue | RedisReplyError)[]>;
  /** QUIT-free close: the verifier has nothing to flush. */
  close(): void;
}

/** RESP2 encoding of one command: an array of bulk strings. */
export const encodeCommand = (args: readonly Arg[]): Buffer => {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, CRLF);
  }
  return Buffer.concat(parts);
};
const CRLF = Buffer.from('\r\n');

/** Not enough bytes yet for a whole reply. */
const INCOMPLETE = Symbol('incomplete');
type Parsed = { value: RespValue | RedisReplyError; end: number } | typeof INCOMPLETE;

/** Parse one RESP2 reply of `buf` from `at`; INCOMPLETE when it has not all arrived. Exported for tests. */
export const parseReply = (buf: Buffer, at: number): Parsed => {
  if (at >= buf.length) return INCOMPLETE;
  const lineEnd = buf.indexOf(CRLF, at);
  if (lineEnd < 0) return INCOMPLETE;
  const type = buf[at];
  const line = () => buf.toString('utf8', at + 1, lineEnd);
  switch (type) {
    case 0x2b: // +
      return { value: buf.subarray(at + 1, lineEnd), end: lineEnd + 2 };
    case 0x2d: // -
      return { value: new RedisReplyError(line()), end: lineEnd + 2 };
    case 0x3a: // :
      return { value: Number(line()), end: lineEnd + 2 };
    case 0x24: {
      // $
      const n = Number(line());
      if (n < 0) return { value: null, end: lineEnd + 2 };
      const start = lineEnd + 2;
      if (buf.length < start + n + 2) return INCOMPLETE;
      return { value: buf.subarray(start, start + n), end: start + n + 2 };
    }
    case 0x2a: {
      // *
      const n = Number(line());
      if (n < 0) return { value: null, end: lineEnd + 2 };
      const items: RespValue[] = [];
      let pos = lineEnd + 2;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, pos);
        if (r === INCOMPLETE) return INCOMPLETE;
        // An error nested in an array (EXEC) is kept as its message; the engine sends no such command.
        items.push(r.value instanceof RedisReplyError ? Buffer.from(r.value.message) : r.value);
        pos = r.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new RedisConnectionError(`not a RESP2 reply (first byte 0x${(type ?? 0).toString(16)})`);
  }
};

interface Pending {
  resolve: (v: RespValue | RedisReplyError) => void;
  reject: (e: Error) => void;
}

/** A reply as text (simple and bulk strings). */
export const text = (v: RespValue | RedisReplyError | undefined): string =>
  Buffer.isBuffer(v) ? v.toString('utf8') : v === null || v === undefined ? '' : String(v);

/**
 * Connect, log in (`AUTH [username] password`) and return a client. Rejects with RedisConnectionError,
 * RedisTimeoutError or (a refused AUTH) RedisReplyError; never with the password in the message.
 */
export const connectRedis = (o: RedisClientOptions): Promise<RedisClient> =>
  new Promise<RedisClient>((resolveClient, rejectClient) => {
    const queue: Pending[] = [];
    let buffer: Buffer = Buffer.alloc(0);
    let broken: Error | undefined;
    let ready = false;

    const tlsOptions: ConnectionOptions | undefined =
      o.tls === true ? {} : o.tls === false || o.tls === undefined ? undefined : o.tls;
    const socket: Socket = tlsOptions
      ? tlsConnect({
          host: o.host,
          port: o.port,
          // SNI and the certificate's host name; an IP address is checked against the certificate's IP SANs.
          ...(isIP(o.host) ? {} : { servername: o.host }),
          ...tlsOptions,
        })
      : netConnect({ host: o.host, port: o.port });
    socket.setNoDelay(true);

    const fail = (e: Error) => {
      if (broken) return;
      broken = e;
      socket.destroy();
      for (const p of queue.splice(0)) p.reject(e);
      if (!ready) rejectClient(e);
    };
    const connectTimer = setTimeout(
      () =>
        fail(new RedisTimeoutError(`no connection to ${o.host}:${o.port} within ${o.connectTimeoutMs} ms`)),
      o.connectTimeoutMs,
    );
    socket.on('error', (e: NodeJS.ErrnoException) =>
      fail(
        new RedisConnectionError(
          `connection to ${o.host}:${o.port} failed: ${e.code ?? e.name}${e.code && e.message.includes(e.code) ? '' : `: ${e.message}`}`,
        ),
      ),
    );
    socket.on('close', () => fail(new RedisConnectionError(`connection to ${o.host}:${o.port} closed`)));
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      let at = 0;
      try {
        while (queue.length) {
          const r = parseReply(buffer, at);
          if (r === INCOMPLETE) break;
          at = r.end;
          queue.shift()!.resolve(r.value);
        }
      } catch (e) {
        fail(e as Error);
        return;
      }
      buffer = at >= buffer.length ? Buffer.alloc(0) : buffer.subarray(at);
    });

    const enqueue = (count: number): Promise<(RespValue | RedisReplyError)[]> =>
      Promise.all(
        Array.from(
          { length: count },
          () =>
            new Promise<RespValue | RedisReplyError>((resolve, reject) => queue.push({ resolve, reject })),
        ),
      );

    const pipeline: RedisClient['pipeline'] = async (commands, timeoutMs = o.commandTimeoutMs) => {
      if (broken) throw broken;
      if (!commands.length) return [];
      const replies = enqueue(commands.length);
      socket.write(Buffer.concat(commands.map(encodeCommand)));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const e = new RedisTimeoutError(
            `${commandName(commands[0]!)}${commands.length > 1 ? ` (+${commands.length - 1} pipelined)` : ''} not answered within ${timeoutMs} ms`,
          );
          // Replies still on their way would be read as the next command's: the connection is done.
          fail(e);
          reject(e);
        }, timeoutMs);
      });
      try {
        return await Promise.race([replies, timeout]);
      } finally {
        clearTimeout(timer);
      }
    };
    const client: RedisClient = {
      pipeline,
      send: async (args, timeoutMs) => {
        const [r] = await pipeline([args], timeoutMs);
        if (r instanceof RedisReplyError) throw r;
        return r ?? null;
      },
      close: () => {
        broken ??= new RedisConnectionError('closed');
        clearTimeout(connectTimer);
        socket.destroy();
      },
    };

    socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
      const auth =
        o.password === undefined
          ? Promise.resolve()
          : client
              .send(o.username ? ['AUTH', o.username, o.password] : ['AUTH', o.password], o.connectTimeoutMs)
              .then(() => undefined);
      auth.then(
        () => {
          clearTimeout(connectTimer);
          ready = true;
          resolveClient(client);
        },
        (e: Error) => {
          clearTimeout(connectTimer);
          // The server's reply to AUTH (WRONGPASS, NOAUTH) names no secret; keep it, and close.
          const err = e instanceof RedisReplyError ? new RedisReplyError(`AUTH refused: ${e.message}`) : e;
          fail(err);
          rejectClient(err);
        },
      );
    });
  });

const commandName = (args: readonly Arg[]): string => {
  const name = String(args[0] ?? '?').toUpperCase();
  // Never an argument: AUTH's would be the password, others could be customer keys.
  return /^[A-Z]+$/.test(name) ? name : '?';
};
