import { AsyncLocalStorage } from "node:async_hooks";
import type { Config } from "../../schemas/config.ts";

/**
 * Which function is running, for the rest of the invocation (async continuations included): the handler
 * chain enters it, and the sandbox reads it to evaluate each AWS call against that function's IAM role.
 * In Lambda nothing else reads it; it costs one AsyncLocalStorage frame per invocation.
 */
export interface Invocation {
  functionName: string;
  /** Set as soon as the configuration is read and validated. */
  config?: Config;
}

const storage = new AsyncLocalStorage<Invocation>();

export function runInvocation<T>(functionName: string, fn: () => T): T {
  return storage.run({ functionName }, fn);
}

export function currentInvocation(): Invocation | undefined {
  return storage.getStore();
}

/** Record the invocation's validated configuration (no-op outside an invocation). */
export function noteInvocationConfig(config: Config): void {
  const inv = storage.getStore();
  if (inv) inv.config = config;
}
