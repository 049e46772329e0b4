import { describe, expect, it, vi } from 'vitest';
import { deferredPort } from '../../shared/deferred.js';

interface Port {
  readonly region: string;
  copies(): Promise<string[]>;
  copy(id: string, to: string): Promise<'started'>;
}

describe('deferredPort', () => {
  it('loads nothing until a method is called, then loads once and calls the loaded port with its arguments', async () => {
    // Prepare
    const copy = vi.fn(async function (this: unknown, _id: string, _to: string) {
      return this === loaded ? ('started' as const) : expect.unreachable('called on another object');
    });
    const loaded: Port = { region: 'eu-west-1', copies: async () => ['a'], copy };
    const load = vi.fn(async () => loaded);

    // Act
    const port = deferredPort<Port>('eu-west-1', load);
    const region = port.region;
    const before = load.mock.calls.length;
    const results = await Promise.all([port.copies(), port.copy('a', 'us-west-2'), port.copies()]);

    // Assert
    expect(region).toBe('eu-west-1');
    expect(before).toBe(0);
    expect(load).toHaveBeenCalledTimes(1);
    expect(copy).toHaveBeenCalledWith('a', 'us-west-2');
    expect(results).toEqual([['a'], 'started', ['a']]);
  });

  it('gives the members in `also` as they are (a nested port), and the methods deferred', async () => {
    // Prepare
    const nested = { region: 'eu-west-1', copies: async () => ['n'] };
    const load = vi.fn(async (): Promise<Port & { nested: typeof nested }> => ({
      region: 'eu-west-1',
      copies: async () => ['a'],
      copy: async () => 'started',
      nested,
    }));

    // Act
    const port = deferredPort('eu-west-1', load, { nested });

    // Assert
    expect(port.nested).toBe(nested);
    expect(await port.nested.copies()).toEqual(['n']);
    expect(load).not.toHaveBeenCalled();
    expect(await port.copies()).toEqual(['a']);
  });

  it('is not a promise (awaiting it gives the port back), and a failed load fails the call that needed it', async () => {
    // Prepare
    const port = deferredPort<Port>('eu-west-1', async () => {
      throw new Error('module not found');
    });

    // Act
    const awaited = await port;

    // Assert
    expect(awaited).toBe(port);
    await expect(port.copies()).rejects.toThrow('module not found');
  });

  it('loads again at the next call after a failed load, then keeps the port it loaded', async () => {
    // Prepare: the adapter's chunk fails to load once (a cut-off read), then loads.
    const loaded: Port = { region: 'eu-west-1', copies: async () => ['a'], copy: async () => 'started' };
    const load = vi
      .fn<() => Promise<Port>>()
      .mockRejectedValueOnce(new Error('EIO'))
      .mockResolvedValue(loaded);
    const port = deferredPort<Port>('eu-west-1', load);

    // Act
    const failed = await port.copies().catch((e: unknown) => e);
    const results = [await port.copies(), await port.copy('a', 'us-west-2')];

    // Assert
    expect(failed).toEqual(new Error('EIO'));
    expect(results).toEqual([['a'], 'started']);
    expect(load).toHaveBeenCalledTimes(2);
  });
});
