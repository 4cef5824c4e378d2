import { Counter, type Registry } from 'prom-client';

/** What every bounded cache of the ledger counts, labelled by the cache's name. */
export interface CacheCounters {
  lookups: Counter<'cache' | 'result'>;
  evictions: Counter<'cache'>;
}

export function createCacheCounters(registry: Registry): CacheCounters {
  return {
    lookups: new Counter({
      name: 'ledger_cache_lookups_total',
      help: "Look-ups in the ledger's in-process caches, by cache and result (hit or miss)",
      labelNames: ['cache', 'result'],
      registers: [registry],
    }),
    evictions: new Counter({
      name: 'ledger_cache_evictions_total',
      help: 'Entries a bounded cache of the ledger dropped to stay within its size (each costs one look-up later)',
      labelNames: ['cache'],
      registers: [registry],
    }),
  };
}

/**
 * A least-recently-used map of at most `capacity` entries. A `Map` keeps insertion order, so
 * moving a key to the end on every hit makes its first key the least recently used one: no list
 * of its own, O(1) for every operation. Everything it holds can be read again from the database,
 * so an eviction only costs a look-up; `onEvict` lets a cache drop what depends on the entry.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(
    readonly name: string,
    readonly capacity: number,
    private readonly counters?: CacheCounters,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`cache ${name}: capacity must be an integer >= 1, not ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, now the most recently used; counts a hit or a miss. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) {
      this.counters?.lookups.inc({ cache: this.name, result: 'miss' });
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, value);
    this.counters?.lookups.inc({ cache: this.name, result: 'hit' });
    return value;
  }

  /** The value, left where it is in the order and not counted: for readers that must not displace the hot entries. */
  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  /** Stores the value as the most recently used, evicting the least recently used beyond the capacity. */
  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.capacity) this.evictOldest();
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  private evictOldest(): void {
    const oldest = this.entries.entries().next();
    if (oldest.done === true) return;
    const [key, value] = oldest.value;
    this.entries.delete(key);
    this.counters?.evictions.inc({ cache: this.name });
    this.onEvict?.(key, value);
  }
}
