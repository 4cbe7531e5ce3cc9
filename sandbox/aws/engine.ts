/**
 * The sandbox engine: mocks client classes with aws-sdk-client-mock, routes every `send` to the
 * service simulation registered for that class, records the call, applies injected faults and
 * emulates the SDK's retry loop (without its sleeps).
 *
 * Why the retry emulation: `mockClient(RDSClient)` replaces `RDSClient.prototype.send`, so the
 * client's middleware stack — including the retry middleware — never runs. Without emulation a
 * single injected `Throttling` would reach the adapter on the first attempt, which never happens
 * against AWS with `maxAttempts: 6`. With `retry: "sdk"` (default) the engine re-dispatches
 * SDK-retryable errors (throttling, transient, 5xx) up to the client's configured `maxAttempts`,
 * immediately (no backoff: simulated time does not pass during a call), and sets
 * `$metadata.attempts` on the final error as the SDK does. With `retry: "none"` every attempt's
 * error reaches the caller.
 */
import { mockClient, type AwsStub } from "aws-sdk-client-mock";
import type { SandboxClock } from "./clock.ts";
import { isSdkRetryable, SandboxUnsupportedError, type FaultKind, type SandboxServiceError } from "./errors.ts";
import type { RateLimiter } from "./rate-limits.ts";

/** One attempt of one command, as seen by the sandbox. */
export interface CallRecord {
  service: string;
  region: string;
  /** Command name without the `Command` suffix: `CreateDBSnapshot`. */
  command: string;
  input: unknown;
  at: Date;
  /** 1 for the first attempt; > 1 for SDK retries emulated by the engine. */
  attempt: number;
  error?: { name: string; message: string };
  /** The attempt found its token bucket empty (rate-limits.ts) and got the service's throttling error. */
  throttled?: true;
  /** The account the call acted in, when not the sandbox's default account (credentials from sandbox STS, accounts.ts). */
  account?: string;
}

/** What a command handler knows about the call it serves. */
export interface CommandContext {
  service: string;
  command: string;
  region: string;
  accountId: string;
  nowMs: number;
  core: SandboxCore;
  /**
   * A fault injected for this call that the service applies itself rather than throwing
   * (`faultFor` returned "deferred"), e.g. an EBS copy accepted and then failed on KMS.
   */
  deferredFault?: FaultKind;
  /** Who made the call when its client carried credentials the sandbox issued (accounts.ts); undefined: the resolver's principal. */
  caller?: unknown;
}

/** Where a call goes: the account core serving it and the identity its credentials name (accounts.ts). */
export interface CallTarget {
  core: SandboxCore;
  caller?: unknown;
  /** The call fails with this before any authorization (expired or unknown sandbox credentials). */
  reject?: Error;
}

/** Routes a client's call by its credentials; undefined: the default account, as before accounts existed. */
export interface CallRouter {
  route(client: object, service: string): CallTarget | undefined | Promise<CallTarget | undefined>;
}

// biome-ignore lint/suspicious/noExplicitAny: each service's handlers take their own command's input
export type CommandHandler = (input: any, ctx: CommandContext) => unknown;

// biome-ignore lint/suspicious/noExplicitAny: any SDK command class
export type CommandClass = abstract new (...args: any[]) => { input: unknown };
// biome-ignore lint/suspicious/noExplicitAny: any SDK client class
export type ClientClass = abstract new (...args: any[]) => { send: (...args: any[]) => any };

/**
 * A simulated service. A new service (Route 53, CloudWatch) is one file exporting a factory that
 * returns this plus its inspection API; see sandbox/index.ts for where factories are listed.
 */
export interface ServiceSim {
  readonly service: string;
  readonly clientClass: ClientClass;
  /** Command class -> handler. Unlisted commands fail loudly with SandboxUnsupportedError. */
  readonly commands: ReadonlyArray<readonly [CommandClass, CommandHandler]>;
  /**
   * The error this command would really return for an injected fault kind, or "deferred" when
   * the service applies it itself (the handler then sees `ctx.deferredFault`).
   */
  faultFor(kind: FaultKind, ctx: CommandContext, input: unknown): Error | "deferred";
}

export type InjectedError = FaultKind | Error | ((ctx: CommandContext, input: unknown) => Error);

