/** Streamed text written in batches (src/http/delta-batch.ts): first piece at once, order kept. */
import { describe, expect, it } from 'vitest';
import { batchDeltas } from '../src/http/delta-batch';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('batchDeltas', () => {
  it('writes the first piece at once and joins the pieces that follow within the window', async () => {
    const writes: string[] = [];
    const batch = batchDeltas(async (text) => void writes.push(text), 50);
    await batch.push('Hello');
    expect(writes).toEqual(['Hello']);
    await batch.push(' wor');
    await batch.push('ld');
    expect(writes).toEqual(['Hello']);
    await sleep(80); // the window's timer writes what was buffered
    expect(writes).toEqual(['Hello', ' world']);
    await batch.push('!');
    await batch.flush();
    await batch.flush(); // nothing left: no empty write
    expect(writes).toEqual(['Hello', ' world', '!']);
  });

  it('a piece arriving after the window has passed is written at once', async () => {
    const writes: string[] = [];
    const batch = batchDeltas(async (text) => void writes.push(text), 20);
    await batch.push('a');
    await sleep(40);
    await batch.push('b');
    expect(writes).toEqual(['a', 'b']);
    await batch.push(''); // empty pieces are ignored
    await batch.flush();
    expect(writes).toEqual(['a', 'b']);
  });
});
