// The namespace import lets the bundler leave out what is unused (all locales come with `{ z }`).
import * as z from "zod";

/**
 * Configuration section `alerts`: the alert lifecycle (core/alert-lifecycle.ts). A condition (stale backups of
 * one policy in one region, ...) posts a critical once when it starts, a reminder at most every
 * `remindEveryHours` while it lasts, and "resolved" once when it ends.
 */
export const AlertsConfigSchema = z
  .object({
    /** Least hours between two messages of one open incident (default 6: at most 4 reminders a day). */
    remindEveryHours: z.number().positive().max(168).default(6),
  })
  .strict()
  .prefault({});

export type AlertsConfig = z.output<typeof AlertsConfigSchema>;