export interface Injection {
  service: string;
  /** Command name without `Command`; all commands of the service when omitted. */
  command?: string;
  region?: string;
  error: InjectedError;
  /** How many attempts fail (each emulated SDK retry is an attempt). Default 1; `Infinity` until cleared. */
  times?: number;
  // biome-ignore lint/suspicious/noExplicitAny: the command's own input
  match?: (input: any, ctx: CommandContext) => boolean;
}

export interface InjectionHandle {
  /** Attempts this injection has failed so far. */
  readonly hits: number;
  readonly remaining: number;
  clear(): void;
}

interface ActiveInjection extends Injection {
  remaining: number;
  hits: number;
}

export interface EngineOptions {
  clock: SandboxClock;
  accountId: string;
  regions: readonly string[];
  /** "sdk" (default): emulate the SDK's retries of retryable errors, with no delay. "none": surface every attempt. */
  retry?: "sdk" | "none";
  /** Keep command inputs in `calls` (default true). The drill over many years can turn it off. */
  recordInputs?: boolean;
  /**
   * How many calls the aws-sdk-client-mock stubs keep in their (sinon) history, which
   * `aws-sdk-client-mock-vitest` matchers read. Sinon also keeps every output, so a simulated
   * year would hold ~1 GB; past the limit the history is dropped and `mock()` throws. Default 5000. 0: no
   * aws-sdk-client-mock stub at all (the client classes' `send` is patched directly, `mock()` throws).
   */
  mockHistoryLimit?: number;
}

interface ClientInfo {
  region: string;
  maxAttempts: number;
}

/** KMS keys the sandbox treats as inaccessible (disabled, deleted or denied by policy). */
export class KmsState {
  private denied = new Set<string>();

  /** Deny a key id, alias or ARN (as the caller will pass it in `KmsKeyId`). */
  deny(key: string): void {
    this.denied.add(key);
  }

  allow(key: string): void {
    this.denied.delete(key);
  }

  isDenied(key: string | undefined): boolean {
    return key !== undefined && this.denied.has(key);
  }
}

/** Authorizes each call before its service sees it (sandbox/iam/enforce.ts bound to the account). */
export interface CallAuthorizer {
  authorize(service: string, command: string, input: unknown, region: string, target?: CallTarget): void;
  /** Lets the authorizer replace a service error (S3's 403 for a missing key without s3:ListBucket). */
  mapError(service: string, command: string, input: unknown, region: string, err: unknown, target?: CallTarget): unknown;
}

export class SandboxCore {
  readonly clock: SandboxClock;
  readonly accountId: string;
  readonly regions: readonly string[];
  readonly kms = new KmsState();
  /** Every attempt of every command, in order. */
  readonly calls: CallRecord[] = [];
  retry: "sdk" | "none";
  recordInputs: boolean;
  /** IAM enforcement; undefined only when a sandbox is created with `iam: false`. */
  authorizer?: CallAuthorizer;
  /** API rate limits (rate-limits.ts): token buckets per account and region, and the SDK's backoff on the clock; undefined when off. */
  rateLimits?: RateLimiter;
  /** Several accounts (accounts.ts): picks the account core a client's credentials act in. */
  router?: CallRouter;

  private readonly sims = new Map<string, ServiceSim>();
  private readonly stubs = new Map<string, AwsStub<object, never, unknown>>();
  /** With mockHistoryLimit 0: the client classes' own `send`, put back by restore(). */
  private readonly patched: Array<{ proto: { send: unknown }; original: unknown }> = [];
  private readonly byCommand = new Map<string, Map<unknown, { name: string; handler: CommandHandler }>>();
  private readonly clientInfo = new WeakMap<object, Promise<ClientInfo>>();
  private injections: ActiveInjection[] = [];
  private restored = false;
  private readonly mockHistoryLimit: number;
  private historyDropped = false;
  private sends = 0;

  constructor(options: EngineOptions) {
    this.clock = options.clock;
    this.accountId = options.accountId;
    this.regions = options.regions;
    this.retry = options.retry ?? "sdk";
    this.recordInputs = options.recordInputs ?? true;
    this.mockHistoryLimit = options.mockHistoryLimit ?? 5000;
  }

