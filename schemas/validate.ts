import type { z } from "zod";

/**
 * Thrown when an event or the configuration does not match its schema.
 * The message names every offending field by its path, e.g.
 * `Invalid config: backup.policies[0].tiers.daily.keep.days: Too small: expected number to be >0`.
 */
export class ValidationError extends Error {
  override name = "ValidationError";
  readonly issues: { path: string; message: string }[];
  constructor(what: string, issues: { path: string; message: string }[]) {
    super(`Invalid ${what}: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`);
    this.issues = issues;
  }
}

/** `a.b[0].c` from zod's path array. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** Parse `input` with `schema` or throw a {@link ValidationError} naming each bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(
    what,
    result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
  );
}
