/**
 * A fake of a class-typed port (one with private fields, so no object literal can be it) from the
 * members a test implements. Any other member throws when it is read: a route that starts using
 * a method the fake lacks fails loudly instead of answering from an empty object.
 */
export function portFake<T extends object>(port: string, implemented: Partial<T>): T {
  const handler: ProxyHandler<Partial<T>> = {
    get(target, member, receiver) {
      if (member in target || typeof member === 'symbol' || member === 'then') return Reflect.get(target, member, receiver) as unknown;
      throw new Error(`the fake ${port} does not implement ${member}`);
    },
  };
  // The proxy answers every member of T: the implemented ones, and a throw for the rest.
  return new Proxy(implemented, handler) as T;
}
