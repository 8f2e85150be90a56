import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (an esbuild alias in
 * esbuild.config.cjs). Lambda hands a function its role's credentials in environment variables,
 * and `sls invoke local` resolves the caller's credentials and injects them the same way, so the
 * node chain's SSO, INI, process, IMDS and web-identity providers (~90 KB minified, with their
 * nested STS/SSO clients) are dead weight at init. See docs/decisions/0002-bundling.md.
 */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
