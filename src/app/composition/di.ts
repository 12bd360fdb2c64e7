// tsyringe checks for the Reflect metadata API when it loads, though nothing
// here uses decorators: every registration is a factory or a value.
import "reflect-metadata";
import {
  container as rootContainer,
  instanceCachingFactory,
  type DependencyContainer,
  type FactoryProvider,
  type InjectionToken as ContainerToken,
} from "tsyringe";
import type { InjectionToken } from "../../domain/injection-token.ts";

/** What the container resolves: a port by its typed symbol, an app class by the class itself. */
export type Token<T> = InjectionToken<T> | (new (...args: never[]) => T);

/** The container's `resolve`, typed by our tokens (tsyringe cannot infer a type from a symbol). */
export interface Resolve {
  <T>(token: Token<T>): T;
  /** Undefined when nothing is registered for the token (a part this configuration does not run). */
  optional<T>(token: Token<T>): T | undefined;
}

export function resolver(container: DependencyContainer): Resolve {
  const get = <T>(token: Token<T>): T => container.resolve<T>(token as ContainerToken<T>);
  return Object.assign(get, {
    optional: <T>(token: Token<T>): T | undefined =>
      container.isRegistered(token as ContainerToken<T>, true) ? get(token) : undefined,
  });
}

/**
 * A registration built once, on its first resolve, from what `build`
 * resolves through `get`: in the container that was asked, so the
 * replacements of a child container apply.
 */
export function singleton<T>(build: (get: Resolve) => T): FactoryProvider<T> {
  return { useFactory: instanceCachingFactory((container) => build(resolver(container))) };
}

/** A container of its own, so that two gateways in one process (tests) share nothing. */
export function newContainer(): DependencyContainer {
  return rootContainer.createChildContainer();
}
