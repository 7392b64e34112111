/** Reading a cursor-paged list of events to its end. Free of DOM APIs, so it is tested in Node. */

export interface Page<T> {
  items: T[];
  nextBefore?: number;
}

/** `before` is the previous page's `nextBefore`; none asks for the newest. */
export interface PageRequest {
  limit: number;
  before?: number;
}

export type PageFetcher<T> = (page: PageRequest, signal?: AbortSignal) => Promise<Page<T>>;

/** The list holds more than the caller is prepared to take in one go. */
export class TooManyItems extends Error {
  override name = 'TooManyItems';
  constructor(readonly max: number) {
    super(`More than ${max} items.`);
  }
}

/**
 * Every item, page after page, newest first. Fails with TooManyItems as soon as it is clear
 * there are more than `max` (asking for one item beyond it, so exactly `max` still fits), and
 * with the signal's reason when it is aborted; `onProgress` hears the count after each page.
 */
export async function fetchAll<T>(
  fetchPage: PageFetcher<T>,
  options: { pageSize: number; max: number; signal?: AbortSignal; onProgress?: (count: number) => void },
): Promise<T[]> {
  const all: T[] = [];
  let before: number | undefined;
  do {
    options.signal?.throwIfAborted();
    const limit = Math.min(options.pageSize, options.max + 1 - all.length);
    const page = await fetchPage({ limit, ...(before === undefined ? {} : { before }) }, options.signal);
    all.push(...page.items);
    if (all.length > options.max) throw new TooManyItems(options.max);
    options.onProgress?.(all.length);
    before = page.nextBefore;
  } while (before !== undefined);
  return all;
}
