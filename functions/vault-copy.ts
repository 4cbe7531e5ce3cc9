import { createHandler } from "../runbooks/lib/handler.ts";
import { runVaultCopy } from "../runbooks/vault/copy.ts";
import { parseVaultCopyEvent } from "../schemas/events-vault.ts";

/** The vault's copy job, in the backup account (runbooks/vault/copy.ts): deployed by the vault stage (stacks/vault-definition.ts). */
export const handler = createHandler({ name: "vault-copy", parse: parseVaultCopyEvent, run: (event, ctx) => runVaultCopy(event, ctx) });
