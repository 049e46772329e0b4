import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FakeCall } from './fake-endpoint.js';

// The first message of a PostgreSQL connection (protocol 3.0): an SSLRequest (8 bytes, code 80877103) when
// the client wants TLS, else the StartupMessage (protocol 196608), which names the user and database.
const SSL_REQUEST = 80_877_103;
const PROTOCOL_3 = 196_608;

/**
 * What the first message of a connection asks: `SSLRequest`, or `Startup` (its user and database are not
 * part of the record: a baseline signs its own token for its own user; what is compared is that a
 * connection was opened, to which address, with or without TLS).
 */
const firstMessage = (b: Buffer): string | undefined => {
  if (b.length < 8) return undefined;
  const code = b.readInt32BE(4);
  if (code === SSL_REQUEST) return 'SSLRequest';
  if (code === PROTOCOL_3) return 'Startup';
  return `unknown(${code})`;
};

/**
 * A local stand-in for a restored database's endpoint: it records each connection's first message as a
 * request (`pg:SSLRequest@127.0.0.1:<port>`, in `calls`, beside the AWS endpoint's) and refuses to go
 * further: `N` to an SSLRequest (the client, which requires TLS, gives up), the socket closed after a
 * StartupMessage. A connection attempt that fails at once, as the drill-verify bench's first invoke makes,
 * but one the fairness check can see.
 */
export const startFakePostgres = async (
  calls: FakeCall[],
): Promise<{ host: string; port: number; close: () => Promise<void> }> => {
  const sockets = new Set<Socket>();
  let port = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const op = firstMessage(buffered);
      if (!op) return;
      socket.off('data', onData);
      calls.push({ service: 'pg', op, region: `127.0.0.1:${port}` });
      if (op === 'SSLRequest') socket.end('N');
      else socket.destroy();
    };
    socket.on('data', onData);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  port = (server.address() as AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
};
