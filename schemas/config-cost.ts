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

export const CostFindingKindSchema = z.enum(["daily-total", "forecast", "spike", "new-service", "account-daily"]);

/** A 12-digit AWS account id, as Cost Explorer's LINKED_ACCOUNT dimension values are. */
const AccountIdSchema = z.string().regex(/^\d{12}$/, "expected a 12-digit AWS account id");

const LinkedAccountSchema = z
  .object({
    id: AccountIdSchema,
    /**
     * Shown when Cost Explorer's answer carries no name for the account (its `DimensionValueAttributes` description,
     * the account's name in AWS Organizations, comes first). Organizations account names are 1 to 50 characters.
     */
    name: z.string().min(1).max(50).optional(),
    /** A finding (incident `cost:account:<id>`) when this account's day is over this; default `accounts.dailyThreshold`. */
    dailyThreshold: z.number().positive().optional(),
  })
  .strict();

/**
 * Spend by linked account, for a deployment in an organization's management (payer) account: Cost Explorer there
 * answers for every member account (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsage.html,
 * "Management account in an organization in AWS Organizations have access to all member accounts"). In a member
 * account the same query returns that account alone.
 */
export const CostAccountsSchema = z
  .object({
    /** Group the day's spend by LINKED_ACCOUNT too (one more GetCostAndUsage query, $0.01); false keeps the section for later. */
    byAccount: z.boolean().default(true),
    /** Accounts listed in the digest, largest spend of the reported day first. */
    top: z.number().int().min(1).max(20).default(5),
    /** Daily threshold of every linked account without its own in `linked`; none when absent. */
    dailyThreshold: z.number().positive().optional(),
    /** Names and thresholds of particular accounts (any other account is still shown, by its Cost Explorer name or id). */
    linked: z.array(LinkedAccountSchema).default([]),
  })
  .strict()
  .superRefine((accounts, ctx) => {
    const seen = new Map<string, number>();
    accounts.linked.forEach((a, i) => {
      const first = seen.get(a.id);
      if (first !== undefined) ctx.addIssue({ code: "custom", path: ["linked", i, "id"], message: `${a.id} is already listed at linked[${first}]` });
      else seen.set(a.id, i);
    });
    if (!accounts.byAccount && (accounts.dailyThreshold !== undefined || accounts.linked.some((a) => a.dailyThreshold !== undefined))) {
      ctx.addIssue({ code: "custom", path: ["byAccount"], message: "account thresholds need byAccount: true (no spend by account is fetched otherwise)" });
    }
  });
export type CostAccountsConfig = z.output<typeof CostAccountsSchema>;

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
    immediateAlerts: z.array(CostFindingKindSchema).default(["daily-total", "forecast", "spike", "account-daily"]),
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
    /** Spend by linked account (a payer account's digest); absent: the digest shows the deploying account's spend by service only. */
    accounts: CostAccountsSchema.optional(),
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
    // By account is a second GetCostAndUsage query: with the forecast, three calls on a normal day.
    if (cfg.accounts?.byAccount && cfg.maxApiCalls < 3) {
      ctx.addIssue({
        code: "custom",
        path: ["maxApiCalls"],
        message: `must be at least 3 with accounts.byAccount (one query by service, one by account, the forecast); now ${cfg.maxApiCalls}`,
      });
    }
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
