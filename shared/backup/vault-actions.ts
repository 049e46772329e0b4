/**
 * Outcome actions of the vault flow, in reports and notifications. Apart from vault.ts so a run that names
 * them (the summary, the metric) does not load the vault reconcile, which only a stage with a vault runs.
 */
export const VAULT_SHARE = 'share-with-vault';
export const VAULT_COPY = 'copy-to-vault';
export const VAULT_UNSHARE = 'unshare-from-vault';
export const VAULT_REENCRYPT = 'reencrypt-for-vault';
export const VAULT_DROP = 'delete-reencrypted-copy';
