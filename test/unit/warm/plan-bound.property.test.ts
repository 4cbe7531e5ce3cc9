import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { planWarm, SKIPPED_LISTED_PER_KIND, type WarmCandidate } from "../../../core/warm/plan.ts";

/** The plan as if every candidate were kept and sorted: the definition the bounded planner follows. */
function reference(limit: number, candidates: WarmCandidate[]) {
  const byUrl = new Map<string, { url: string; priority: number; lastmod?: string; source: string; index: number }>();
  const t = (s?: string) => (s ? Date.parse(s) : Number.NEGATIVE_INFINITY);
  candidates.forEach((c, index) => {
    const prev = byUrl.get(c.url);
    if (!prev) byUrl.set(c.url, { url: c.url, priority: c.priority, ...(c.lastmod ? { lastmod: c.lastmod } : {}), source: c.source, index });
    else {
      prev.priority = Math.max(prev.priority, c.priority);
      if (t(c.lastmod) > t(prev.lastmod)) prev.lastmod = c.lastmod!;
    }
  });
  const all = [...byUrl.values()].sort(
    (a, b) => b.priority - a.priority || (t(a.lastmod) === t(b.lastmod) ? 0 : t(a.lastmod) > t(b.lastmod) ? -1 : 1) || a.index - b.index,
  );
  return { plan: all.slice(0, limit).map(({ index: _index, ...p }) => p), priorityOf: new Map(all.map((p) => [p.url, p.priority])) };
}

const candidate = fc.record({
  n: fc.integer({ min: 0, max: 3000 }),
  priority: fc.constantFrom(0, 0.1, 0.5, 0.8, 1),
  month: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
  source: fc.constantFrom("config", "https://a.test/s1.xml", "https://a.test/s2.xml"),
});

const plan = (limit: number, candidates: WarmCandidate[]) =>
  planWarm({ name: "site", include: [], exclude: [], limit, allowedHosts: ["a.test"] }, candidates).urls.map(({ host: _host, ...p }) => p);

// 1,100+ candidates for limits up to 40: the planner compacts (keeps 2 × limit + 1024) several times per run.
describe("planWarm keeps memory bounded by the limit", () => {
  it("plans exactly what sorting every candidate gives when a URL's listings agree (the same page in several sitemaps)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(candidate, { minLength: 1100, maxLength: 2500 }), (limit, raw) => {
        // Every listing of page n carries the same priority and lastmod: those of its first listing.
        const first = new Map<number, (typeof raw)[number]>();
        for (const r of raw) if (!first.has(r.n)) first.set(r.n, r);
        const candidates: WarmCandidate[] = raw.map((r) => {
          const f = first.get(r.n)!;
          return {
            url: `https://a.test/p/${r.n}`,
            priority: f.priority,
            ...(f.month ? { lastmod: `2026-${String(f.month).padStart(2, "0")}-01` } : {}),
            source: r.source,
          };
        });
        expect(plan(limit, candidates)).toEqual(reference(limit, candidates).plan);
      }),
      { numRuns: 40, endOnFailure: true },
    );
  });

  it("never plans a URL over one of higher priority, and each planned URL has its highest priority, whatever the listings", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(candidate, { minLength: 1100, maxLength: 2500 }), (limit, raw) => {
        const candidates: WarmCandidate[] = raw.map((r) => ({
          url: `https://a.test/p/${r.n}`,
          priority: r.priority,
          ...(r.month ? { lastmod: `2026-${String(r.month).padStart(2, "0")}-01` } : {}),
          source: r.source,
        }));
        const got = plan(limit, candidates);
        const ref = reference(limit, candidates);
        expect(got.map((p) => p.priority)).toEqual(ref.plan.map((p) => p.priority));
        expect(new Set(got.map((p) => p.url)).size).toBe(got.length);
        for (const p of got) expect(p.priority).toBe(ref.priorityOf.get(p.url));
      }),
      { numRuns: 40, endOnFailure: true },
    );
  });

  it("lists at most SKIPPED_LISTED_PER_KIND skipped URLs per kind and counts them all", () => {
    const candidates = Array.from({ length: 5000 }, (_, i) => ({ url: `https://a.test/p/${i}`, priority: 0.5, source: "config" }));
    const p = planWarm({ name: "site", include: [], exclude: [], limit: 10, allowedHosts: ["a.test"] }, candidates);
    expect(p.skippedByKind).toEqual({ "over-limit": 4990 });
    expect(p.skipped).toHaveLength(SKIPPED_LISTED_PER_KIND);
  });
});
