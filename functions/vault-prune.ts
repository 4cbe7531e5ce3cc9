import { createHandler } from "../runbooks/lib/handler.ts";
import { runVaultPrune } from "../runbooks/vault/prune.ts";
import { parseVaultPruneEvent } from "../schemas/events-vault.ts";

/** The vault's own retention, in the backup account (runbooks/vault/prune.ts): deployed by the vault stage (stacks/vault-definition.ts). */
export const handler = createHandler({ name: "vault-prune", parse: parseVaultPruneEvent, run: (event, ctx) => runVaultPrune(event, ctx) });
