// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";

/**
 * Configuration section `cost`: thresholds for the daily Cost Explorer digest and its alerts.
 * Defaults are the runbook's: daily spend over $500, a month-end projection over $15,000 and a
 * service spending more than 1.5× (+50 %) its trailing 7-day median.
 *
 * The run time (a morning cron) and its timezone are the top-level `schedules.cost` and `timezone`.
 * Cost Explorer days are UTC days whatever the timezone: the digest covers the last complete UTC day.
 */

/** Cost Explorer metric names as GetCostAndUsage spells them. */
export const CostMetricSchema = z.enum(["UnblendedCost", "NetUnblendedCost", "AmortizedCost", "NetAmortizedCost", "BlendedCost"]);
export type CostMetric = z.output<typeof CostMetricSchema>;

export const CostFindingKindSchema = z.enum(["daily-total", "forecast", "spike", "new-service"]);

export const CostConfigSchema = z
  .object({
    metric: CostMetricSchema.default("UnblendedCost"),
    /** A finding when the last complete day's total is over this (in the billing currency: Cost Explorer's `Unit`). */
    dailyThreshold: z.number().positive().default(500),
    /** Monthly budget (billing currency): a finding when month-to-date plus AWS's forecast for the rest of the month exceeds it. */
    monthlyBudget: z.number().positive().default(15_000),
    spike: z
      .object({
        /** A service spikes when its day is over `ratio` × its trailing median ... */
        ratio: z.number().gt(1).default(1.5),
        /** ... and at least this many dollars over it, so a $0.02 → $0.05 jump pages nobody. */
        minIncrease: z.number().min(0).default(20),
        /** Days before the reported day the median is taken over. */
        trailingDays: z.number().int().min(3).max(28).default(7),
      })
      .strict()
      .prefault({}),
    newService: z
      .object({
        /** A service with no spend on any earlier day of the window is reported once it spends this much in a day. */
        minDaily: z.number().min(0).default(10),
      })
      .strict()
      .prefault({}),
    /** Days of history fetched (reported day included); at least trailing + 1 and the same weekday last week. */
    windowDays: z.number().int().min(8).max(60).default(14),
    /**
     * RECORD_TYPE values left out of every figure: credits and refunds turn totals negative or empty,
     * upfront fees and support are one-off monthly charges that are not usage.
     */
    excludeRecordTypes: z.array(z.string().min(1)).default(["Credit", "Refund", "Upfront", "Support"]),
    /**
     * Finding kinds that are alert incidents (core/cost-alerts.ts): a message when one starts, a line in each
     * morning's digest while it lasts, a message when it ends. Other kinds appear in the digest only.
     */
    immediateAlerts: z.array(CostFindingKindSchema).default(["daily-total", "forecast", "spike"]),
    /**
     * A new cost incident also pages (the pager topic and the alerts channel, core/notify-routing.ts). Off by
     * default: Cost Explorer's figures are a day old when the digest reads them, so waking someone buys no time
     * that the 09:00 alert in the cost channel does not.
     */
    page: z.boolean().default(false),
    /** Services listed under "top movers". */
    topMovers: z.number().int().min(1).max(10).default(5),
    /** Cost Explorer bills $0.01 per request: a run makes at most this many (pages included). */
    maxApiCalls: z.number().int().min(2).max(10).default(4),
    /** Base of the console links in the digest. */
    consoleUrl: z.url().default("https://us-east-1.console.aws.amazon.com/cost-management/home"),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.monthlyBudget < cfg.dailyThreshold) {
      ctx.addIssue({
        code: "custom",
        path: ["monthlyBudget"],
        message: `${cfg.monthlyBudget} is below dailyThreshold (${cfg.dailyThreshold}): a budget smaller than one day's threshold`,
      });
    }
    // RECORD_TYPE "Usage" is the usage itself: without it every figure is zero and no alert can fire.
    cfg.excludeRecordTypes.forEach((t, i) => {
      if (t === "Usage") ctx.addIssue({ code: "custom", path: ["excludeRecordTypes", i], message: "excluding Usage leaves no usage to report" });
    });
    if (cfg.windowDays < cfg.spike.trailingDays + 1) {
      ctx.addIssue({
        code: "custom",
        path: ["windowDays"],
        message: `must be at least spike.trailingDays + 1 (${cfg.spike.trailingDays + 1})`,
      });
    }
  })
  .prefault({});
export type CostConfig = z.output<typeof CostConfigSchema>;
