import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";

/** The repository root. */
export const root = join(import.meta.dirname, "../../..");

/** Every .ts file under `dir` (none when it does not exist yet). */
export function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** Module specifiers a file imports (static, dynamic and re-exports). */
export function importsOf(source: string): string[] {
  const specs: string[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s+["']([^"']+)["']/g;
  for (const m of source.matchAll(re)) specs.push((m[1] ?? m[2] ?? m[3])!);
  return specs;
}

export interface ImportOf {
  /** The specifier as written. */
  spec: string;
  /** Repository-relative path of a relative import (`core/types.ts`); undefined for packages. */
  target?: string;
  /** Names imported (`{ a, type B, c as d }` → a, B, c); `*` for a namespace, default or side-effect import. */
  names: string[];
  /** `import type { … }` or every name marked `type`: erased at runtime. */
  typeOnly: boolean;
}

/** The imports of the file at `file` (repository-relative), with their targets and names. */
export function importsIn(file: string, source: string): ImportOf[] {
  const out: ImportOf[] = [];
  const re = /(?:import|export)\s+(type\s+)?([^'"]*?)\s*from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s+["']([^"']+)["']/g;
  for (const m of source.matchAll(re)) {
    const spec = (m[3] ?? m[4] ?? m[5])!;
    const clause = m[2] ?? "";
    const braces = /^\{([^}]*)\}$/.exec(clause.trim());
    const parts = braces
      ? braces[1]!
          .split(",")
          .map((n) => n.trim())
          .filter(Boolean)
      : [];
    const names = braces
      ? parts.map((n) =>
          n
            .replace(/^type\s+/, "")
            .split(/\s+as\s+/)[0]!
            .trim(),
        )
      : ["*"];
    const typeOnly = Boolean(m[1]) || (parts.length > 0 && parts.every((n) => /^type\s/.test(n)));
    const target = spec.startsWith(".") ? relative(root, join(root, dirname(file), spec)) : undefined;
    out.push({ spec, names, typeOnly, ...(target ? { target } : {}) });
  }
  return out;
}
