import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand, parseReply, RedisReplyError } from '../../../../shared/drill/redis/client.js';

const REPLY = Buffer.from(
  '*3\r\n$4\r\n1234\r\n*2\r\n$9\r\nsession:1\r\n$-1\r\n:-2\r\n' +
    '+OK\r\n' +
    '-WRONGPASS invalid username-password pair\r\n',
);

describe('RESP2', () => {
  it('encodes a command as an array of bulk strings, binary keys included', () => {
    // Act
    const b = encodeCommand(['SCAN', 0, 'MATCH', Buffer.from([0xff, 0x00])]);
    // Assert
    expect(b.toString('latin1')).toBe('*4\r\n$4\r\nSCAN\r\n$1\r\n0\r\n$5\r\nMATCH\r\n$2\r\n\xff\x00\r\n');
  });

  it('parses nested arrays, nil, integers, simple strings and errors', () => {
    // Act
    const first = parseReply(REPLY, 0);
    if (typeof first === 'symbol') throw new Error('incomplete');
    const second = parseReply(REPLY, first.end);
    if (typeof second === 'symbol') throw new Error('incomplete');
    const third = parseReply(REPLY, second.end);
    if (typeof third === 'symbol') throw new Error('incomplete');
    // Assert
    expect(first.value).toEqual([Buffer.from('1234'), [Buffer.from('session:1'), null], -2]);
    expect(second.value).toEqual(Buffer.from('OK'));
    expect(third.value).toBeInstanceOf(RedisReplyError);
    expect((third.value as Error).message).toBe('WRONGPASS invalid username-password pair');
    expect(third.end).toBe(REPLY.length);
  });

  it('waits for the rest of a reply cut anywhere', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: REPLY.length - 1 }), (cut) => {
        // Act
        const r = parseReply(REPLY.subarray(0, cut), 0);
        // Assert: a prefix is never mistaken for a whole first reply.
        const whole = parseReply(REPLY, 0);
        if (typeof whole === 'symbol') throw new Error('incomplete');
        return typeof r === 'symbol' ? cut < whole.end : r.end <= cut && cut >= whole.end;
      }),
      { numRuns: 200 },
    );
  });
});
