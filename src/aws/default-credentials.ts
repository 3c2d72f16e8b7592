import type { defaultProvider as chainProvider } from '@aws-sdk/credential-provider-node';
import { LAZY_BUNDLES } from '../agent/lazy-bundles';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the ECR and role
 * bundles (scripts/build.ts points the SDK's import here): the same
 * `defaultProvider`, but the chain's code (a third of the SDK side, with the
 * STS and SSO clients it uses) loads at the first credentials asked of it.
 * An action with keys never asks, so never loads it.
 */
export const defaultProvider: typeof chainProvider = (init) => {
  let provider: ReturnType<typeof chainProvider> | undefined;
  return async (props) => {
    if (provider === undefined) {
      (await import('../agent/code-cache')).preloadWithCodeCache(LAZY_BUNDLES.credentialChain);
      provider = (await import('./credential-chain')).defaultProvider(init);
    }
    return provider(props);
  };
};
