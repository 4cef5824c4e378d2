import { Registry } from 'prom-client';
import { BoundedCache, createCacheCounters } from '../../../services/account-service/ledger/bounded-cache';

async function counted(registry: Registry): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const value of metric.values) counts[`${metric.name}{${Object.values(value.labels).join(',')}}`] = value.value;
  }
  return counts;
}

describe('BoundedCache: a least-recently-used map of bounded size', () => {
  test('when more keys are set than the capacity, then the least recently used go first and the size stays at the capacity', () => {
    const evicted: string[] = [];
    const cache = new BoundedCache<string, number>('test', 3, undefined, (key) => evicted.push(key));
    for (const [index, key] of ['a', 'b', 'c', 'd', 'e'].entries()) cache.set(key, index);
    expect({ size: cache.size, evicted, a: cache.get('a'), c: cache.get('c'), e: cache.get('e') }).toEqual({ size: 3, evicted: ['a', 'b'], a: undefined, c: 2, e: 4 });
  });

  test('when a key is read or set again, then it becomes the most recently used and another is evicted', () => {
    const evicted: string[] = [];
    const cache = new BoundedCache<string, number>('test', 2, undefined, (key) => evicted.push(key));
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    cache.set('a', 10);
    cache.set('d', 4);
    expect({ evicted, a: cache.get('a'), d: cache.get('d'), size: cache.size }).toEqual({ evicted: ['b', 'c'], a: 10, d: 4, size: 2 });
  });

  test('when a key is deleted, then it is gone without counting as an eviction', () => {
    const evicted: string[] = [];
    const cache = new BoundedCache<string, number>('test', 2, undefined, (key) => evicted.push(key));
    cache.set('a', 1);
    cache.delete('a');
    cache.delete('missing');
    expect({ a: cache.get('a'), size: cache.size, evicted }).toEqual({ a: undefined, size: 0, evicted: [] });
  });

  test('when it is looked up and overflows, then hits, misses and evictions are counted under its name', async () => {
    const registry = new Registry();
    const cache = new BoundedCache<string, number>('heads', 1, createCacheCounters(registry));
    cache.set('a', 1);
    cache.get('a');
    cache.get('b');
    cache.set('b', 2);
    cache.get('a');
    expect(await counted(registry)).toEqual({ 'ledger_cache_lookups_total{heads,hit}': 1, 'ledger_cache_lookups_total{heads,miss}': 2, 'ledger_cache_evictions_total{heads}': 1 });
  });

  test('when the capacity is not a whole number of at least 1, then it is refused', () => {
    expect(() => new BoundedCache('test', 0)).toThrow('cache test: capacity must be an integer >= 1, not 0');
    expect(() => new BoundedCache('test', 1.5)).toThrow('cache test: capacity must be an integer >= 1, not 1.5');
  });
});
