/**
 * A typed injection token: a symbol that remembers the type it resolves to.
 * Structurally compatible with tsyringe's `InjectionToken<T>` (a symbol), so
 * the composition root can register and resolve ports by these tokens while
 * the domain stays free of any framework import.
 */
export type InjectionToken<T> = symbol & { readonly __resolvesTo?: T };

/** Creates the token of a port; `Symbol.for` keeps it stable across module copies. */
export function injectionToken<T>(name: string): InjectionToken<T> {
  return Symbol.for(`gateway.${name}`) as InjectionToken<T>;
}
