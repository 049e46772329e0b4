import { createServer } from 'node:net';

/** A loopback port free right now (the caller retries when another process takes it before binding). */
export const freePort = (): Promise<number> =>
  new Promise((done, fail) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        addr && typeof addr === 'object' ? done(addr.port) : fail(new Error('no port assigned')),
      );
    });
  });