  /** Mock the service's client class and route its commands to the simulation. */
  register(sim: ServiceSim): void {
    this.registerUnmocked(sim);
    const core = this;
    if (this.mockHistoryLimit === 0) {
      // No call history wanted: patch `send` directly. A sinon stub records every call and builds an Error for
      // its call stack each time, which over a simulated year of hourly runs is seconds of CPU.
      const proto = (sim.clientClass as unknown as { prototype: { send: unknown } }).prototype;
      this.patched.push({ proto, original: proto.send });
      proto.send = function (this: object, command: { input: unknown }) {
        return core.send(sim.service, this, command);
      };
      return;
    }
    // mockClient() replaces an existing stub on the same class, so a sandbox left unrestored by an
    // earlier test is superseded rather than answering for this one.
    const stub = mockClient(sim.clientClass as never) as unknown as AwsStub<object, never, unknown>;
    stub.send.callsFake(function (this: object, command: { input: unknown }) {
      return core.send(sim.service, this, command);
    } as never);
    this.stubs.set(sim.service, stub);
  }

  /** Route the service's commands to the simulation without mocking its client class: another account's core, reached through `router`. */
  registerUnmocked(sim: ServiceSim): void {
    if (this.sims.has(sim.service)) throw new Error(`sandbox: service ${sim.service} registered twice`);
    this.sims.set(sim.service, sim);
    const table = new Map<unknown, { name: string; handler: CommandHandler }>();
    for (const [cls, handler] of sim.commands) table.set(cls, { name: cls.name.replace(/Command$/, ""), handler });
    this.byCommand.set(sim.service, table);
  }

  /** The aws-sdk-client-mock stub for a service, for `aws-sdk-client-mock-vitest` matchers. */
  mock(service: string): AwsStub<object, never, unknown> {
    if (this.mockHistoryLimit === 0) throw new Error("sandbox.mock: created with mockHistoryLimit 0 (no call history); use sb.calls");
    const stub = this.stubs.get(service);
    if (!stub) throw new Error(`sandbox: no service ${service}`);
    if (this.historyDropped) {
      throw new Error(`sandbox.mock: call history was dropped after ${this.mockHistoryLimit} calls; use sb.calls, or raise mockHistoryLimit`);
    }
    return stub;
  }

  inject(injection: Injection): InjectionHandle {
    if (!this.sims.has(injection.service)) throw new Error(`sandbox.inject: unknown service ${injection.service}`);
    if (injection.command !== undefined) {
      const known = [...this.byCommand.get(injection.service)!.values()].some((c) => c.name === injection.command);
      if (!known) throw new Error(`sandbox.inject: ${injection.service} has no simulated command ${injection.command}`);
    }
    const active: ActiveInjection = { ...injection, remaining: injection.times ?? 1, hits: 0 };
    this.injections.push(active);
    const core = this;
    return {
      get hits() {
        return active.hits;
      },
      get remaining() {
        return active.remaining;
      },
      clear() {
        core.injections = core.injections.filter((i) => i !== active);
      },
    };
  }

  clearInjections(): void {
    this.injections = [];
  }

  /** Undo every mock: the client classes send real requests again. */
  restore(): void {
    if (this.restored) return;
    this.restored = true;
    for (const stub of this.stubs.values()) stub.restore();
    for (const { proto, original } of this.patched.reverse()) proto.send = original;
  }

  service<T extends ServiceSim>(name: string): T {
    const sim = this.sims.get(name);
    if (!sim) throw new Error(`sandbox: no service ${name}`);
    return sim as T;
  }

  private info(client: object): Promise<ClientInfo> {
    let info = this.clientInfo.get(client);
    if (!info) {
      const config = (client as { config?: { region?: unknown; maxAttempts?: unknown } }).config ?? {};
      info = (async () => {
        const region = typeof config.region === "function" ? await (config.region as () => Promise<string>)() : config.region;
        const attempts = typeof config.maxAttempts === "function" ? await (config.maxAttempts as () => Promise<number>)() : config.maxAttempts;
        if (typeof region !== "string" || region === "") throw new Error("sandbox: client has no region");
        return { region, maxAttempts: typeof attempts === "number" && attempts >= 1 ? attempts : 3 };
      })();
      this.clientInfo.set(client, info);
    }
    return info;
  }

