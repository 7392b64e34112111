import { describe, expect, it } from 'vitest';
import { fetchAll, type PageRequest, TooManyItems } from '../../web/src/api/paging.ts';

/** A list of `total` items (newest has the highest number) paged like the API: a full page has a cursor. */
function pagedList(total: number) {
  const asked: PageRequest[] = [];
  const fetchPage = async (page: PageRequest) => {
    asked.push(page);
    const newest = page.before === undefined ? total : page.before - 1;
    const items = Array.from({ length: Math.max(0, Math.min(page.limit, newest)) }, (_, i) => newest - i);
    const last = items.at(-1);
    return { items, ...(items.length === page.limit && last !== undefined ? { nextBefore: last } : {}) };
  };
  return { asked, fetchPage };
}

describe('reading a paged list to its end', () => {
  it('follows the cursor to the oldest item, telling the count after each page', async () => {
    const list = pagedList(1_234);
    const progress: number[] = [];
    const all = await fetchAll(list.fetchPage, { pageSize: 500, max: 20_000, onProgress: (n) => progress.push(n) });
    expect(all).toHaveLength(1_234);
    expect(all[0]).toBe(1_234);
    expect(all.at(-1)).toBe(1);
    expect(new Set(all).size).toBe(1_234);
    expect(progress).toEqual([500, 1_000, 1_234]);
    expect(list.asked.map((p) => p.before)).toEqual([undefined, 735, 235]);
  });

  it('takes exactly the most it may, and refuses one more', async () => {
    expect(await fetchAll(pagedList(1_000).fetchPage, { pageSize: 500, max: 1_000 })).toHaveLength(1_000);
    await expect(fetchAll(pagedList(1_001).fetchPage, { pageSize: 500, max: 1_000 })).rejects.toBeInstanceOf(TooManyItems);
  });

  it('an empty list is one request and no items', async () => {
    const list = pagedList(0);
    expect(await fetchAll(list.fetchPage, { pageSize: 500, max: 1_000 })).toEqual([]);
    expect(list.asked).toHaveLength(1);
  });

  it('stops asking once cancelled', async () => {
    const list = pagedList(5_000);
    const cancel = new AbortController();
    const reading = fetchAll(list.fetchPage, { pageSize: 500, max: 20_000, signal: cancel.signal, onProgress: (n) => n >= 1_000 && cancel.abort() });
    await expect(reading).rejects.toThrow();
    expect(list.asked).toHaveLength(2);
  });
});