  private async send(service: string, client: object, command: { input: unknown }): Promise<unknown> {
    const { region, maxAttempts } = await this.info(client);
    // Synchronous for a client without credentials of its own: no extra await on the hot path.
    const routed = this.router?.route(client, service);
    const target = routed instanceof Promise ? await routed : routed;
    const entry = (target?.core ?? this).byCommand.get(service)?.get(command.constructor);
    // After the first await sinon's invocation has returned, so its history may be reset.
    if (++this.sends > this.mockHistoryLimit) {
      this.historyDropped = true;
      for (const stub of this.stubs.values()) stub.send.resetHistory();
    }
    const name = entry?.name ?? command.constructor.name.replace(/Command$/, "");
    const attempts = this.retry === "sdk" ? maxAttempts : 1;
    let retryCost: number | undefined;
    for (let attempt = 1; ; attempt++) {
      const startedMs = this.clock.nowMs();
      try {
        const out = await this.attempt(service, entry, name, region, command.input, attempt, target);
        this.rateLimits?.onSuccess(client, retryCost);
        return out;
      } catch (err) {
        let retry = attempt < attempts && isSdkRetryable(err);
        // With rate limits on, a retry costs retry capacity and, after a bucket's throttle, waits the SDK's backoff on the clock.
        if (retry && this.rateLimits) {
          retryCost = this.rateLimits.beforeRetry(client, err, attempt - 1, startedMs);
          retry = retryCost !== undefined;
        }
        if (!retry) {
          const meta = (err as Partial<SandboxServiceError>).$metadata;
          if (meta) meta.attempts = attempt;
          throw err;
        }
      }
    }
  }

  private async attempt(
    service: string,
    entry: { name: string; handler: CommandHandler } | undefined,
    command: string,
    region: string,
    input: unknown,
    attempt: number,
    target?: CallTarget,
  ): Promise<unknown> {
    const nowMs = this.clock.nowMs();
    const record: CallRecord = {
      service,
      region,
      command,
      input: this.recordInputs ? input : undefined,
      at: new Date(nowMs),
      attempt,
    };
    const core = target?.core ?? this;
    if (core !== this) record.account = core.accountId;
    this.calls.push(record);
    try {
      if (!entry) throw new SandboxUnsupportedError(`sandbox does not simulate ${service}:${command}`);
      if (target?.reject) throw target.reject;
      this.authorizer?.authorize(service, command, input, region, target);
      const ctx: CommandContext = { service, command, region, accountId: core.accountId, nowMs, core };
      if (target?.caller !== undefined) ctx.caller = target.caller;
      if (this.rateLimits && !this.rateLimits.take(ctx, input)) {
        record.throttled = true;
        throw this.rateLimits.throttleError(ctx, input);
      }
      const fault = this.takeFault(ctx, input);
      if (fault instanceof Error) throw fault;
      if (fault !== undefined) ctx.deferredFault = fault;
      // Handlers copy what they keep from `input` and build fresh outputs, so neither side can
      // mutate the other's objects.
      try {
        return await entry.handler(input, ctx);
      } catch (err) {
        throw this.authorizer ? this.authorizer.mapError(service, command, input, region, err, target) : err;
      }
    } catch (err) {
      const e = err as Error;
      record.error = { name: e.name, message: e.message };
      throw err;
    }
  }

  private takeFault(ctx: CommandContext, input: unknown): Error | FaultKind | undefined {
    for (const inj of this.injections) {
      if (inj.remaining <= 0) continue;
      if (inj.service !== ctx.service) continue;
      if (inj.command !== undefined && inj.command !== ctx.command) continue;
      if (inj.region !== undefined && inj.region !== ctx.region) continue;
      if (inj.match && !inj.match(input, ctx)) continue;
      inj.remaining -= 1;
      inj.hits += 1;
      if (inj.remaining <= 0) this.injections = this.injections.filter((i) => i !== inj);
      const { error } = inj;
      if (error instanceof Error) return error;
      if (typeof error === "function") return error(ctx, input);
      const mapped = this.sims.get(ctx.service)!.faultFor(error, ctx, input);
      return mapped === "deferred" ? error : mapped;
    }
    return undefined;
  }
}
